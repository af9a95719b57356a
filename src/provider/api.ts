// One provider's batch API as the job's batch loop sees it (send-batches.ts): upload a chunk,
// create its batch (tagged with the job, chunk and tags), find a batch created and not recorded,
// poll, cancel, and stream the results. Each provider implements it in its own folder.

/** A batch as the provider last described it. */
export interface BatchInfo {
  id: string;
  /** The provider's own status word (OpenAI: validating ... completed; Anthropic: in_progress, ended). */
  status: string;
  /** True once the batch will change no more: its results (if any) can be downloaded. */
  ended: boolean;
  counts: Record<string, number> | null;
  outputFile: string | null;
  errorFile: string | null;
  /** ms since the epoch. */
  createdAt: number;
  endedAt: number | null;
  /** The first batch-level error (e.g. token_limit_exceeded), when the batch failed whole. */
  error: { code: string; message: string } | null;
}

/** One answer of a batch, in the terms of a self-hosted run's output line. */
export interface ResultLine {
  /** The id the row was submitted under. */
  customId: string;
  /** HTTP status of the answer, or null for a failure without one. */
  status: number | null;
  requestId: string;
  /** The answer's body as raw JSON text, or null. */
  body: string | null;
  error: { code: string; message: string } | null;
  /** The provider's own line for the row, when it is in the job's own format (Anthropic's). */
  native?: string | undefined;
}

export interface ChunkTag {
  jobId: string;
  chunk: number;
  tags: Record<string, string>;
  /** When the chunk was planned (ms): no batch of it can be older. */
  since: number;
  /** Rows in the chunk. */
  rows: number;
  /** Batches already recorded for the job's other chunks (never this chunk's). */
  known?: ReadonlySet<string> | undefined;
}

export interface ProviderApi {
  readonly name: string;
  /** The provider's own limits on one batch. */
  readonly maxRows: number;
  readonly maxBytes: number;
  /** Uploads a chunk's input file; returns its id (null when the API takes requests inline). */
  upload(path: string, name: string): Promise<string | null>;
  /** Creates the chunk's batch. Throws QueueFull when the provider refuses it for now. */
  create(tag: ChunkTag, fileId: string | null, path: string, endpoint: string): Promise<BatchInfo>;
  /** The batch of this chunk that was created but not recorded, if the provider has one. */
  find(tag: ChunkTag): Promise<BatchInfo | undefined>;
  retrieve(id: string): Promise<BatchInfo>;
  cancel(id: string): Promise<void>;
  /** The ended batch's answers, streamed. Throws ResultsGone when the provider no longer has them. */
  results(batch: BatchInfo): AsyncIterable<ResultLine>;
}

/** The provider refused a new batch for now (a queue or rate limit): wait, then try again. */
export class QueueFull extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = "QueueFull";
  }
}

/** The provider no longer has a batch's results (its retention ended). */
export class ResultsGone extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = "ResultsGone";
  }
}

/** The metadata every batch carries, so spend can be told apart and an unrecorded batch found. */
export function batchMetadata(tag: ChunkTag): Record<string, string> {
  return { vbatch_job: tag.jobId, vbatch_chunk: String(tag.chunk), ...tag.tags };
}
