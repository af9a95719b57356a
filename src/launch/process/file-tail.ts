// Follows a growing log file line by line. Process engines write to a file rather than a pipe so
// they outlive vbatch when kept (`--keep`, `vbatch up`) and leave a full log behind for post-mortems.
import { closeSync, openSync, readSync, statSync } from "node:fs";

export class FileTail {
  private offset: number;
  private partial = "";
  private timer: NodeJS.Timeout | undefined;
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly path: string,
    private readonly onLine: (line: string) => void,
    options: { from?: number; intervalMs?: number } = {},
  ) {
    this.offset = options.from ?? 0;
    this.timer = setInterval(() => this.poll(), options.intervalMs ?? 100);
    this.timer.unref();
  }

  /** Current size of the file (where a new tail should start). */
  static sizeOf(path: string): number {
    try {
      return statSync(path).size;
    } catch {
      return 0;
    }
  }

  /** Reads whatever was appended since the last call. */
  poll(): void {
    let fd: number;
    try {
      fd = openSync(this.path, "r");
    } catch {
      return;
    }
    try {
      const buf = Buffer.allocUnsafe(64 * 1024);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, this.offset);
        if (n <= 0) break;
        this.offset += n;
        this.emit(this.decoder.decode(buf.subarray(0, n), { stream: true }));
      }
    } finally {
      closeSync(fd);
    }
  }

  private emit(text: string): void {
    const lines = (this.partial + text).split(/\r?\n/);
    this.partial = lines.pop() ?? "";
    for (const l of lines) this.onLine(l);
  }

  /** Reads the rest, flushes a last unterminated line and stops polling. */
  close(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.poll();
    if (this.partial.length > 0) this.onLine(this.partial);
    this.partial = "";
  }
}
