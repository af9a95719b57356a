// What the journal keeps of a job sent to a provider's batch API, in shapes free of SQLite's
// types: one record a chunk (its file and batch ids, status and counts) and the ledger that
// reads and writes them (batches.ts). A chunk's life, each step recorded before the next:
//   planned  its rows are chosen and mapped to it (nothing exists at the provider yet)
//   uploaded its input file id is recorded (the batch may have been created and not recorded:
//            a resumed job looks for it by its metadata before it creates one)
//   created  its batch id is recorded; it is polled until it ends
//   done     its output and error files are committed; its unanswered rows are released

export type ChunkState = "planned" | "uploaded" | "created" | "done";

export interface ChunkRecord {
  chunk: number;
  provider: string;
  url: string;
  state: ChunkState;
  rows: number;
  bytes: number;
  plannedAt: number;
  fileId: string | null;
  batchId: string | null;
  status: string | null;
  /** The provider's request counts, as it sent them. */
  counts: Record<string, number> | null;
  outputFile: string | null;
  errorFile: string | null;
  endedAt: number | null;
  promptTokens: number;
  completionTokens: number;
  note: string | null;
}

/** What a poll learnt about a chunk's batch. */
export interface ChunkStatus {
  status: string;
  counts: Record<string, number> | null;
  outputFile?: string | null | undefined;
  errorFile?: string | null | undefined;
  endedAt?: number | null | undefined;
}

/** A pending row with the fingerprint of its line (the row reader proves each line with it). */
export interface LedgerRow {
  line: number;
  fp: number | null;
  customId: string;
}

export interface BatchLedger {
  /** Every chunk, oldest first (an empty list for a journal that never used a provider). */
  chunks(): ChunkRecord[];
  /** Chunks not done yet, oldest first. */
  open(): ChunkRecord[];
  /** Records a new chunk holding `lines`, each counted as one more submission; returns its number. */
  plan(provider: string, url: string, lines: number[], bytes: number): number;
  /** Forgets a chunk that never reached the provider; its rows go back unsubmitted. */
  drop(chunk: number): void;
  setFile(chunk: number, fileId: string | null): void;
  setBatch(chunk: number, batchId: string, status: string): void;
  setStatus(chunk: number, s: ChunkStatus): void;
  /** Adds the provider's token counts for rows committed from this chunk. */
  addTokens(chunk: number, prompt: number, completion: number): void;
  /**
   * Ends a chunk: its rows still pending leave it, to be submitted again (`uncount`: the
   * submission does not count against --max-attempts, e.g. a queue-limit refusal).
   */
  finish(chunk: number, note: string | null, uncount: boolean): void;
  /** Pending rows in no open chunk, after `line`, in line order. */
  unassignedPage(line: number, limit: number): LedgerRow[];
  /** Pending rows of `chunk`, after `line`, in line order. */
  chunkPage(chunk: number, line: number, limit: number): LedgerRow[];
  /** The endpoint of a chunk's rows, once its file is written. */
  setUrl(chunk: number, url: string): void;
  /** Pending rows in no open chunk. */
  countUnassigned(): number;
  /** Pending rows in no open chunk, from the end of the input: lines below `before`, highest first. */
  tailPage(before: number, limit: number): LedgerRow[];
  /** Submissions of a row so far. */
  attempts(line: number): number;
}
