// The validation pass: reads the whole input once before anything is sent, records every valid
// row in the journal (which also finds duplicate custom_ids without holding them in memory) and
// collects every problem with its line number.
import { createHash } from "node:crypto";
import { VbatchError } from "../errors.js";
import { articled, formatNamed } from "../formats/index.js";
import type { FormatName } from "../formats/types.js";
import { lineFingerprint } from "../input/fingerprint.js";
import { type InputLine, readLineBatches } from "../input/lines.js";
import { type NotJsonl, notJsonlLine, notJsonlMessage } from "../input/not-jsonl.js";
import { openInput } from "../input/open.js";
import { maxTokensOf, prefixKey } from "../input/prefix-key.js";
import { MAX_CUSTOM_ID_LENGTH, parseLine } from "../input/row.js";
import { usesRemovedGuidedFields } from "../input/structured.js";
import type { InvalidLine, Journal, RowPrompt } from "../journal/journal.js";
import { type Shard, shardOf } from "../shard/shard.js";
import { cutId, echoId } from "../util/echo.js";
import { type DedupeMode, dedupeKey } from "./dedupe.js";
import { SharedPrefixes } from "./shared-prefixes.js";

/** How many problems an error message lists before it only counts the rest. */
export const MAX_LISTED_PROBLEMS = 20;

export type { Shard };

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
  /** Whether rows share prompt prefixes (see input/prefix-key.ts). */
  prefixes: SharedPrefixes;
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
  const mine = inShard(shard);
  const hash = createHash("sha256");
  const result = emptyResult(format);
  const read: IngestProgress = { lines: 0, bytes: 0 };
  const onChunk = (chunk: Buffer) => {
    hash.update(chunk);
    read.bytes += chunk.length;
  };
  for await (const batch of readLineBatches(openInput(path), onChunk, maxLineBytes)) {
    const valid: ValidLine[] = [];
    const invalid: InvalidLine[] = [];
    for (const line of batch) {
      let parsed = parseLine(line, format);
      if (!parsed.ok && result.notJsonl === null) {
        result.notJsonl = notJsonlLine(line.text, line.lineNo, read.lines === 0 && line === batch[0]);
      }
      if (!mine(parsed.ok ? parsed.row.customId : parsed.customId, line.lineNo)) continue;
      if (parsed.ok) parsed = oneFormat(parsed, result);
      if (parsed.ok) valid.push(countValid(result, parsed.row, line, dedupe));
      else invalid.push(noteInvalid(result, parsed, line.lineNo));
    }
    read.lines = (batch[batch.length - 1] as (typeof batch)[number]).lineNo;
    onProgress?.(read);
    record(journal, valid, invalid, result);
  }
  result.sha256 = hash.digest("hex");
  result.bytes = read.bytes;
  onProgress?.(read);
  return result;
}

type ValidLine = Parameters<Journal["ingest"]>[0][number];
type Parsed = ReturnType<typeof parseLine>;
type ParsedRow = Extract<Parsed, { ok: true }>["row"];

/** Rows belong to the shard their custom_id hashes to; a line with no usable id, by its number. */
function inShard(shard: Shard | undefined): (customId: string | undefined, lineNo: number) => boolean {
  return (customId, lineNo) =>
    !shard ||
    shard.count === 1 ||
    (customId !== undefined ? shardOf(customId, shard.count) : lineNo % shard.count) === shard.index;
}

function emptyResult(format: FormatName | undefined): IngestResult {
  return {
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
    prefixes: new SharedPrefixes(),
  };
}

/** One format a file: the first valid row decides, a row of another format is invalid. */
function oneFormat(parsed: Extract<Parsed, { ok: true }>, result: IngestResult): Parsed {
  result.format ??= parsed.row.format;
  if (parsed.row.format === result.format) return parsed;
  const was = formatNamed(result.format).label;
  return {
    ok: false,
    customId: parsed.row.customId,
    message: `${articled(formatNamed(parsed.row.format).label)} request in a file of ${was} requests (one format a file; --format ${result.format} reads every line as ${was})`,
  };
}

/** Counts a valid row (its model, removed guided fields) and returns what the journal keeps. */
function countValid(result: IngestResult, row: ParsedRow, line: InputLine, dedupe: DedupeMode): ValidLine {
  // A row whose result repeats its input (Bedrock) is never answered by another row's request.
  const dkey = row.shape?.echo === undefined ? dedupeKey(dedupe, row.url, row.body, row.bodyText) : null;
  const model = row.body.model;
  if (typeof model !== "string") result.rowsWithoutModel++;
  else {
    const use = result.models.get(model);
    if (use) use.rows++;
    else if (result.models.size < MAX_MODELS) result.models.set(model, { rows: 1, firstLine: line.lineNo });
  }
  if (usesRemovedGuidedFields(row.body)) result.guidedRows++;
  const prompt: RowPrompt = {
    key: prefixKey(row.url, row.body),
    off: line.offset,
    len: line.raw.length,
    // about four characters a token; the body's JSON around the prompt is a small share of it
    tokens: Math.ceil(row.bodyText.length / 4),
    maxTokens: maxTokensOf(row.body),
  };
  if (prompt.key !== 0) result.prefixes.see(prompt.key);
  result.prefixes.seeMaxTokens(prompt.maxTokens);
  return { line: line.lineNo, customId: row.customId, dkey, fp: lineFingerprint(line.raw), prompt };
}

function note(result: IngestResult, inv: InvalidLine): void {
  result.invalid++;
  if (result.problems.length < MAX_LISTED_PROBLEMS) result.problems.push(`line ${inv.line}: ${inv.message}`);
}

function noteInvalid(
  result: IngestResult,
  parsed: Extract<Parsed, { ok: false }>,
  line: number,
): InvalidLine {
  // An id over the length limit is not a key: what is kept of it (and echoed) is bounded.
  const id = parsed.customId;
  const customId = id !== undefined && id.length > MAX_CUSTOM_ID_LENGTH ? cutId(id) : id;
  const inv = { line, customId, message: parsed.message };
  note(result, inv);
  return inv;
}

/** One batch into the journal, whose custom_id index finds the duplicates. */
function record(journal: Journal, valid: ValidLine[], invalid: InvalidLine[], result: IngestResult): void {
  const dups = journal.ingest(valid, invalid);
  result.rows += valid.length - dups.length;
  if (dups.length === 0) return;
  const dupLines = dups.map((d) => ({
    line: d.line,
    customId: d.customId,
    message: `duplicate custom_id ${echoId(d.customId)} (first on line ${d.firstLine})`,
  }));
  journal.ingest([], dupLines);
  for (const d of dupLines) note(result, d);
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
