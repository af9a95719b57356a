// One job, one process. A job's lock is a SQLite write lock (BEGIN IMMEDIATE, never committed) on
// a small file beside its journal: the kernel drops it when the process ends, however it ends,
// so a kill -9 never leaves a stale lock, and a second process (or a second connection in this
// one) is refused at once. The file holds no data; who holds the lock is recorded by the holder
// in its own database (the journal's owner table), where a refused process can read it.
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { basename } from "node:path";
import Database from "better-sqlite3";
import { VbatchError } from "../errors.js";

/** Who holds a lock: shown to a second process that is refused. */
export interface JobOwner {
  pid: number;
  host: string;
  since: string;
  command: string;
}

/** The table the holder of a lock records itself in, in its own database (journal, serve state). */
export const OWNER_SCHEMA = `
CREATE TABLE IF NOT EXISTS owner (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  pid     INTEGER NOT NULL,
  host    TEXT NOT NULL,
  since   TEXT NOT NULL,
  command TEXT NOT NULL
);
`;

/** Records this process as the holder (call it only while holding the lock). */
export function writeOwner(db: Database.Database, command: string): void {
  db.prepare("INSERT OR REPLACE INTO owner (id, pid, host, since, command) VALUES (1, ?, ?, ?, ?)").run(
    process.pid,
    hostname(),
    new Date().toISOString(),
    command,
  );
}

/** Forgets this process as the holder (a later holder's record is left alone). */
export function clearOwner(db: Database.Database): void {
  db.prepare("DELETE FROM owner WHERE pid = ?").run(process.pid);
}

export function readOwnerRow(db: Database.Database): JobOwner | undefined {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'owner'").get();
  if (!exists) return undefined;
  return db.prepare("SELECT pid, host, since, command FROM owner WHERE id = 1").get() as JobOwner | undefined;
}

/**
 * Who holds the lock of the database at `dbPath` (a journal, or a serve state file), as the
 * holder recorded itself there; undefined when the file or its record does not exist yet.
 */
export function readOwnerOf(dbPath: string): JobOwner | undefined {
  if (!existsSync(dbPath)) return undefined;
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    return readOwnerRow(db);
  } finally {
    db.close();
  }
}

/** Where the lock of a job (or a serve data dir) with this database lives. */
export function lockPathOf(dbPath: string): string {
  return `${dbPath}.lock`;
}

export class FileLock {
  private constructor(
    readonly path: string,
    private db: Database.Database | null,
  ) {}

  /** The lock, or null when another process (or connection) holds it. */
  static tryAcquire(path: string, waitMs = 0): FileLock | null {
    let db: Database.Database | undefined;
    try {
      db = new Database(path);
      db.pragma(`busy_timeout = ${Math.max(0, Math.round(waitMs))}`);
      // No rollback journal: this database is never written, so none is needed, and none is left.
      db.pragma("journal_mode = MEMORY");
      db.exec("BEGIN IMMEDIATE");
      return new FileLock(path, db);
    } catch (err) {
      db?.close();
      if (err instanceof Database.SqliteError && err.code.startsWith("SQLITE_BUSY")) return null;
      throw new VbatchError("io", `cannot create the lock file ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** True when some process holds the lock at `path` now (probes without keeping it). */
  static isHeld(path: string): boolean {
    if (!existsSync(path)) return false;
    const lock = FileLock.tryAcquire(path);
    lock?.release();
    return lock === null;
  }

  release(): void {
    if (!this.db) return;
    const db = this.db;
    this.db = null;
    try {
      db.exec("ROLLBACK");
    } finally {
      db.close();
    }
  }
}

/**
 * What this process is, for the owner record: "vbatch run" for the CLI, else the script's name.
 * Never the whole command line, which may hold keys.
 */
export function processLabel(): string {
  const script = basename(process.argv[1] ?? "node");
  const sub = process.argv[2] ?? "";
  return (script === "vbatch" || script === "bin.js") && /^[a-z]+$/.test(sub) ? `vbatch ${sub}` : script;
}

/** "pid 123 on host x, since 2026-..." for messages, or "" when unknown. */
export function describeOwner(o: JobOwner | undefined): string {
  if (!o) return "";
  return `pid ${o.pid} on ${o.host}, since ${o.since}${o.command ? ` (${o.command})` : ""}`;
}

/**
 * Takes the lock of `what` (a job, or a serve data dir) or throws the "already running" error.
 * `owner` reads who holds it, for the message. A short wait rides out a `vbatch status` probe.
 */
export function acquireLock(
  path: string,
  what: string,
  owner: () => JobOwner | undefined,
  advice: string,
): FileLock {
  const lock = FileLock.tryAcquire(path, 1000);
  if (lock) return lock;
  let who = "";
  try {
    who = describeOwner(owner());
  } catch {
    // The holder may be creating its files right now; the message does without.
  }
  throw new VbatchError(
    "job_running",
    `${what} is already running${who ? `: ${who}` : ` (another process holds ${path})`}. ${advice}`,
  );
}
