// Group commit of finished rows. A commit cycle, inside one journal write transaction that first
// proves this process still owns the job: append the buffered lines to the output and errors
// files, fsync them, then mark the rows done together with the files' new committed lengths. A
// crash between the steps leaves bytes past the committed length, which the next open cuts off
// (those rows are sent again). A step that fails puts the files back to their committed length
// and poisons the sink: nothing is written twice, and the journal and the files say what they
// said before the cycle began. A process that lost the job touches neither.
import { VbatchError } from "../errors.js";
import { type FileOps, nodeFileOps } from "../io/file-ops.js";
import type { Journal, RowUpdate, TimelineSample } from "../journal/journal.js";
import { AppendFile, closeBoth, describe } from "./append-file.js";
import { FILES_META, type FileRecord, filesRecord, parseFilesRecord, sameFile } from "./job-files.js";

export interface SinkOptions {
  outputPath: string;
  errorsPath: string;
  journal: Journal;
  /** Commit once this many rows are buffered. @default 2000 */
  maxRows?: number | undefined;
  /** Or once this many bytes are buffered. @default 8 MiB */
  maxBytes?: number | undefined;
  /** fsync the output files before each journal commit. @default true */
  fsync?: boolean | undefined;
  /** The file operations (tests inject failures here). @default node:fs */
  ops?: FileOps | undefined;
  /** Builds the job's next time-series sample, recorded by a commit cycle when one is due. */
  sample?: ((now: number) => TimelineSample) | undefined;
}

export class ResultSink {
  private readonly out: AppendFile;
  private readonly err: AppendFile;
  private readonly journal: Journal;
  private readonly ops: FileOps;
  private outBuf: string[] = [];
  private errBuf: string[] = [];
  private updates: RowUpdate[] = [];
  private invalidWritten: number[] = [];
  private bytes = 0;
  private readonly maxRows: number;
  private readonly maxBytes: number;
  private readonly fsync: boolean;
  private readonly sample: ((now: number) => TimelineSample) | undefined;
  private closed = false;
  /** The failure that poisoned the sink: every later flush reports it and writes nothing. */
  private failure: VbatchError | null = null;
  /** The job made its errors file (this run or an earlier one): it may remove it when unused. */
  private errorsMade = false;

  constructor(options: SinkOptions) {
    this.journal = options.journal;
    this.ops = options.ops ?? nodeFileOps;
    this.out = new AppendFile(this.ops, options.outputPath);
    try {
      this.err = new AppendFile(this.ops, options.errorsPath);
    } catch (e) {
      this.out.close();
      throw e;
    }
    try {
      // Cut while the job is held: another process's commit cannot be in the middle of appending.
      this.journal.whileHeld(() => {
        const committed = this.journal.offsets();
        this.out.settle(committed.out);
        this.err.settle(committed.err);
        this.recordFiles();
      });
    } catch (e) {
      this.out.close();
      this.err.close();
      throw e;
    }
    this.maxRows = options.maxRows ?? 2000;
    this.maxBytes = options.maxBytes ?? 8 << 20;
    this.fsync = options.fsync ?? true;
    this.sample = options.sample;
  }

  /** Records which files the journal belongs to (job-files.ts), and whether the job made them. */
  private recordFiles(): void {
    const was = parseFilesRecord(this.journal.getMeta(FILES_META));
    const made = (f: AppendFile, rec: FileRecord | undefined) =>
      f.created || (rec?.made === true && sameFile(f.path, rec));
    this.errorsMade = made(this.err, was?.errors);
    const rec = filesRecord(
      this.journal.path,
      { path: this.out.path, made: made(this.out, was?.output) },
      { path: this.err.path, made: this.errorsMade },
    );
    this.journal.setMeta({ [FILES_META]: JSON.stringify(rec) });
  }

  get buffered(): number {
    return this.updates.length + this.invalidWritten.length;
  }

  /** Set once a commit cycle failed; the sink then takes nothing more. */
  get failed(): VbatchError | null {
    return this.failure;
  }

  /** Records a sample of the time series now (a run's start), outside any commit. */
  sampleNow(): void {
    if (this.sample && !this.failure) this.journal.sample(this.sample);
  }

  /** Buffers a finished row; returns true when the buffer is full and should be flushed. */
  add(line: string, toErrors: boolean, update: RowUpdate): boolean {
    if (this.failure) return false; // the row stays pending; the next run sends it again
    (toErrors ? this.errBuf : this.outBuf).push(line);
    this.updates.push(update);
    this.bytes += line.length;
    return this.updates.length >= this.maxRows || this.bytes >= this.maxBytes;
  }

