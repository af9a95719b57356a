// The server's state: one SQLite file. WAL with synchronous=NORMAL survives a killed process (only
// a power cut can lose the last commits), which is the failure `vbatch serve` promises to survive.
import Database from "better-sqlite3";
import { VbatchError } from "../../errors.js";
import { migrateOwner, OWNER_SCHEMA } from "../../journal/owner.js";
import { addColumnIfMissing } from "../../util/sqlite.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS files (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  purpose TEXT NOT NULL,
  filename TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER
);
CREATE TABLE IF NOT EXISTS batches (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  api TEXT NOT NULL,
  status TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  input_file_id TEXT,
  completion_window TEXT NOT NULL,
  metadata TEXT,
  model TEXT,
  output_file_id TEXT NOT NULL,
  error_file_id TEXT NOT NULL,
  output_ready INTEGER NOT NULL DEFAULT 0,
  errors_ready INTEGER NOT NULL DEFAULT 0,
  errors TEXT,
  total INTEGER NOT NULL DEFAULT 0,
  succeeded INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  expired INTEGER NOT NULL DEFAULT 0,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  in_progress_at INTEGER,
  finalizing_at INTEGER,
  completed_at INTEGER,
  failed_at INTEGER,
  expired_at INTEGER,
  cancelling_at INTEGER,
  cancelled_at INTEGER,
  ended_at INTEGER,
  output_expires_after INTEGER
);
CREATE INDEX IF NOT EXISTS batches_status ON batches (status);
${OWNER_SCHEMA}`;

export function openStateDb(path: string): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (err) {
    throw new VbatchError("io", `cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  db.exec(SCHEMA);
  // Data dirs made before output_expires_after was kept gain the column (null: the retention).
  addColumnIfMissing(db, "batches", "output_expires_after", "INTEGER");
  migrateOwner(db);
  return db;
}
