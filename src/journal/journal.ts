// The job's checkpoint. A row's output line and its "done" mark are committed together: inside
// one write transaction here, once it is proved that this process still owns the job, the writer
// appends and fsyncs the output files, then the row states and the new committed byte offsets
// are recorded. On resume the output files are cut back to those offsets, so a crash at any
// moment leaves no torn line and no duplicate. Every SQLite failure (a full disk, an I/O error, a
// file that is not a journal) leaves here as one VbatchError naming the file.
import type Database from "better-sqlite3";
import type { BatchLedger } from "./batch-records.js";
import { openLedger } from "./batches.js";
import { LineSet } from "./bitset.js";
import { JournalFile, journalError } from "./journal-file.js";
import type { JobOwner } from "./lock.js";
import { keyedPage } from "./prefix-order.js";
import { countRows, failuresByStatus, pendingRows, unwrittenInvalid } from "./queries.js";
import {
  type DuplicateId,
  INSERT_ROW,
  type IngestRow,
  type InvalidLine,
  type JournalCounts,
  type JournalOpenOptions,
  type KeyedRow,
  type Offsets,
  type PendingRow,
  type RowOrder,
  type RowUpdate,
  type RowValues,
  rowValues,
} from "./records.js";
import { JOURNAL_VERSION } from "./schema.js";
import type { RunRecord, TimelineSample } from "./timeline-records.js";

export type * from "./batch-records.js";
export * from "./records.js";
export type { EngineSample, RunRecord, TimelineSample } from "./timeline-records.js";

/** The job's rows: recorded once by the validation pass, then read and finished by the send pass. */
export class Journal {
  private readonly file: JournalFile;
  // Prepared on first use: a read-only open of a journal from an older version lacks the columns.
  private insertRowStmt: Database.Statement<RowValues> | undefined;
  private readonly findLeader: Database.Statement<[string], { line: number }>;
  private readonly addFollower: Database.Statement<[number]>;
  private readonly followersOf: Database.Statement<[number], { line: number; custom_id: string }>;
  private readonly findLine: Database.Statement<[string], { line: number }>;
  private readonly insertInvalid: Database.Statement<[number, string | null, string]>;
  private readonly updateRow: Database.Statement<[number, number | null, number, number, number]>;
  private readonly markInvalidWritten: Database.Statement<[number]>;
  private pendingAfterStmt: Database.Statement<[number, number], PendingRow> | undefined;

  constructor(path: string, options: JournalOpenOptions = {}) {
    this.file = new JournalFile(path, options);
    const db = this.file.db;
    try {
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
    } catch (err) {
      this.file.close();
      throw journalError(path, err, "cannot open");
    }
  }

  get path(): string {
    return this.file.path;
  }

  /** See JournalFile.claim: this process owns the job from now on. */
  claim(command: string): void {
    this.file.claim(command);
  }

  /** See JournalFile.whileHeld: `fn` runs in a write transaction once the job is proved ours. */
  whileHeld<T>(fn: () => T): T {
    return this.file.whileHeld(fn);
  }

  close(): void {
    this.file.close();
  }

  finish(): void {
    this.file.finish();
  }

  getMeta(key: string): string | undefined {
    return this.file.getMeta(key);
  }

  setMeta(entries: Record<string, string>): void {
    this.file.setMeta(entries);
  }

  get ingested(): boolean {
    return this.file.ingested;
  }

  offsets(): Offsets {
    return this.file.offsets();
  }

  clearOwner(): void {
    this.file.clearOwner();
  }

  /** The provider chunks of a job sent to a batch API (batch-records.ts). */
  batches(): BatchLedger {
    return openLedger(this.file);
  }

  owner(): JobOwner | undefined {
    return this.file.owner();
  }

  /** Forget every row (a fresh start, or an ingest interrupted half-way). */
  reset(): void {
    this.file.write("reset", () => {
      this.file.db.exec("DELETE FROM rows; DELETE FROM invalid; DELETE FROM meta;");
    });
    this.file.setMeta({ version: JOURNAL_VERSION });
    this.file.expected = this.file.offsets();
  }

  /** Records a batch of valid rows and invalid lines; returns the rows whose custom_id was seen before. */
  ingest(rows: IngestRow[], invalid: InvalidLine[]): DuplicateId[] {
    const dups: DuplicateId[] = [];
    this.insertRowStmt ??= this.file.guard("recording the input", () => this.file.db.prepare(INSERT_ROW));
    const insert = this.insertRowStmt;
    this.file.write("recording the input", () => {
      for (const r of rows) {
        const dkey = r.dkey ?? null;
        const leader = dkey === null ? undefined : this.findLeader.get(dkey)?.line;
        if (insert.run(...rowValues(r, leader ?? null)).changes === 0) {
          const first = this.findLine.get(r.customId);
          dups.push({ line: r.line, customId: r.customId, firstLine: first?.line ?? -1 });
        } else if (leader !== undefined) this.addFollower.run(leader);
      }
      for (const inv of invalid) this.insertInvalid.run(inv.line, inv.customId ?? null, inv.message);
    });
    return dups;
  }

