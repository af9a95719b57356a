// validateInput(): the run's validation pass as its own command. Streams the file once; custom_ids
// and prompt hashes go to a scratch SQLite file (flat memory on 10 M rows); with --endpoint or
// --max-model-len it also finds rows too long for the model's context.
import { resolve } from "node:path";
import type { FormatName } from "../../formats/types.js";
import { readLineBatches } from "../../input/lines.js";
import { type NotJsonl, notJsonlLine, notJsonlMessage } from "../../input/not-jsonl.js";
import { openInputOnce } from "../../input/open.js";
import { parseLine } from "../../input/row.js";
import { requestHash } from "../../job/dedupe.js";
import { echoId } from "../../util/echo.js";
import { ProblemList } from "../problems.js";
import { promptOf } from "../prompt.js";
import { ScratchDb } from "../scratch-db.js";
import { type CheckedRow, type ContextOptions, type ContextReport, contextChecker } from "./context.js";
import { addRow, emptyStats, type InputStats } from "./stats.js";

export interface ValidateOptions extends ContextOptions {
  /** Input .jsonl or .jsonl.gz, or "-" for stdin. */
  input: string;
  /** Read every line as this format (openai, anthropic, gemini, bedrock). @default each line's own */
  format?: FormatName | undefined;
  /** Longest line accepted, in bytes. @default 64 MiB */
  maxLineBytes?: number | undefined;
  /** Context length to check rows against (overrides the engine's). */
  maxModelLen?: number | undefined;
  /** A live engine: its /v1/models gives max_model_len and its /tokenize exact prompt lengths. */
  endpoint?: string | undefined;
  /** Model for rows without body.model. @default the engine's only model */
  model?: string | undefined;
  /** /tokenize calls in flight. @default 16 */
  concurrency?: number | undefined;
  /** Where the scratch database goes. @default os.tmpdir() */
  scratchDir?: string | undefined;
}

export interface ValidateReport extends InputStats {
  input: string;
  /** Non-blank lines read. */
  lines: number;
  /** Valid rows (each custom_id counted once). */
  rows: number;
  /** Every problem found (invalid lines, duplicate custom_ids, rows too long). */
  problemCount: number;
  /** The first problems (at most 20), as "line N: message". */
  problems: string[];
  /** The context-length check, when one ran. */
  context: ContextReport | null;
  /** The file is JSON but not JSONL, when no line of it is a row: one line saying so and the fix. */
  notJsonl: string | null;
  ok: boolean;
}

export async function validateInput(o: ValidateOptions): Promise<ValidateReport> {
  const checker = await contextChecker(o);
  const stats = emptyStats();
  const problems = new ProblemList();
  const scratch = new ScratchDb(o.scratchDir);
  let lines = 0;
  let rows = 0;
  let shape: NotJsonl | null = null;
  try {
    const db = scratch.db;
    db.exec(`CREATE TABLE ids (custom_id TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID;
             CREATE TABLE prompts (hash BLOB PRIMARY KEY) WITHOUT ROWID;`);
    const insertId = db.prepare<[string, number]>("INSERT OR IGNORE INTO ids VALUES (?, ?)");
    const firstLine = db.prepare<[string], { line: number }>("SELECT line FROM ids WHERE custom_id = ?");
    const insertPrompt = db.prepare<[Buffer]>("INSERT OR IGNORE INTO prompts VALUES (?)");
    for await (const batch of readLineBatches(openInputOnce(o.input), undefined, o.maxLineBytes)) {
      const found: { line: number; message: string }[] = [];
      const valid: CheckedRow[] = [];
      db.transaction(() => {
        for (const l of batch) {
          lines++;
          const parsed = parseLine(l, o.format);
          if (!parsed.ok && shape === null) shape = notJsonlLine(l.text, l.lineNo, lines === 1);
          if (!parsed.ok) {
            found.push({ line: l.lineNo, message: `line ${l.lineNo}: ${parsed.message}` });
            continue;
          }
          const row = parsed.row;
          if (insertId.run(row.customId, l.lineNo).changes === 0) {
            const first = firstLine.get(row.customId)?.line;
            found.push({
              line: l.lineNo,
              message: `line ${l.lineNo}: duplicate custom_id ${echoId(row.customId)} (first on line ${first})`,
            });
            continue;
          }
          rows++;
          if (insertPrompt.run(requestHash(row.url, row.bodyText)).changes === 0) stats.duplicatePrompts++;
          const prompt = promptOf(row);
          addRow(stats, row, l.lineNo, prompt.chars);
          valid.push({ row, line: l.lineNo, prompt });
        }
      })();
      if (checker) await checker.check(valid, found);
      problems.addSorted(found);
    }
  } finally {
    scratch.close();
  }
  if (lines === 0) problems.add("no request lines (empty file)");
  return {
    input: o.input === "-" ? "stdin" : resolve(o.input),
    lines,
    rows,
    ...stats,
    problemCount: problems.count,
    problems: [...problems.listed],
    context: checker?.report ?? null,
    notJsonl: shape && rows === 0 ? notJsonlMessage(o.input === "-" ? "stdin" : o.input, shape) : null,
    ok: problems.count === 0,
  };
}
