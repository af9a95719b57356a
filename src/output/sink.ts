// Group commit of finished rows: lines are buffered, appended to the output and errors files,
// fsynced, and then marked done in the journal in one transaction. A crash between the two steps
// leaves bytes past the committed offset; `open` cuts them off, and those rows are sent again.
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  rmSync,
  writeSync,
} from "node:fs";
import { VbatchError } from "../errors.js";
import type { Journal, RowUpdate } from "../journal/journal.js";

export interface SinkOptions {
  outputPath: string;
  errorsPath: string;
  journal: Journal;
  /** Commit once this many rows are buffered. @default 2000 */
  maxRows?: number;
  /** Or once this many bytes are buffered. @default 8 MiB */
  maxBytes?: number;
  /** fsync the output files before each journal commit. @default true */
  fsync?: boolean;
}

class AppendFile {
  readonly fd: number;
  offset: number;

  constructor(
    readonly path: string,
    committed: number,
  ) {
    const existed = existsSync(path);
    try {
      this.fd = openSync(path, existed ? "r+" : "w+");
    } catch (err) {
      throw new VbatchError("io", `cannot open ${path}: ${(err as Error).message}`, { cause: err });
    }
    const size = fstatSync(this.fd).size;
    if (size < committed) {
      closeSync(this.fd);
      throw new VbatchError(
        "io",
        `${path} is shorter (${size} bytes) than the journal's committed ${committed} bytes: it was truncated or replaced since the last run. Restore it, or pass --restart to start the job over.`,
      );
    }
    if (size > committed) ftruncateSync(this.fd, committed); // uncommitted tail from a crash
    this.offset = committed;
  }

  append(data: string): void {
    if (data.length === 0) return;
    const buf = Buffer.from(data, "utf8");
    let written = 0;
    while (written < buf.length) {
      written += writeSync(this.fd, buf, written, buf.length - written, this.offset + written);
    }
    this.offset += buf.length;
  }
}

export class ResultSink {
  private readonly out: AppendFile;
  private readonly err: AppendFile;
  private readonly journal: Journal;
  private outBuf: string[] = [];
  private errBuf: string[] = [];
  private updates: RowUpdate[] = [];
  private invalidWritten: number[] = [];
  private bytes = 0;
  private readonly maxRows: number;
  private readonly maxBytes: number;
  private readonly fsync: boolean;
  private closed = false;

  constructor(options: SinkOptions) {
    const committed = options.journal.offsets();
    this.journal = options.journal;
    this.out = new AppendFile(options.outputPath, committed.out);
    try {
      this.err = new AppendFile(options.errorsPath, committed.err);
    } catch (e) {
      closeSync(this.out.fd);
      throw e;
    }
    this.maxRows = options.maxRows ?? 2000;
    this.maxBytes = options.maxBytes ?? 8 << 20;
    this.fsync = options.fsync ?? true;
  }

  get buffered(): number {
    return this.updates.length + this.invalidWritten.length;
  }

  /** Buffers a finished row; returns true when the buffer is full and should be flushed. */
  add(line: string, toErrors: boolean, update: RowUpdate): boolean {
    (toErrors ? this.errBuf : this.outBuf).push(line);
    this.updates.push(update);
    this.bytes += line.length;
    return this.updates.length >= this.maxRows || this.bytes >= this.maxBytes;
  }

  /** Buffers the errors-file line of an invalid input line. */
  addInvalid(line: string, lineNo: number): void {
    this.errBuf.push(line);
    this.invalidWritten.push(lineNo);
    this.bytes += line.length;
  }

  /** Writes, syncs and commits everything buffered. Synchronous, so a signal cannot split it. */
  flush(): number {
    const n = this.buffered;
    if (n === 0 || this.closed) return 0;
    try {
      this.out.append(this.outBuf.join(""));
      this.err.append(this.errBuf.join(""));
      if (this.fsync) {
        if (this.outBuf.length > 0) fsyncSync(this.out.fd);
        if (this.errBuf.length > 0) fsyncSync(this.err.fd);
      }
    } catch (e) {
      throw new VbatchError("io", `cannot write results: ${(e as Error).message}`, { cause: e });
    }
    this.journal.commit(this.updates, this.invalidWritten, { out: this.out.offset, err: this.err.offset });
    this.outBuf = [];
    this.errBuf = [];
    this.updates = [];
    this.invalidWritten = [];
    this.bytes = 0;
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    closeSync(this.out.fd);
    closeSync(this.err.fd);
    // No failures, no errors file (it is created again if a later run needs it).
    if (this.err.offset === 0) rmSync(this.err.path, { force: true });
  }
}
