// The journal as a file this process holds: opening it (WAL, the schema, migrations), the
// owner's claim, the one write transaction every change goes through and the checks a commit
// makes first, its metadata, and a close that reports what SQLite's own would swallow. The rows
// it keeps are journal.ts, whose Journal owns one of these (privately: SQLite's types stay out of
// the package's declarations).
import { statSync } from "node:fs";
import Database from "better-sqlite3";
import { VbatchError } from "../errors.js";
import { type FileOps, nodeFileOps } from "../io/file-ops.js";
import { addColumnIfMissing } from "../util/sqlite.js";
import type { JobOwner } from "./lock.js";
import { claimOwner, clearOwner, migrateOwner, ownerToken, readOwnerRow, takenOver } from "./owner.js";
import type { JournalOpenOptions, Offsets } from "./records.js";
import { SCHEMA } from "./schema.js";
import { readTimeline, TIMELINE_SCHEMA, type TimelineSample, TimelineWriter } from "./timeline.js";

export class JournalFile {
  readonly path: string;
  readonly db: Database.Database;
  readonly ops: FileOps;
  readonly setMetaStmt: Database.Statement<[string, string]>;
  /** This process's claim on the job (see owner.ts); null until `claim`. */
  private token: string | null = null;
  /** The journal file this connection opened: a file put in its place is another job's. */
  private readonly identity: { dev: number; ino: number } | null;
  /** The committed lengths as this process last wrote or read them. */
  expected: Offsets = { out: 0, err: 0 };
  private timeline: TimelineWriter | undefined;

  constructor(path: string, options: JournalOpenOptions = {}) {
    this.path = path;
    this.ops = options.ops ?? nodeFileOps;
    const readonly = options.readonly ?? false;
    let db: Database.Database | undefined;
    try {
      db = new Database(path, { readonly, fileMustExist: readonly });
      if (!readonly) {
        db.pragma("journal_mode = WAL");
        // NORMAL: a power cut may roll back the last commit, which only re-sends those rows.
        db.pragma("synchronous = NORMAL");
        db.exec(SCHEMA);
        db.exec(TIMELINE_SCHEMA);
        migrate(db);
      }
      db.pragma("busy_timeout = 5000");
      this.db = db;
      const st = statSync(path, { throwIfNoEntry: false });
      this.identity = st ? { dev: st.dev, ino: st.ino } : null;
      this.setMetaStmt = db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
    } catch (err) {
      db?.close();
      throw journalError(path, err, "cannot open");
    }
  }