  /**
   * One atomic step of progress: `write` appends and fsyncs the output files and returns their new
   * lengths, then the row states and those lengths are recorded. All of it runs in one write
   * transaction, after `checkHeld`: either all of it is recorded or, on any failure, none of it.
   * `sample` gives the time series its next sample, recorded with the rows when one is due.
   */
  commit(
    updates: RowUpdate[],
    invalidWritten: number[],
    write: () => Offsets,
    sample?: ((now: number) => TimelineSample) | undefined,
    forceSample = false,
  ): void {
    let offsets: Offsets | undefined;
    this.file.guard("commit", () =>
      this.file.db
        .transaction(() => {
          this.file.checkHeld();
          offsets = write();
          for (const u of updates) {
            this.updateRow.run(u.state, u.status, u.promptTokens, u.completionTokens, u.line);
          }
          for (const line of invalidWritten) this.markInvalidWritten.run(line);
          this.file.setMetaStmt.run("out_offset", String(offsets.out));
          this.file.setMetaStmt.run("err_offset", String(offsets.err));
          if (sample) this.file.recordSample(sample, forceSample);
          this.file.ops.commit();
        })
        .immediate(),
    );
    if (offsets) this.file.expected = offsets;
    this.file.ops.committed();
  }

  /** Up to `limit` rows to send after `line`, in input order (a cursor that holds no statement open). */
  pendingPage(line: number, limit: number): PendingRow[] {
    return this.file.guard("read", () => {
      this.pendingAfterStmt ??= this.file.db.prepare(
        "SELECT line, fp FROM rows WHERE line > ? AND state = 0 AND dup_of IS NULL ORDER BY line LIMIT ?",
      );
      return this.pendingAfterStmt.all(line, limit);
    });
  }

  /** Pending rows in `order` after (ord, line), for send/keyed-reader.ts. */
  keyedPage(order: RowOrder, ord: number, line: number, limit: number): KeyedRow[] {
    return this.file.guard("read", () => keyedPage(this.file.db, order, ord, line, limit));
  }

  /** Pending lines whose answer other rows share (see `followers`). */
  leaderSet(): LineSet {
    return this.lineSet("SELECT line FROM rows WHERE state = 0 AND followers > 0");
  }

  /** The pending rows that share `line`'s answer. */
  followers(line: number): { line: number; customId: string }[] {
    return this.file.guard("read", () =>
      this.followersOf.all(line).map((r) => ({ line: r.line, customId: r.custom_id })),
    );
  }

  /** Rows answered by another row's request: requests dedupe saved. */
  dedupedCount(): number {
    const sql = "SELECT count(*) FROM rows WHERE dup_of IS NOT NULL";
    return this.file.guard("read", () => this.file.db.prepare(sql).pluck().get() as number);
  }

  /** Records a run's closing sample on its own (nothing else to commit). */
  sample(take: (now: number) => TimelineSample): void {
    this.file.whileHeld(() => this.file.recordSample(take, true));
  }

  /** The job's time series and runs (empty for a journal from before them). */
  timeline(): { samples: TimelineSample[]; runs: RunRecord[] } {
    return this.file.readTimeline();
  }

  private lineSet(sql: string): LineSet {
    return this.file.guard("read", () => {
      const maxRow = this.file.db.prepare("SELECT max(line) AS m FROM rows").get() as { m: number | null };
      const set = new LineSet(maxRow.m ?? 0);
      for (const line of this.file.db.prepare(sql).pluck().iterate() as IterableIterator<number>)
        set.add(line);
      return set;
    });
  }

  /**
   * The row of a custom_id, if it is one of this job's (valid) rows: its line, state and the HTTP
   * status of its final answer (null without one).
   */
  rowOf(customId: string): { line: number; state: number; status: number | null } | undefined {
    return this.file.guard(
      "read",
      () =>
        this.file.db.prepare("SELECT line, state, status FROM rows WHERE custom_id = ?").get(customId) as
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
    this.file.write("reopening failed rows", () => {
      const stmt = this.file.db.prepare(
        "UPDATE rows SET state = 0, status = NULL, prompt_tokens = NULL, completion_tokens = NULL WHERE line = ? AND state = 2",
      );
      for (const line of lines) stmt.run(line);
      this.file.setMetaStmt.run("err_offset", String(errOffset));
      this.file.setMetaStmt.run("errors_rewrite", rewritePath);
    });
    this.file.expected = this.file.offsets();
  }

  clearErrorsRewrite(): void {
    this.file.write("write", () =>
      this.file.db.prepare("DELETE FROM meta WHERE key = 'errors_rewrite'").run(),
    );
  }

  /** Rows not yet final, in input order (for closing a stopped job's rows out). */
  pendingRows(): { line: number; customId: string }[] {
    return pendingRows(this.file);
  }

  /** Invalid lines not yet written to the errors file. */
  unwrittenInvalid(): InvalidLine[] {
    return unwrittenInvalid(this.file);
  }

  counts(): JournalCounts {
    return countRows(this.file);
  }

  /** Failed rows by the HTTP status of their final answer ("none": no HTTP answer). */
  failuresByStatus(): Record<string, number> {
    return failuresByStatus(this.file);
  }
}
