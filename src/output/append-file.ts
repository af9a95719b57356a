// One output or errors file as the commit cycle (sink.ts) uses it: written only at and after its
// committed length, checked for changes by other programs before each cycle, cut back when a
// cycle fails, and removed at the end only when it is still the very file this job made.
import { existsSync, statSync, unlinkSync } from "node:fs";
import { VbatchError } from "../errors.js";
import type { FileOps } from "../io/file-ops.js";

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One output file, written only at and after its committed length. */
export class AppendFile {
  readonly fd: number;
  /** Bytes written so far (committed, plus a cycle in progress). */
  offset: number;

  /** True when this open made the file. */
  readonly created: boolean;

  constructor(
    private readonly ops: FileOps,
    readonly path: string,
  ) {
    this.created = !existsSync(path);
    try {
      this.fd = ops.open(path, this.created ? "w+" : "r+");
    } catch (err) {
      throw new VbatchError("io", `cannot open ${path}: ${describe(err)}`, { cause: err });
    }
    this.offset = 0;
  }

  /** Cuts the uncommitted tail a crash left (call while the job is held: see Journal.whileHeld). */
  settle(committed: number): void {
    let size: number;
    try {
      size = this.ops.fstat(this.fd).size;
      if (size > committed) this.ops.truncate(this.fd, committed); // the uncommitted tail of a crash
    } catch (err) {
      throw new VbatchError("io", `cannot cut ${this.path} back to its committed length: ${describe(err)}`, {
        cause: err,
      });
    }
    if (size < committed) {
      throw new VbatchError(
        "io",
        `${this.path} is shorter (${size} bytes) than the journal's committed ${committed} bytes: it was truncated or replaced since the last run. Restore it, or pass --restart to start the job over.`,
      );
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

  /** Closes the file; a failure (EIO from a network filesystem's close) names it. */
  close(): void {
    try {
      this.ops.close(this.fd);
    } catch (err) {
      throw new VbatchError("io", `cannot close ${this.path}: ${describe(err)}`, { cause: err });
    }
  }

  /**
   * Removes the file if it is empty and is still, at its path, the regular file this job opened:
   * never a device, a file put in its place, or one holding bytes.
   */
  removeIfEmpty(): void {
    const open = this.ops.fstat(this.fd);
    const atPath = statSync(this.path, { throwIfNoEntry: false });
    if (open.size !== 0 || !atPath?.isFile() || atPath.ino !== open.ino || atPath.dev !== open.dev) return;
    unlinkSync(this.path);
  }
}

/** Closes both files, whatever the first does; then reports the first failure. */
export function closeBoth(a: AppendFile, b: AppendFile): void {
  try {
    a.close();
  } finally {
    b.close();
  }
}
