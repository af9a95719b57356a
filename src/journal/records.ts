// The shapes the journal hands out and takes in: row updates, invalid lines, counts, the
// committed lengths. Kept apart so readers of a journal need not load SQLite's types.
import type { FileOps } from "../io/file-ops.js";
import type { RowStateValue } from "./schema.js";

export interface RowUpdate {
  line: number;
  state: RowStateValue;
  status: number | null;
  promptTokens: number;
  completionTokens: number;
}

/** What the validation pass knows of a row's prompt: its prefix key, where its line is, its size. */
export interface RowPrompt {
  /** See input/prefix-key.ts; 0: nothing worth sharing. */
  key: number;
  /** Byte offset and length of the line in the (decompressed) input. */
  off: number;
  len: number;
  /** Prompt tokens, estimated. */
  tokens: number;
  maxTokens: number | null;
}

/** A valid row as the validation pass records it. */
export interface IngestRow {
  line: number;
  customId: string;
  dkey?: string | null;
  fp: number;
  prompt?: RowPrompt;
}

/** The values of one row insert, in column order. */
export type RowValues = [
  number,
  string,
  string | null,
  number | null,
  number,
  number,
  number | null,
  number | null,
  number | null,
  number | null,
  number | null,
];

export const INSERT_ROW =
  "INSERT OR IGNORE INTO rows (line, custom_id, dkey, dup_of, fp, pkey, off, len, ptok, maxt, lord) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/** The insert's values for a row; `leader`: the row whose answer it shares (dedupe), if any. */
export function rowValues(r: IngestRow, leader: number | null): RowValues {
  const p = r.prompt;
  const at = [p?.key ?? 0, p?.off ?? null, p?.len ?? null, p?.tokens ?? null, p?.maxTokens ?? null] as const;
  // longest first: the largest max_tokens, then the longest prompt (2^20 tokens outweigh any prompt)
  const lord = p ? -((p.maxTokens ?? 0) * 1048576 + Math.min(p.tokens, 1048575)) : null;
  return [r.line, r.customId, r.dkey ?? null, leader, r.fp, ...at, lord];
}

export interface InvalidLine {
  line: number;
  customId?: string | undefined;
  message: string;
}

export interface DuplicateId {
  line: number;
  customId: string;
  firstLine: number;
}

export interface JournalCounts {
  total: number;
  succeeded: number;
  failed: number;
  pending: number;
  invalid: number;
  promptTokens: number;
  completionTokens: number;
}

export function emptyCounts(): JournalCounts {
  return { total: 0, succeeded: 0, failed: 0, pending: 0, invalid: 0, promptTokens: 0, completionTokens: 0 };
}

/** The byte lengths up to which the output and errors files are committed. */
export interface Offsets {
  out: number;
  err: number;
}

/** A row still to send, with the fingerprint of its line as validated (null in older journals). */
export interface PendingRow {
  line: number;
  fp: number | null;
}

/** How a journal is opened: read-only (status, merge), and the file-operations seam of its commits. */
export interface JournalOpenOptions {
  readonly?: boolean;
  ops?: FileOps | undefined;
}

/** Orders the send pass can read the pending rows in besides the input's (journal/prefix-order.ts). */
export type RowOrder = "prefix" | "length";

/** A pending row with what reading it back from the input needs. */
export interface KeyedRow {
  line: number;
  fp: number | null;
  pkey: number;
  off: number;
  len: number;
  /** The row's place in the order (with its line): where the next page starts. */
  ord: number;
}