  /** Buffers the errors-file line of an invalid input line. */
  addInvalid(line: string, lineNo: number): void {
    if (this.failure) return;
    this.errBuf.push(line);
    this.invalidWritten.push(lineNo);
    this.bytes += line.length;
  }

  /**
   * One commit cycle for everything buffered. Synchronous, so a signal cannot split it. On failure
   * the files are cut back to their committed lengths, the buffer is dropped (its rows stay
   * pending in the journal) and the sink refuses further work with the same error.
   */
  flush(last = false): number {
    if (this.failure) throw this.failure;
    const n = this.buffered;
    if (this.closed) return 0;
    if (n === 0) {
      // A run's last sample, so its end is on the time axis even when it committed nothing.
      if (last && this.sample) this.journal.sample(this.sample);
      return 0;
    }
    const before = { out: this.out.offset, err: this.err.offset };
    // Where the cycle got to: once "written", a failure is the journal's and the files need cutting.
    const at: { stage: "checking" | "writing" | "written" } = { stage: "checking" };
    try {
      this.journal.commit(
        this.updates,
        this.invalidWritten,
        () => {
          // The job is proved ours here, and stays so until the commit: no other run can append.
          if (this.outBuf.length > 0) this.out.checkUnchanged();
          if (this.errBuf.length > 0) this.err.checkUnchanged();
          at.stage = "writing";
          this.write(before);
          at.stage = "written";
          return { out: this.out.offset, err: this.err.offset };
        },
        this.sample,
        last,
      );
    } catch (e) {
      const failure =
        e instanceof VbatchError
          ? e
          : new VbatchError("io", `journal commit failed: ${describe(e)}`, { cause: e });
      if (at.stage === "written") this.cutBack(before);
      // "checking": another process changed a file or took the job over; not ours to touch.
      // "writing": the write already cut its files back, inside the transaction.
      throw this.poison(failure);
    }
    this.clearBuffer();
    return n;
  }

  /** Appends and fsyncs the buffer; on failure cuts both files back to `before` and throws. */
  private write(before: { out: number; err: number }): void {
    let file = this.out;
    try {
      this.out.append(this.outBuf.join(""));
      file = this.err;
      this.err.append(this.errBuf.join(""));
      if (this.fsync) {
        file = this.out;
        if (this.outBuf.length > 0) this.ops.fsync(this.out.fd);
        file = this.err;
        if (this.errBuf.length > 0) this.ops.fsync(this.err.fd);
      }
    } catch (e) {
      this.out.rollback(before.out);
      this.err.rollback(before.err);
      throw new VbatchError("io", `cannot write ${file.path}: ${describe(e)}`, { cause: e });
    }
  }

  /**
   * After a journal commit failed: cuts the files back to `before`, in a new transaction that
   * first proves the job is still ours (a failed commit released the lock). If that cannot be
   * proved, the files are left: the journal still holds `before`, and the next open cuts them.
   */
  private cutBack(before: { out: number; err: number }): void {
    try {
      this.journal.whileHeld(() => {
        this.out.rollback(before.out);
        this.err.rollback(before.err);
      });
    } catch {
      this.out.offset = before.out;
      this.err.offset = before.err;
    }
  }

  private clearBuffer(): void {
    this.outBuf = [];
    this.errBuf = [];
    this.updates = [];
    this.invalidWritten = [];
    this.bytes = 0;
  }

  /** Drops the buffer and refuses further work. */
  private poison(failure: VbatchError): VbatchError {
    this.clearBuffer();
    this.failure = failure;
    return failure;
  }

  /** Commits what is buffered and closes the files; after a failure, only closes them. */
  close(): void {
    if (this.closed) return;
    try {
      if (!this.failure) this.flush(true);
    } finally {
      this.closed = true;
      // No failures, no errors file (it is made again if a later run needs it); only ever the
      // job's own, empty, regular file: never a device or a file the user made.
      if (!this.failure && this.errorsMade) this.removeUnused([this.err]);
      closeBoth(this.out, this.err);
    }
  }

  /**
   * Closes the files without committing what is buffered (those rows stay pending). A file this
   * run made and never committed a byte to goes too: an aborted run leaves what it found.
   */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.removeUnused([this.out, this.err].filter((f) => f.created));
    } finally {
      closeBoth(this.out, this.err);
    }
  }

  /** Removes those of `files` the journal committed nothing to, while the job is still ours. */
  private removeUnused(files: AppendFile[]): void {
    if (files.length === 0) return;
    try {
      this.journal.whileHeld(() => {
        const committed = this.journal.offsets();
        for (const f of files) if ((f === this.out ? committed.out : committed.err) === 0) f.removeIfEmpty();
      });
    } catch {
      // Not provably ours any more (taken over, or the journal cannot be read): leave the files.
    }
  }
}
