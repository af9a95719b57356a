// The validation pass: reads the whole input once before anything is sent, records every valid
// row in the journal (which also finds duplicate custom_ids without holding them in memory) and
// collects every problem with its line number.
import { createHash } from "node:crypto";
import { VbatchError } from "../errors.js";
import { articled, formatNamed } from "../formats/index.js";
import type { FormatName } from "../formats/types.js";
import { lineFingerprint } from "../input/fingerprint.js";
import { readLineBatches } from "../input/lines.js";
import { type NotJsonl, notJsonlLine, notJsonlMessage } from "../input/not-jsonl.js";
import { openInput } from "../input/open.js";
import { MAX_CUSTOM_ID_LENGTH, parseLine } from "../input/row.js";
import { usesRemovedGuidedFields } from "../input/structured.js";
import type { InvalidLine, Journal } from "../journal/journal.js";
import { shardOf } from "../shard/shard.js";
import { cutId, echoId } from "../util/echo.js";
import { type DedupeMode, dedupeKey } from "./dedupe.js";

/** How many problems an error message lists before it only counts the rest. */
export const MAX_LISTED_PROBLEMS = 20;

export interface IngestResult {
  sha256: string;
  /** Bytes read (of the decompressed input): what the validated rows were cut from. */
  bytes: number;
  rows: number;
  invalid: number;
  rowsWithoutModel: number;
  /** The format of the file's requests (every row must share it). */
  format: FormatName | null;
  /** Rows using guided_json and friends, which vLLM silently ignores since v0.12. */
  guidedRows: number;
  /** The first problems, as "line N: message". */
  problems: string[];
  /** Rows per model named in the input (at most MAX_MODELS names), and the first line of each. */
  models: Map<string, ModelUse>;
  /** The file is JSON but not JSONL (an array, pretty-printed objects): where it shows. */
  notJsonl: NotJsonl | null;
}

export interface ModelUse {
  rows: number;
  firstLine: number;
}

/** Distinct model names kept for the check against what the engines serve. */
export const MAX_MODELS = 1000;

/** How far the validation pass has read, for a progress line on big files. */
export interface IngestProgress {
  lines: number;
  /** Bytes of (decompressed) input read so far. */
  bytes: number;
}

/** This process's part of an input split across orchestrators: shard `index` of `count`. */
export interface Shard {
  index: number;
  count: number;
}

export async function ingestInput(
  path: string,
  journal: Journal,
  shard?: Shard,
  dedupe: DedupeMode = "off",
  onProgress?: (p: IngestProgress) => void,
  /** Reads every line as this format; without it the first valid line decides. */
  format?: FormatName,
  maxLineBytes?: number,
): Promise<IngestResult> {
  // Rows belong to the shard their custom_id hashes to; a line with no usable id, by its number.
  const mine = (customId: string | undefined, lineNo: number) =>
    !shard ||
    shard.count === 1 ||
    (customId !== undefined ? shardOf(customId, shard.count) : lineNo % shard.count) === shard.index;
  const hash = createHash("sha256");
  const result: IngestResult = {
    sha256: "",
    bytes: 0,
    rows: 0,
    invalid: 0,
    rowsWithoutModel: 0,
    guidedRows: 0,
    format: format ?? null,
    problems: [],
    models: new Map(),
    notJsonl: null,
  };
  const read: IngestProgress = { lines: 0, bytes: 0 };
  const note = (inv: InvalidLine) => {
    result.invalid++;
    if (result.problems.length < MAX_LISTED_PROBLEMS)
      result.problems.push(`line ${inv.line}: ${inv.message}`);
  };
  for await (const batch of readLineBatches(
    openInput(path),
    (chunk) => {
      hash.update(chunk);
      read.bytes += chunk.length;
    },
    maxLineBytes,
  )) {
    const valid: { line: number; customId: string; dkey: string | null; fp: number }[] = [];
    const invalid: InvalidLine[] = [];
    for (const line of batch) {
      let parsed = parseLine(line, format);
      if (!parsed.ok && result.notJsonl === null) {
        result.notJsonl = notJsonlLine(line.text, line.lineNo, read.lines === 0 && line === batch[0]);
      }
      if (!mine(parsed.ok ? parsed.row.customId : parsed.customId, line.lineNo)) continue;
      if (parsed.ok) {
        result.format ??= parsed.row.format;
        if (parsed.row.format !== result.format) {
          const was = formatNamed(result.format).label;
          parsed = {
            ok: false,
            customId: parsed.row.customId,
            message: `${articled(formatNamed(parsed.row.format).label)} request in a file of ${was} requests (one format a file; --format ${result.format} reads every line as ${was})`,
          };
        }
      }
      if (parsed.ok) {
        // A row whose result repeats its input (Bedrock) is never answered by another row's request.
        const dkey =
          parsed.row.shape?.echo === undefined
            ? dedupeKey(dedupe, parsed.row.url, parsed.row.body, parsed.row.bodyText)
            : null;
        valid.push({
          line: line.lineNo,
          customId: parsed.row.customId,
          dkey,
          fp: lineFingerprint(line.raw),
        });
        const model = parsed.row.body.model;
        if (typeof model !== "string") result.rowsWithoutModel++;
        else {
          const use = result.models.get(model);
          if (use) use.rows++;
          else if (result.models.size < MAX_MODELS)
            result.models.set(model, { rows: 1, firstLine: line.lineNo });
        }
        if (usesRemovedGuidedFields(parsed.row.body)) result.guidedRows++;
      } else {
        // An id over the length limit is not a key: what is kept of it (and echoed) is bounded.
        const id = parsed.customId;
        const customId = id !== undefined && id.length > MAX_CUSTOM_ID_LENGTH ? cutId(id) : id;
        const inv = { line: line.lineNo, customId, message: parsed.message };
        invalid.push(inv);
        note(inv);
      }
    }
    read.lines = (batch[batch.length - 1] as (typeof batch)[number]).lineNo;
    onProgress?.(read);
    const dups = journal.ingest(valid, invalid);
    result.rows += valid.length - dups.length;
    if (dups.length > 0) {
      const dupLines = dups.map((d) => ({
        line: d.line,
        customId: d.customId,
        message: `duplicate custom_id ${echoId(d.customId)} (first on line ${d.firstLine})`,
      }));
      journal.recordInvalid(dupLines);
      for (const d of dupLines) note(d);
    }
  }
  result.sha256 = hash.digest("hex");
  result.bytes = read.bytes;
  onProgress?.(read);
  return result;
}

/** The error for an input with problems, listing the first ones with their line numbers. */
export function invalidInputError(displayPath: string, result: IngestResult): VbatchError {
  const n = result.invalid;
  if (result.notJsonl && result.rows === 0) {
    return new VbatchError("invalid_input", notJsonlMessage(displayPath, result.notJsonl));
  }
  const details = [...result.problems];
  if (n > result.problems.length) details.push(`... and ${n - result.problems.length} more`);
  if (result.notJsonl) details.push(notJsonlMessage(displayPath, result.notJsonl));
  details.push(
    "Nothing was sent. Fix these lines, or pass --skip-invalid to send the valid rows and list these in the errors file.",
  );
  return new VbatchError("invalid_input", `${displayPath}: ${n} invalid line${n === 1 ? "" : "s"}`, {
    details,
  });
}
