// Writes a result file through a temporary sibling renamed into place only when the whole command
// succeeded: a refused build or merge never leaves a half-written file under the real name.
import { closeSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { VbatchError } from "../errors.js";

const FLUSH_BYTES = 1 << 20;

export class AtomicLineWriter {
  lines = 0;
  private readonly tmp: string;
  private fd: number | null;
  private buf: string[] = [];
  private size = 0;

  constructor(readonly path: string) {
    this.tmp = `${path}.tmp-${process.pid}-${Date.now().toString(36)}`;
    try {
      this.fd = openSync(this.tmp, "w");
    } catch (err) {
      throw new VbatchError("usage", `cannot write ${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Appends one line; `line` must end with "\n". */
  write(line: string): void {
    this.buf.push(line);
    this.size += line.length;
    this.lines++;
    if (this.size >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.fd === null || this.buf.length === 0) return;
    const data = Buffer.from(this.buf.join(""), "utf8");
    this.buf = [];
    this.size = 0;
    let done = 0;
    while (done < data.length) done += writeSync(this.fd, data, done, data.length - done);
  }

  /** Flushes and moves the file into place. */
  commit(): void {
    this.flush();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    renameSync(this.tmp, this.path);
  }

  /** Drops everything written (safe to call after commit: then it does nothing). */
  abort(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
    rmSync(this.tmp, { force: true });
  }
}

/** Refuses to replace a file that holds something, unless told to (`--force`), as `run` does. */
export function refuseOverwrite(path: string, force: boolean | undefined, flag = "-o"): void {
  if (force) return;
  let size = 0;
  try {
    size = statSync(path).size;
  } catch {
    return; // absent: nothing to lose
  }
  if (size > 0) {
    throw new VbatchError(
      "usage",
      `${flag} ${path} already exists: pass --force to replace it, or choose another file`,
    );
  }
}
