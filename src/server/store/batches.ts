// Batch records, shared by the OpenAI and Anthropic surfaces: one row per batch with OpenAI's
// lifecycle statuses; each surface renders it in its own shape.
import type Database from "better-sqlite3";

export type BatchStatus =
  | "validating"
  | "failed"
  | "in_progress"
  | "finalizing"
  | "completed"
  | "expired"
  | "cancelling"
  | "cancelled";

export const FINAL_STATUSES: readonly BatchStatus[] = ["failed", "completed", "expired", "cancelled"];

export function isFinal(status: BatchStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

export type BatchApi = "openai" | "anthropic";

/** One error of a failed batch, as OpenAI's `errors.data[]`. */
export interface BatchErrorEntry {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

export interface BatchRecord {
  seq: number;
  id: string;
  api: BatchApi;
  status: BatchStatus;
  endpoint: string;
  input_file_id: string | null;
  completion_window: string;
  /** JSON text */
  metadata: string | null;
  model: string | null;
  output_file_id: string;
  error_file_id: string;
  output_ready: number;
  errors_ready: number;
  /** JSON text of BatchErrorEntry[] */
  errors: string | null;
  total: number;
  succeeded: number;
  failed: number;
  /** Failed rows that failed because the batch expired (Anthropic reports them apart). */
  expired: number;
  prompt_tokens: number;
  completion_tokens: number;
  /** Times are ms since the epoch. */
  created_at: number;
  expires_at: number;
  in_progress_at: number | null;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  ended_at: number | null;
  /** Seconds the batch's output files live after they are made (OpenAI's output_expires_after). */
  output_expires_after: number | null;
}

export type NewBatch = Pick<
  BatchRecord,
  | "id"
  | "api"
  | "endpoint"
  | "input_file_id"
  | "completion_window"
  | "metadata"
  | "output_file_id"
  | "error_file_id"
  | "created_at"
  | "expires_at"
  | "total"
  | "output_expires_after"
>;

export type BatchPatch = Partial<Omit<BatchRecord, "seq" | "id">>;

export interface PageQuery {
  /** Older than this id (the next page of a newest-first list). */
  after?: string | undefined;
  /** Newer than this id. */
  before?: string | undefined;
  limit: number;
}

export class BatchStore {
  private readonly patchStmts = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  insert(b: NewBatch): BatchRecord {
    this.db
      .prepare(
        `INSERT INTO batches (id, api, status, endpoint, input_file_id, completion_window, metadata,
           output_file_id, error_file_id, created_at, expires_at, total, output_expires_after)
         VALUES (@id, @api, 'validating', @endpoint, @input_file_id, @completion_window, @metadata,
           @output_file_id, @error_file_id, @created_at, @expires_at, @total, @output_expires_after)`,
      )
      .run(b);
    return this.get(b.id) as BatchRecord;
  }

  get(id: string): BatchRecord | undefined {
    return this.db.prepare("SELECT * FROM batches WHERE id = ?").get(id) as BatchRecord | undefined;
  }

  /** Column names come from the typed patch keys, never from a client. */
  update(id: string, patch: BatchPatch): BatchRecord {
    const keys = Object.keys(patch).sort();
    if (keys.length > 0) {
      const sig = keys.join(",");
      let stmt = this.patchStmts.get(sig);
      if (!stmt) {
        stmt = this.db.prepare(
          `UPDATE batches SET ${keys.map((k) => `${k} = @${k}`).join(", ")} WHERE id = @id`,
        );
        this.patchStmts.set(sig, stmt);
      }
      stmt.run({ ...patch, id });
    }
    return this.get(id) as BatchRecord;
  }

  delete(id: string): void {
    this.db.prepare("DELETE FROM batches WHERE id = ?").run(id);
  }

  /** Newest first, as both APIs list. */
  page(api: BatchApi, q: PageQuery): { data: BatchRecord[]; hasMore: boolean } {
    const where = ["api = ?"];
    const params: (string | number)[] = [api];
    let order = "DESC";
    if (q.after) {
      const c = this.get(q.after);
      if (c) {
        where.push("seq < ?");
        params.push(c.seq);
      }
    } else if (q.before) {
      const c = this.get(q.before);
      if (c) {
        where.push("seq > ?");
        params.push(c.seq);
        order = "ASC"; // the page right before the cursor, reversed below
      }
    }
    const rows = this.db
      .prepare(`SELECT * FROM batches WHERE ${where.join(" AND ")} ORDER BY seq ${order} LIMIT ?`)
      .all(...params, q.limit + 1) as BatchRecord[];
    const data = rows.slice(0, q.limit);
    if (order === "ASC") data.reverse();
    return { data, hasMore: rows.length > q.limit };
  }

  /** The newest batches of both APIs, newest first (the dashboard). */
  recent(limit: number): BatchRecord[] {
    return this.db.prepare("SELECT * FROM batches ORDER BY seq DESC LIMIT ?").all(limit) as BatchRecord[];
  }

  /** Batches a restarted server must pick up again, oldest first. */
  unfinished(): BatchRecord[] {
    return this.db
      .prepare(
        "SELECT * FROM batches WHERE status IN ('validating','in_progress','finalizing','cancelling') ORDER BY seq",
      )
      .all() as BatchRecord[];
  }

  endedBefore(time: number): BatchRecord[] {
    return this.db
      .prepare("SELECT * FROM batches WHERE ended_at IS NOT NULL AND ended_at <= ?")
      .all(time) as BatchRecord[];
  }
}
