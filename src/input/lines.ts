// Splits a byte stream into JSONL lines in batches, without readline's per-line event overhead.
// Line numbers are physical (1-based, blank lines counted) so every message can name its line.
import type { Readable } from "node:stream";

export interface InputLine {
  /** 1-based physical line number. */
  lineNo: number;
  text: string;
}

/** Yields arrays of non-blank lines; `onBytes` sees every chunk (for fingerprinting). */
export async function* readLineBatches(
  stream: Readable,
  onBytes?: (chunk: Buffer) => void,
): AsyncGenerator<InputLine[]> {
  let lineNo = 0;
  let carry: Buffer | null = null;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    onBytes?.(chunk);
    const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    const batch: InputLine[] = [];
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl === -1) break;
      lineNo++;
      pushLine(batch, buf, start, nl, lineNo);
      start = nl + 1;
    }
    carry = start < buf.length ? buf.subarray(start) : null;
    if (batch.length > 0) yield batch;
  }
  if (carry && carry.length > 0) {
    const batch: InputLine[] = [];
    pushLine(batch, carry, 0, carry.length, lineNo + 1);
    if (batch.length > 0) yield batch;
  }
}

function pushLine(batch: InputLine[], buf: Buffer, start: number, end: number, lineNo: number): void {
  let e = end;
  if (e > start && buf[e - 1] === 13) e--; // CRLF
  // Skip blank (whitespace-only) lines cheaply: most lines start with "{".
  let s = start;
  while (s < e && (buf[s] === 32 || buf[s] === 9)) s++;
  if (s === e) return;
  batch.push({ lineNo, text: buf.toString("utf8", s, e) });
}
