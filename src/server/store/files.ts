// File records (the OpenAI Files API). A file is listed only once its bytes are complete on disk;
// output files of running batches exist on disk but not here, so no id reaches them early.
import type Database from "better-sqlite3";

export interface FileRecord {
  seq: number;
  id: string;
  purpose: string;
  filename: string;
  bytes: number;
  /** ms since the epoch */
  created_at: number;
  expires_at: number | null;
}

export interface ListQuery {
  /** Exclusive cursor: an id from an earlier page. */
  after?: string | undefined;
  limit: number;
  order: "asc" | "desc";
  purpose?: string | undefined;
}

export class FileStore {
  constructor(private readonly db: Database.Database) {}

  insert(f: Omit<FileRecord, "seq">): FileRecord {
    this.db
      .prepare(
        "INSERT INTO files (id, purpose, filename, bytes, created_at, expires_at) VALUES (@id, @purpose, @filename, @bytes, @created_at, @expires_at)",
      )
      .run(f);
    return this.get(f.id) as FileRecord;
  }

  get(id: string): FileRecord | undefined {
    return this.db.prepare("SELECT * FROM files WHERE id = ?").get(id) as FileRecord | undefined;
  }

  delete(id: string): boolean {
    return this.db.prepare("DELETE FROM files WHERE id = ?").run(id).changes > 0;
  }

  /** One page plus whether more follow. */
  list(q: ListQuery): { data: FileRecord[]; hasMore: boolean } {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (q.purpose) {
      where.push("purpose = ?");
      params.push(q.purpose);
    }
    if (q.after) {
      const cursor = this.get(q.after);
      if (cursor) {
        where.push(q.order === "desc" ? "seq < ?" : "seq > ?");
        params.push(cursor.seq);
      }
    }
    const sql = `SELECT * FROM files ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY seq ${q.order === "desc" ? "DESC" : "ASC"} LIMIT ?`;
    const rows = this.db.prepare(sql).all(...params, q.limit + 1) as FileRecord[];
    return { data: rows.slice(0, q.limit), hasMore: rows.length > q.limit };
  }

  expired(now: number): FileRecord[] {
    return this.db
      .prepare("SELECT * FROM files WHERE expires_at IS NOT NULL AND expires_at <= ?")
      .all(now) as FileRecord[];
  }
}
