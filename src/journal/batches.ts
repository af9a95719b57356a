// The ledger of a job sent to a provider's batch API (see batch-records.ts), kept in the job's
// journal beside its rows: every write goes through the journal's one claimed write transaction,
// so a process that lost the job records nothing.
import type { BatchLedger, ChunkRecord, ChunkState, ChunkStatus, LedgerRow } from "./batch-records.js";
import type { JournalFile } from "./journal-file.js";

interface ChunkRow {
  chunk: number;
  provider: string;
  url: string;
  state: string;
  rows: number;
  bytes: number;
  planned_at: number;
  file_id: string | null;
  batch_id: string | null;
  status: string | null;
  counts: string | null;
  output_file: string | null;
  error_file: string | null;
  ended_at: number | null;
  prompt_tokens: number;
  completion_tokens: number;
  note: string | null;
}

function record(r: ChunkRow): ChunkRecord {
  return {
    chunk: r.chunk,
    provider: r.provider,
    url: r.url,
    state: r.state as ChunkState,
    rows: r.rows,
    bytes: r.bytes,
    plannedAt: r.planned_at,
    fileId: r.file_id,
    batchId: r.batch_id,
    status: r.status,
    counts: r.counts === null ? null : (JSON.parse(r.counts) as Record<string, number>),
    outputFile: r.output_file,
    errorFile: r.error_file,
    endedAt: r.ended_at,
    promptTokens: r.prompt_tokens,
    completionTokens: r.completion_tokens,
    note: r.note,
  };
}

const PENDING = "SELECT r.line, r.fp, r.custom_id AS customId FROM rows r";

export function openLedger(file: JournalFile): BatchLedger {
  return new SqlLedger(file);
}

class SqlLedger implements BatchLedger {
  private readonly db: JournalFile["db"];
  /** False for a journal opened read-only from before the provider tables. */
  private readonly has: boolean;

  constructor(private readonly file: JournalFile) {
    this.db = file.db;
    this.has = file.guard(
      "read",
      () => this.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'provider_chunks'").get() !== undefined,
    );
  }

  private all(where: string): ChunkRecord[] {
    if (!this.has) return [];
    const sql = `SELECT * FROM provider_chunks ${where} ORDER BY chunk`;
    return this.file.guard("read", () => (this.db.prepare(sql).all() as ChunkRow[]).map(record));
  }

  private run(what: string, sql: string, ...args: (string | number | null)[]): void {
    this.file.write(what, () => this.db.prepare(sql).run(...args));
  }

  private rows(sql: string, ...args: number[]): LedgerRow[] {
    return this.file.guard("read", () => this.db.prepare(`${PENDING} ${sql}`).all(...args) as LedgerRow[]);
  }

  chunks(): ChunkRecord[] {
    return this.all("");
  }

  open(): ChunkRecord[] {
    return this.all("WHERE state != 'done'");
  }

  plan(provider: string, url: string, lines: number[], bytes: number): number {
    const db = this.db;
    return this.file.write("recording a chunk", () => {
      const next = db
        .prepare("SELECT coalesce(max(chunk), 0) + 1 FROM provider_chunks")
        .pluck()
        .get() as number;
      db.prepare(
        "INSERT INTO provider_chunks (chunk, provider, url, state, rows, bytes, planned_at) VALUES (?, ?, ?, 'planned', ?, ?, ?)",
      ).run(next, provider, url, lines.length, bytes, Date.now());
      const put = db.prepare(
        "INSERT INTO provider_rows (line, chunk, attempts) VALUES (?, ?, 1) ON CONFLICT(line) DO UPDATE SET chunk = excluded.chunk, attempts = attempts + 1",
      );
      for (const line of lines) put.run(line, next);
      return next;
    });
  }

  drop(chunk: number): void {
    this.file.write("dropping a chunk", () => {
      this.db
        .prepare("UPDATE provider_rows SET chunk = NULL, attempts = attempts - 1 WHERE chunk = ?")
        .run(chunk);
      this.db.prepare("DELETE FROM provider_chunks WHERE chunk = ? AND state = 'planned'").run(chunk);
    });
  }

  setFile(chunk: number, fileId: string | null): void {
    this.run(
      "recording a file id",
      "UPDATE provider_chunks SET file_id = ?, state = 'uploaded' WHERE chunk = ?",
      fileId,
      chunk,
    );
  }

  setBatch(chunk: number, batchId: string, status: string): void {
    const sql = "UPDATE provider_chunks SET batch_id = ?, status = ?, state = 'created' WHERE chunk = ?";
    this.run("recording a batch id", sql, batchId, status, chunk);
  }

  setStatus(chunk: number, s: ChunkStatus): void {
    this.run(
      "recording a batch status",
      "UPDATE provider_chunks SET status = ?, counts = ?, output_file = coalesce(?, output_file), error_file = coalesce(?, error_file), ended_at = coalesce(?, ended_at) WHERE chunk = ?",
      s.status,
      s.counts === null ? null : JSON.stringify(s.counts),
      s.outputFile ?? null,
      s.errorFile ?? null,
      s.endedAt ?? null,
      chunk,
    );
  }

  addTokens(chunk: number, prompt: number, completion: number): void {
    const sql =
      "UPDATE provider_chunks SET prompt_tokens = prompt_tokens + ?, completion_tokens = completion_tokens + ? WHERE chunk = ?";
    this.run("recording tokens", sql, prompt, completion, chunk);
  }

  finish(chunk: number, note: string | null, uncount: boolean): void {
    this.file.write("ending a chunk", () => {
      const attempts = uncount ? ", attempts = attempts - 1" : "";
      this.db.prepare(`UPDATE provider_rows SET chunk = NULL${attempts} WHERE chunk = ?`).run(chunk);
      this.db
        .prepare("UPDATE provider_chunks SET state = 'done', note = coalesce(?, note) WHERE chunk = ?")
        .run(note, chunk);
    });
  }

  unassignedPage(line: number, limit: number): LedgerRow[] {
    return this.rows(
      "LEFT JOIN provider_rows p ON p.line = r.line WHERE r.line > ? AND r.state = 0 AND p.chunk IS NULL ORDER BY r.line LIMIT ?",
      line,
      limit,
    );
  }

  chunkPage(chunk: number, line: number, limit: number): LedgerRow[] {
    return this.rows(
      "JOIN provider_rows p ON p.line = r.line WHERE p.chunk = ? AND r.line > ? AND r.state = 0 ORDER BY r.line LIMIT ?",
      chunk,
      line,
      limit,
    );
  }

  setUrl(chunk: number, url: string): void {
    this.run(
      "recording a chunk's endpoint",
      "UPDATE provider_chunks SET url = ? WHERE chunk = ?",
      url,
      chunk,
    );
  }

  countUnassigned(): number {
    const sql =
      "SELECT count(*) FROM rows r LEFT JOIN provider_rows p ON p.line = r.line WHERE r.state = 0 AND p.chunk IS NULL";
    return this.file.guard("read", () => this.db.prepare(sql).pluck().get() as number);
  }

  tailPage(before: number, limit: number): LedgerRow[] {
    return this.rows(
      "LEFT JOIN provider_rows p ON p.line = r.line WHERE r.line < ? AND r.state = 0 AND p.chunk IS NULL ORDER BY r.line DESC LIMIT ?",
      before,
      limit,
    );
  }

  attempts(line: number): number {
    const sql = "SELECT attempts FROM provider_rows WHERE line = ?";
    return this.file.guard("read", () => (this.db.prepare(sql).pluck().get(line) as number | undefined) ?? 0);
  }
}
