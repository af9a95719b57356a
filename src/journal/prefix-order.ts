// The pending rows in prefix-key order: rows that share a prompt prefix come one after another,
// wherever they stand in the input, so the send pass can keep them together in time (see
// input/prefix-key.ts). A keyset cursor over an index on (pkey, line): pages of bounded size, no
// statement held open between pages, and each page starts where the last one ended.
import type Database from "better-sqlite3";

/** A pending row with what reading it back from the input needs. */
export interface KeyedRow {
  line: number;
  fp: number | null;
  pkey: number;
  off: number;
  len: number;
}

const statements = new WeakMap<Database.Database, Database.Statement<[number, number, number], KeyedRow>>();

/**
 * Up to `limit` pending rows after (key, line) in (pkey, line) order. The index is built on first
 * use, once per journal: one sort of the rows, paid only by jobs whose rows share prefixes.
 */
export function keyedPage(db: Database.Database, key: number, line: number, limit: number): KeyedRow[] {
  let stmt = statements.get(db);
  if (stmt === undefined) {
    db.exec("CREATE INDEX IF NOT EXISTS rows_pkey ON rows (pkey, line)");
    stmt = db.prepare(
      "SELECT line, fp, pkey, off, len FROM rows WHERE (pkey, line) > (?, ?) AND state = 0 AND dup_of IS NULL ORDER BY pkey, line LIMIT ?",
    ) as Database.Statement<[number, number, number], KeyedRow>;
    statements.set(db, stmt);
  }
  return stmt.all(key, line, limit);
}
