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
