// Group commit of finished rows. A commit cycle: append the buffered lines to the output and
// errors files, fsync them, then mark the rows done in the journal in one transaction together
// with the files' new committed lengths. A crash between the steps leaves bytes past the committed
// length, which the next open cuts off (those rows are sent again). A step that fails puts the
// files back to their committed length and poisons the sink: nothing is written twice, and the
// journal and the files say what they said before the cycle began.
import { existsSync, rmSync } from "node:fs";
import { VbatchError } from "../errors.js";
import { type FileOps, nodeFileOps } from "../io/file-ops.js";
import type { Journal, RowUpdate } from "../journal/journal.js";

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
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One output file, written only at and after its committed length. */
class AppendFile {
  readonly fd: number;
  /** Bytes written so far (committed, plus a cycle in progress). */
  offset: number;

  constructor(
    private readonly ops: FileOps,
    readonly path: string,
    committed: number,
  ) {
    const existed = existsSync(path);
    try {
      this.fd = ops.open(path, existed ? "r+" : "w+");
    } catch (err) {
      throw new VbatchError("io", `cannot open ${path}: ${describe(err)}`, { cause: err });
    }
    try {
      const size = ops.fstat(this.fd).size;
      if (size < committed) {
        throw new VbatchError(
          "io",
          `${path} is shorter (${size} bytes) than the journal's committed ${committed} bytes: it was truncated or replaced since the last run. Restore it, or pass --restart to start the job over.`,
        );
      }
      if (size > committed) ops.truncate(this.fd, committed); // the uncommitted tail of a crash
    } catch (err) {
      ops.close(this.fd);
      if (err instanceof VbatchError) throw err;
      throw new VbatchError("io", `cannot cut ${path} back to its committed length: ${describe(err)}`, {
        cause: err,
      });
    }
    this.offset = committed;
  }

  /**
   * Throws when another program changed the file since the last commit (cut it, wrote to it, or
   * replaced or removed it): appending then would leave a hole, or write into a deleted file.
   */
  checkUnchanged(): void {
    const now = this.ops.fstat(this.fd);
    const atPath = this.ops.stat(this.path);
    let what: string | null = null;
    if (atPath === null) what = "it was removed";
    else if (atPath.ino !== now.ino || atPath.dev !== now.dev) what = "it was replaced by another file";
    else if (now.size !== this.offset) what = `it is ${now.size} bytes where the job wrote ${this.offset}`;
    if (what !== null) {
      throw new VbatchError(
        "io",
        `${this.path} was changed by another program while the job ran (${what}). Restore it, or pass --restart to start the job over.`,
      );
    }
  }

  append(data: string): void {
    if (data.length === 0) return;
    const buf = Buffer.from(data, "utf8");
    let written = 0;
    while (written < buf.length) {
      written += this.ops.write(this.fd, buf, written, buf.length - written, this.offset + written);
    }
    this.offset += buf.length;
  }

  /** Back to `length` (best effort: if this fails too, the next open cuts the file anyway). */
  rollback(length: number): void {
    this.offset = length;
    try {
      this.ops.truncate(this.fd, length);
    } catch {
      // The journal still says `length`; whoever opens the file next truncates it there.
    }
  }

  close(): void {
    this.ops.close(this.fd);
  }
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
  private closed = false;
  /** The failure that poisoned the sink: every later flush reports it and writes nothing. */
  private failure: VbatchError | null = null;

  constructor(options: SinkOptions) {
    const committed = options.journal.offsets();
    this.journal = options.journal;
    this.ops = options.ops ?? nodeFileOps;
    this.out = new AppendFile(this.ops, options.outputPath, committed.out);
    try {
      this.err = new AppendFile(this.ops, options.errorsPath, committed.err);
    } catch (e) {
      this.out.close();
      throw e;
    }
    this.maxRows = options.maxRows ?? 2000;
    this.maxBytes = options.maxBytes ?? 8 << 20;
    this.fsync = options.fsync ?? true;
  }

  get buffered(): number {
    return this.updates.length + this.invalidWritten.length;
  }

  /** Set once a commit cycle failed; the sink then takes nothing more. */
  get failed(): VbatchError | null {
    return this.failure;
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
  flush(): number {
    if (this.failure) throw this.failure;
    const n = this.buffered;
    if (n === 0 || this.closed) return 0;
    try {
      if (this.outBuf.length > 0) this.out.checkUnchanged();
      if (this.errBuf.length > 0) this.err.checkUnchanged();
    } catch (e) {
      // Not ours to cut back: the files are left exactly as the other program made them.
      throw this.poison(null, e as VbatchError);
    }
    const before = { out: this.out.offset, err: this.err.offset };
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
      throw this.poison(
        before,
        new VbatchError("io", `cannot write ${file.path}: ${describe(e)}`, { cause: e }),
      );
    }
    try {
      this.journal.commit(this.updates, this.invalidWritten, { out: this.out.offset, err: this.err.offset });
    } catch (e) {
      throw this.poison(
        before,
        e instanceof VbatchError
          ? e
          : new VbatchError("io", `journal commit failed: ${describe(e)}`, { cause: e }),
      );
    }
    this.clearBuffer();
    return n;
  }

  private clearBuffer(): void {
    this.outBuf = [];
    this.errBuf = [];
    this.updates = [];
    this.invalidWritten = [];
    this.bytes = 0;
  }

  /** Drops the buffer, puts the files back to `before` (unless null), and refuses further work. */
  private poison(before: { out: number; err: number } | null, failure: VbatchError): VbatchError {
    if (before) {
      this.out.rollback(before.out);
      this.err.rollback(before.err);
    }
    this.clearBuffer();
    this.failure = failure;
    return failure;
  }

  /** Commits what is buffered and closes the files; after a failure, only closes them. */
  close(): void {
    if (this.closed) return;
    try {
      if (!this.failure) this.flush();
    } finally {
      this.closed = true;
      this.out.close();
      this.err.close();
    }
    // No failures, no errors file (it is created again if a later run needs it).
    if (this.err.offset === 0) rmSync(this.err.path, { force: true });
  }

  /** Closes the files without committing what is buffered (those rows stay pending). */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.close();
    this.err.close();
  }
}
