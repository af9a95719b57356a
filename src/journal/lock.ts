// One job, one process. A job's lock is a SQLite write lock (BEGIN IMMEDIATE, never committed) on
// a small file beside its journal: the kernel drops it when the process ends, however it ends,
// so a kill -9 never leaves a stale lock, and a second process (or a second connection in this
// one) is refused at once. The file holds no data; who holds the lock is recorded by the holder
// in its own database (owner.ts), where a refused process can read it. The file is removed by
// the process that created it, while it still holds it. It is a fast, friendly refusal, not the
// last line of defence: a deleted lock file is caught by the claim in the database (owner.ts).
import { existsSync, statSync, unlinkSync } from "node:fs";
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

/** Where the lock of a job (or a serve data dir) with this database lives. */
export function lockPathOf(dbPath: string): string {
  return `${dbPath}.lock`;
}

/** The inode a path names now, or null when there is none. */
function inodeAt(path: string): number | null {
  return statSync(path, { throwIfNoEntry: false })?.ino ?? null;
}

export class FileLock {
  private constructor(
    readonly path: string,
    private db: Database.Database | null,
    /** This process made the file (and so removes it). */
    private readonly created: boolean,
    private readonly ino: number,
  ) {}

  /** The lock, or null when another process (or connection) holds it. */
  static tryAcquire(path: string, waitMs = 0): FileLock | null {
    // A holder removes the file on release: a process that was waiting on the removed file then
    // holds a lock nobody can see. So the lock counts only if the path still names its file.
    for (let attempt = 0; attempt < 5; attempt++) {
      const before = inodeAt(path);
      const db = FileLock.lockFile(path, waitMs);
      if (!db) return null;
      const after = inodeAt(path);
      if (after !== null && (before === null || before === after)) {
        return new FileLock(path, db, before === null, after);
      }
      db.exec("ROLLBACK");
      db.close();
    }
    throw new VbatchError("io", `cannot take the lock ${path}: it keeps being replaced`);
  }

  private static lockFile(path: string, waitMs: number, mustExist = false): Database.Database | null {
    let db: Database.Database | undefined;
    try {
      db = new Database(path, { fileMustExist: mustExist });
      db.pragma(`busy_timeout = ${Math.max(0, Math.round(waitMs))}`);
      // No rollback journal: this database is never written, so none is needed, and none is left.
      db.pragma("journal_mode = MEMORY");
      db.exec("BEGIN IMMEDIATE");
      return db;
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
    let db: Database.Database | null;
    try {
      // Never creates the file: a probe must leave the directory as it found it.
      db = FileLock.lockFile(path, 0, true);
    } catch {
      return false; // gone since: nobody holds it
    }
    if (!db) return true;
    db.exec("ROLLBACK");
    db.close();
    return false;
  }

  /** Releases the lock; the file goes too if this process made it (removed while still held). */
  release(): void {
    if (!this.db) return;
    const db = this.db;
    this.db = null;
    try {
      if (this.created && inodeAt(this.path) === this.ino) unlinkSync(this.path);
    } catch {
      // Left in place: empty and harmless, and the next holder checks what the path names.
    } finally {
      try {
        db.exec("ROLLBACK");
      } finally {
        db.close();
      }
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
