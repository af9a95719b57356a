// The job's checkpoint. A row's output line and its "done" mark are committed together: inside
// one write transaction here, once it is proved that this process still owns the job, the writer
// appends and fsyncs the output files, then the row states and the new committed byte offsets
// are recorded. On resume the output files are cut back to those offsets, so a crash at any
// moment leaves no torn line and no duplicate. Every SQLite failure (a full disk, an I/O error, a
// file that is not a journal) leaves here as one VbatchError naming the file.
import { statSync } from "node:fs";
import Database from "better-sqlite3";
import { VbatchError } from "../errors.js";
import { type FileOps, nodeFileOps } from "../io/file-ops.js";
import { addColumnIfMissing } from "../util/sqlite.js";
import { LineSet } from "./bitset.js";
import type { JobOwner } from "./lock.js";
import { claimOwner, clearOwner, migrateOwner, ownerToken, readOwnerRow, takenOver } from "./owner.js";
import { JOURNAL_VERSION, RowState, type RowStateValue, SCHEMA } from "./schema.js";

export interface RowUpdate {
  line: number;
  state: RowStateValue;
  status: number | null;
  promptTokens: number;
  completionTokens: number;
}

export interface InvalidLine {
  line: number;
  customId?: string | undefined;
  message: string;
}

export interface DuplicateId {
  line: number;
  customId: string;
  firstLine: number;
}

export interface JournalCounts {
  total: number;
  succeeded: number;
  failed: number;
  pending: number;
  invalid: number;
  promptTokens: number;
  completionTokens: number;
}

export function emptyCounts(): JournalCounts {
  return { total: 0, succeeded: 0, failed: 0, pending: 0, invalid: 0, promptTokens: 0, completionTokens: 0 };
}

/** The byte lengths up to which the output and errors files are committed. */
export interface Offsets {
  out: number;
  err: number;
}

/** A row still to send, with the fingerprint of its line as validated (null in older journals). */
export interface PendingRow {
  line: number;
  fp: number | null;
}

