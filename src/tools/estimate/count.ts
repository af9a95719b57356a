// The counting pass of an estimate: streams the input once, sizing every row's prompt with the
// chosen counter and its output by its max_tokens, and keeps the first N raw lines for a probe.

import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import type { FormatName } from "../../formats/types.js";
import { readLineBatches } from "../../input/lines.js";
import { type NotJsonl, notJsonlLine } from "../../input/not-jsonl.js";
import { openInputOnce } from "../../input/open.js";
import { type BatchRow, parseLine } from "../../input/row.js";
import { mapLimit } from "../map-limit.js";
import type { ModelTargets } from "../model-target.js";
import { ProblemList } from "../problems.js";
import {
  COMPLETION_DEFAULT_MAX_TOKENS,
  choices,
  type Prompt,
  promptOf,
  requestedMaxTokens,
} from "../prompt.js";
import type { TokenCounter } from "../tokens/counter.js";

export interface TokenTotals {
  rows: number;
  byUrl: Record<string, number>;
  promptTokens: number;
  /** The most output the rows may generate: max_tokens (or the assumption) times choices. */
  outputTokens: number;
  /** Chat rows with neither max_tokens nor max_completion_tokens (the assumption applied). */
  rowsWithoutMaxTokens: number;
  problems: ProblemList;
  /** The file is JSON but not JSONL: where it shows (see input/not-jsonl.ts). */
  notJsonl: NotJsonl | null;
}

export interface CountPassOptions {
  input: string;
  /** Read every line as this format. @default each line's own */
  format?: FormatName | undefined;
  /** Longest line accepted, in bytes. @default 64 MiB */
  maxLineBytes?: number | undefined;
  counter: TokenCounter;
  targets: ModelTargets;
  concurrency: number;
  /** Output tokens assumed for a chat row without a cap. */
  assumeOutputTokens: number;
  /** Copy the first `probeRows` valid lines here. */
  probe?: { rows: number; file: string } | undefined;
  /** Rows counted so far, after each batch of lines. */
  onRows?: ((rows: number) => void) | undefined;
}

function outputTokens(row: BatchRow, prompt: Prompt, assumed: number): { tokens: number; assumed: boolean } {
  const asked = requestedMaxTokens(row);
  if (prompt.kind === "embedding") return { tokens: 0, assumed: false };
  if (prompt.kind === "completion") {
    return {
      tokens: (asked ?? COMPLETION_DEFAULT_MAX_TOKENS) * Math.max(1, prompt.pieces.length) * choices(row),
      assumed: false,
    };
  }
  return { tokens: (asked ?? assumed) * choices(row), assumed: asked === null };
}

export async function countInput(o: CountPassOptions): Promise<TokenTotals> {
  const t: TokenTotals = {
    rows: 0,
    byUrl: {},
    promptTokens: 0,
    outputTokens: 0,
    rowsWithoutMaxTokens: 0,
    problems: new ProblemList(),
    notJsonl: null,
  };
  let first = true;
  const probeOut: WriteStream | undefined = o.probe ? createWriteStream(o.probe.file) : undefined;
  let probeLeft = o.probe?.rows ?? 0;
  try {
    for await (const batch of readLineBatches(openInputOnce(o.input), undefined, o.maxLineBytes)) {
      const found: { line: number; message: string }[] = [];
      const rows: { row: BatchRow; line: number; prompt: Prompt }[] = [];
      for (const l of batch) {
        const parsed = parseLine(l, o.format);
        if (!parsed.ok && t.notJsonl === null) t.notJsonl = notJsonlLine(l.text, l.lineNo, first);
        first = false;
        if (!parsed.ok) {
          found.push({ line: l.lineNo, message: `line ${l.lineNo}: ${parsed.message}` });
          continue;
        }
        rows.push({ row: parsed.row, line: l.lineNo, prompt: promptOf(parsed.row) });
        if (probeOut && probeLeft > 0) {
          probeLeft--;
          if (!probeOut.write(`${l.text}\n`)) await once(probeOut, "drain");
        }
      }
      await mapLimit(rows, o.concurrency, async ({ row, line, prompt }) => {
        const target = o.targets.resolve(row.body);
        if (!target.ok) return found.push({ line, message: `line ${line}: ${target.message}` });
        const counted = await o.counter.count(row, prompt, target.model);
        if (!counted.ok) return found.push({ line, message: `line ${line}: ${counted.message}` });
        const out = outputTokens(row, prompt, o.assumeOutputTokens);
        t.rows++;
        t.byUrl[row.url] = (t.byUrl[row.url] ?? 0) + 1;
        t.promptTokens += counted.tokens;
        t.outputTokens += out.tokens;
        if (out.assumed) t.rowsWithoutMaxTokens++;
      });
      t.problems.addSorted(found);
      o.onRows?.(t.rows);
    }
  } finally {
    if (probeOut) {
      probeOut.end();
      await once(probeOut, "close");
    }
  }
  return t;
}