  /** Runs `fn`, turning a SQLite failure into one clear VbatchError. */
  guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw journalError(this.path, err, what);
    }
  }

  private taken(detail: string): VbatchError {
    let owner: JobOwner | undefined;
    try {
      owner = readOwnerRow(this.db);
    } catch {
      // who took it over is only for the message
    }
    return takenOver(`this job (journal ${this.path})`, owner, detail);
  }

  /**
   * Claims the job for this process (its lock is held; see lock.ts): records it as the owner with
   * a new token, and from then on every write of this connection is refused once another process
   * has claimed the job since. Call before anything is written.
   */
  claim(command: string): void {
    this.guard("write", () => {
      this.token = claimOwner(this.db, command);
    });
    this.expected = this.offsets();
  }

  /** Throws once another process has claimed the job since this one did. */
  private checkClaim(): void {
    if (this.token !== null && ownerToken(this.db) !== this.token) {
      throw this.taken("another process claimed the job since this one started");
    }
  }

  /**
   * Every write of the journal: one write transaction that first checks the claim. (A check per
   * transaction, not a trigger per row: a trigger made inserting and updating rows about 30% slower.)
   */
  write<T>(what: string, fn: () => T): T {
    return this.guard(what, () =>
      this.db
        .transaction(() => {
          this.checkClaim();
          return fn();
        })
        .immediate(),
    );
  }

  /**
   * Throws unless this process may still write the job's files: the journal at `path` is the file
   * this connection opened, no other process claimed the job since this one did, and the
   * committed lengths are the ones this process last saw. Call inside a write transaction, so
   * nothing can change between the check and the writes that follow it.
   */
  checkHeld(): void {
    const st = statSync(this.path, { throwIfNoEntry: false });
    if (this.identity && (!st || st.dev !== this.identity.dev || st.ino !== this.identity.ino)) {
      throw this.taken(`the journal file was ${st ? "replaced" : "removed"} while this process used it`);
    }
    this.checkClaim();
    const now = this.offsets();
    if (now.out !== this.expected.out || now.err !== this.expected.err) {
      throw this.taken(
        `the committed lengths of its files changed under it: ${now.out}/${now.err} bytes where this process committed ${this.expected.out}/${this.expected.err}`,
      );
    }
  }

  /**
   * Runs `fn` inside a write transaction, once `checkHeld` has passed: what `fn` does to the job's
   * files cannot interleave with another process's commit, and is not done at all once the job
   * is someone else's.
   */
  whileHeld<T>(fn: () => T): T {
    return this.guard("write", () =>
      this.db
        .transaction(() => {
          this.checkHeld();
          return fn();
        })
        .immediate(),
    );
  }

  /** Closes without a word: for cleanup on a path that is already failing. */
  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * Closes at the end of a run, reporting what SQLite's own close would swallow: the final
   * checkpoint copies the write-ahead log into the journal and fsyncs it, and an I/O error there
   * must not end in exit 0. Committed rows are safe either way: they stay in the -wal file.
   */
  finish(): void {
    if (!this.db.open) return;
    try {
      if (!this.db.readonly) this.db.pragma("wal_checkpoint(TRUNCATE)");
    } catch (err) {
      this.close();
      const why = err instanceof Database.SqliteError ? `${err.message} (${err.code})` : String(err);
      throw new VbatchError(
        "io",
        `journal ${this.path}: the final checkpoint failed: ${why}. Every committed row is kept (in the journal or its -wal file beside it); run the same command again to close the job cleanly.`,
        { cause: err },
      );
    }
    this.close();
  }

  getMeta(key: string): string | undefined {
    return this.guard("read", () => {
      const row = this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as
        | { value: string }
        | undefined;
      return row?.value;
    });
  }

  setMeta(entries: Record<string, string>): void {
    this.write("write", () => {
      for (const [k, v] of Object.entries(entries)) this.setMetaStmt.run(k, v);
    });
    if ("out_offset" in entries || "err_offset" in entries) this.expected = this.offsets();
  }

  /** True when a previous run finished reading and validating the whole input. */
  get ingested(): boolean {
    return this.getMeta("ingested") === "1";
  }

  offsets(): Offsets {
    return { out: Number(this.getMeta("out_offset") ?? 0), err: Number(this.getMeta("err_offset") ?? 0) };
  }

  /** Forgets this process as the job's owner (a later claim by another process stays). */
  clearOwner(): void {
    if (this.db.open) this.guard("write", () => clearOwner(this.db, this.token));
  }

  owner(): JobOwner | undefined {
    return this.guard("read", () => readOwnerRow(this.db));
  }

  /**
   * Records a sample of the job's time series when one is due (`force`: always), inside the
   * caller's write transaction; `take` builds it only then.
   */
  recordSample(take: (now: number) => TimelineSample, force = false): void {
    this.timeline ??= new TimelineWriter(this.db);
    const now = Date.now();
    if (force || this.timeline.due(now)) this.timeline.record(take(now), true);
  }

  /** The time series (empty for a journal from before it). */
  readTimeline(): ReturnType<typeof readTimeline> {
    return this.guard("read", () => readTimeline(this.db));
  }
}

/** One SQLite failure as the user should read it: what, which file, why. */
export function journalError(path: string, err: unknown, what = "failed"): VbatchError | unknown {
  if (!(err instanceof Database.SqliteError)) return err;
  const why = err.message;
  const code = err.code;
  if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") {
    return new VbatchError("usage", `${path} is not a vbatch journal (${why})`, { cause: err });
  }
  if (code === "SQLITE_FULL") {
    return new VbatchError("io", `journal ${path}: ${what}: the disk is full (${why})`, { cause: err });
  }
  if (code === "SQLITE_CANTOPEN") {
    return new VbatchError("io", `cannot open journal ${path} (${why}): does its directory exist?`, {
      cause: err,
    });
  }
  return new VbatchError("io", `journal ${path}: ${what}: ${why} (${code})`, { cause: err });
}

/** Brings a journal made by an earlier version up to this schema (new columns are nullable). */
function migrate(db: Database.Database): void {
  for (const column of ["fp", "pkey", "off", "len", "ptok", "maxt", "lord"])
    addColumnIfMissing(db, "rows", column, "INTEGER");
  migrateOwner(db);
}