/** One SQLite failure as the user should read it: what, which file, why. */
function journalError(path: string, err: unknown, what = "failed"): VbatchError | unknown {
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

export class Journal {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly ops: FileOps;
  // Prepared on first use: a read-only open of a journal from an older version lacks the columns.
  private insertRowStmt:
    | Database.Statement<[number, string, string | null, number | null, number]>
    | undefined;
  private readonly findLeader: Database.Statement<[string], { line: number }>;
  private readonly addFollower: Database.Statement<[number]>;
  private readonly followersOf: Database.Statement<[number], { line: number; custom_id: string }>;
  private readonly findLine: Database.Statement<[string], { line: number }>;
  private readonly insertInvalid: Database.Statement<[number, string | null, string]>;
  private readonly updateRow: Database.Statement<[number, number | null, number, number, number]>;
  private readonly markInvalidWritten: Database.Statement<[number]>;
  private readonly setMetaStmt: Database.Statement<[string, string]>;
  private pendingAfterStmt: Database.Statement<[number, number], PendingRow> | undefined;
  /** This process's claim on the job (see owner.ts); null until `claim`. */
  private token: string | null = null;
  /** The journal file this connection opened: a file put in its place is another job's. */
  private readonly identity: { dev: number; ino: number } | null;
  /** The committed lengths as this process last wrote or read them. */
  private expected: Offsets = { out: 0, err: 0 };

  constructor(path: string, options: { readonly?: boolean; ops?: FileOps | undefined } = {}) {
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
        migrate(db);
      }
      db.pragma("busy_timeout = 5000");
      this.db = db;
      const st = statSync(path, { throwIfNoEntry: false });
      this.identity = st ? { dev: st.dev, ino: st.ino } : null;
      this.findLeader = db.prepare("SELECT line FROM rows WHERE dkey = ? AND dup_of IS NULL LIMIT 1");
      this.addFollower = db.prepare("UPDATE rows SET followers = followers + 1 WHERE line = ?");
      this.followersOf = db.prepare("SELECT line, custom_id FROM rows WHERE dup_of = ? AND state = 0");
      this.findLine = db.prepare("SELECT line FROM rows WHERE custom_id = ?");
      this.insertInvalid = db.prepare(
        "INSERT OR REPLACE INTO invalid (line, custom_id, message) VALUES (?, ?, ?)",
      );
      this.updateRow = db.prepare(
        "UPDATE rows SET state = ?, status = ?, prompt_tokens = ?, completion_tokens = ? WHERE line = ?",
      ) as unknown as Database.Statement<[number, number | null, number, number, number]>;
      this.markInvalidWritten = db.prepare("UPDATE invalid SET written = 1 WHERE line = ?");
      this.setMetaStmt = db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
    } catch (err) {
      db?.close();
      throw journalError(path, err, "cannot open");
    }
  }

  /** Runs `fn`, turning a SQLite failure into one clear VbatchError. */
  private guard<T>(what: string, fn: () => T): T {
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
  private write<T>(what: string, fn: () => T): T {
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
  private checkHeld(): void {
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

  /** Forget every row (a fresh start, or an ingest interrupted half-way). */
  reset(): void {
    this.write("reset", () => {
      this.db.exec("DELETE FROM rows; DELETE FROM invalid; DELETE FROM meta;");
    });
    this.setMeta({ version: JOURNAL_VERSION });
    this.expected = this.offsets();
  }

  /** Records a batch of valid rows and invalid lines; returns the rows whose custom_id was seen before. */
  ingest(
    rows: { line: number; customId: string; dkey?: string | null; fp: number }[],
    invalid: InvalidLine[],
  ): DuplicateId[] {
    const dups: DuplicateId[] = [];
    this.insertRowStmt ??= this.guard("recording the input", () =>
      this.db.prepare(
        "INSERT OR IGNORE INTO rows (line, custom_id, dkey, dup_of, fp) VALUES (?, ?, ?, ?, ?)",
      ),
    );
    const insert = this.insertRowStmt;
    this.write("recording the input", () => {
      for (const r of rows) {
        const dkey = r.dkey ?? null;
        const leader = dkey === null ? undefined : this.findLeader.get(dkey)?.line;
        if (insert.run(r.line, r.customId, dkey, leader ?? null, r.fp).changes === 0) {
          const first = this.findLine.get(r.customId);
          dups.push({ line: r.line, customId: r.customId, firstLine: first?.line ?? -1 });
        } else if (leader !== undefined) this.addFollower.run(leader);
      }
      for (const inv of invalid) this.insertInvalid.run(inv.line, inv.customId ?? null, inv.message);
    });
    return dups;
  }

  /** Stores duplicates found during ingest as invalid lines (used with --skip-invalid). */
  recordInvalid(lines: InvalidLine[]): void {
    this.ingest([], lines);
  }

  /**
   * One atomic step of progress: `write` appends and fsyncs the output files and returns their new
   * lengths, then the row states and those lengths are recorded. All of it runs in one write
   * transaction, after `checkHeld`: either all of it is recorded or, on any failure, none of it.
   */
  commit(updates: RowUpdate[], invalidWritten: number[], write: () => Offsets): void {
    let offsets: Offsets | undefined;
    this.guard("commit", () =>
      this.db
        .transaction(() => {
          this.checkHeld();
          offsets = write();
          for (const u of updates) {
            this.updateRow.run(u.state, u.status, u.promptTokens, u.completionTokens, u.line);
          }
          for (const line of invalidWritten) this.markInvalidWritten.run(line);
          this.setMetaStmt.run("out_offset", String(offsets.out));
          this.setMetaStmt.run("err_offset", String(offsets.err));
          this.ops.commit();
        })
        .immediate(),
    );
    if (offsets) this.expected = offsets;
    this.ops.committed();
  }

  offsets(): Offsets {
    return { out: Number(this.getMeta("out_offset") ?? 0), err: Number(this.getMeta("err_offset") ?? 0) };
  }

  /** Up to `limit` rows to send after `line`, in input order (a cursor that holds no statement open). */
  pendingPage(line: number, limit: number): PendingRow[] {
    return this.guard("read", () => {
      this.pendingAfterStmt ??= this.db.prepare(
        "SELECT line, fp FROM rows WHERE line > ? AND state = 0 AND dup_of IS NULL ORDER BY line LIMIT ?",
      );
      return this.pendingAfterStmt.all(line, limit);
    });
  }

  /** Pending lines whose answer other rows share (see `followers`). */
  leaderSet(): LineSet {
    return this.lineSet("SELECT line FROM rows WHERE state = 0 AND followers > 0");
  }

  /** The pending rows that share `line`'s answer. */
  followers(line: number): { line: number; customId: string }[] {
    return this.guard("read", () =>
      this.followersOf.all(line).map((r) => ({ line: r.line, customId: r.custom_id })),
    );
  }

  /** Rows answered by another row's request: requests dedupe saved. */
  dedupedCount(): number {
    return this.guard(
      "read",
      () =>
        (this.db.prepare("SELECT count(*) AS n FROM rows WHERE dup_of IS NOT NULL").get() as { n: number }).n,
    );
  }

  private lineSet(sql: string): LineSet {
    return this.guard("read", () => {
      const maxRow = this.db.prepare("SELECT max(line) AS m FROM rows").get() as { m: number | null };
      const set = new LineSet(maxRow.m ?? 0);
      for (const line of this.db.prepare(sql).pluck().iterate() as IterableIterator<number>) set.add(line);
      return set;
    });
  }

  /**
   * The row of a custom_id, if it is one of this job's (valid) rows: its line, state and the HTTP
   * status of its final answer (null without one).
   */
  rowOf(customId: string): { line: number; state: number; status: number | null } | undefined {
    return this.guard(
      "read",
      () =>
        this.db.prepare("SELECT line, state, status FROM rows WHERE custom_id = ?").get(customId) as
          | { line: number; state: number; status: number | null }
          | undefined,
    );
  }

  /**
   * Re-opens failed rows for another run: they become pending, the errors file's committed length
   * becomes `errOffset` (the rewritten file without them, at `rewritePath`, renamed into place
   * after this commit; `finishErrorsRewrite` completes a rename a crash interrupted).
   */
  reopen(lines: number[], errOffset: number, rewritePath: string): void {
    this.write("reopening failed rows", () => {
      const stmt = this.db.prepare(
        "UPDATE rows SET state = 0, status = NULL, prompt_tokens = NULL, completion_tokens = NULL WHERE line = ? AND state = 2",
      );
      for (const line of lines) stmt.run(line);
      this.setMetaStmt.run("err_offset", String(errOffset));
      this.setMetaStmt.run("errors_rewrite", rewritePath);
    });
    this.expected = this.offsets();
  }

  clearErrorsRewrite(): void {
    this.write("write", () => this.db.prepare("DELETE FROM meta WHERE key = 'errors_rewrite'").run());
  }

  /** Rows not yet final, in input order (for closing a stopped job's rows out). */
  pendingRows(): { line: number; customId: string }[] {
    return this.guard("read", () =>
      (
        this.db.prepare("SELECT line, custom_id FROM rows WHERE state = 0 ORDER BY line").all() as {
          line: number;
          custom_id: string;
        }[]
      ).map((r) => ({ line: r.line, customId: r.custom_id })),
    );
  }

  /** Invalid lines not yet written to the errors file. */
  unwrittenInvalid(): InvalidLine[] {
    return this.guard("read", () => {
      const rows = this.db
        .prepare("SELECT line, custom_id, message FROM invalid WHERE written = 0 ORDER BY line")
        .all() as { line: number; custom_id: string | null; message: string }[];
      return rows.map((r) => ({ line: r.line, customId: r.custom_id ?? undefined, message: r.message }));
    });
  }

  /** Forgets this process as the job's owner (a later claim by another process stays). */
  clearOwner(): void {
    if (this.db.open) this.guard("write", () => clearOwner(this.db, this.token));
  }

  owner(): JobOwner | undefined {
    return this.guard("read", () => readOwnerRow(this.db));
  }

  counts(): JournalCounts {
    return this.guard("read", () => {
      const by = this.db
        .prepare(
          "SELECT state, count(*) AS n, coalesce(sum(prompt_tokens), 0) AS p, coalesce(sum(completion_tokens), 0) AS c FROM rows GROUP BY state",
        )
        .all() as { state: number; n: number; p: number; c: number }[];
      const invalid = (this.db.prepare("SELECT count(*) AS n FROM invalid").get() as { n: number }).n;
      const counts: JournalCounts = { ...emptyCounts(), invalid };
      for (const s of by) {
        counts.total += s.n;
        counts.promptTokens += s.p;
        counts.completionTokens += s.c;
        if (s.state === RowState.succeeded) counts.succeeded = s.n;
        else if (s.state === RowState.failed) counts.failed = s.n;
        else counts.pending = s.n;
      }
      return counts;
    });
  }
}

/** Brings a journal made by an earlier version up to this schema (new columns are nullable). */
function migrate(db: Database.Database): void {
  addColumnIfMissing(db, "rows", "fp", "INTEGER");
  migrateOwner(db);
}
