// Splits a byte stream into JSONL lines in batches, without readline's per-line event overhead.
// Line numbers are physical (1-based, blank lines counted) so every message can name its line.
// Each line keeps its bytes (a view, not a copy): validation checks them for UTF-8 and the
// journal fingerprints them, so what is sent can be proved to be what was validated.
import type { Readable } from "node:stream";

export interface InputLine {
  /** 1-based physical line number. */
  lineNo: number;
  /** The line as text (UTF-8; invalid bytes become U+FFFD, so check `raw` before trusting it). */
  text: string;
  /** The line's bytes, without the line break and leading blanks. */
  raw: Buffer;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Yields arrays of non-blank lines; `onBytes` sees every chunk (for fingerprinting). */
export async function* readLineBatches(
  stream: Readable,
  onBytes?: (chunk: Buffer) => void,
): AsyncGenerator<InputLine[]> {
  const state = { lineNo: 0 };
  let carry: Buffer | null = null;
  let head = true;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    onBytes?.(chunk);
    let buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    if (head) {
      carry = buf;
      if (buf.length < BOM.length) continue; // too short yet to tell whether a BOM opens it
      head = false;
      // A UTF-8 byte-order mark, as editors on Windows write it, is not part of the first line.
      if (buf.subarray(0, BOM.length).equals(BOM)) buf = buf.subarray(BOM.length);
    }
    const batch: InputLine[] = [];
    const rest = splitLines(buf, batch, state);
    carry = rest < buf.length ? buf.subarray(rest) : null;
    if (batch.length > 0) yield batch;
  }
  if (carry && carry.length > 0) {
    // The last line has no line break (or the whole stream is shorter than a byte-order mark).
    const batch: InputLine[] = [];
    const rest = splitLines(carry, batch, state);
    if (rest < carry.length) pushLine(batch, carry, rest, carry.length, ++state.lineNo);
    if (batch.length > 0) yield batch;
  }
}

/** Pushes each complete line of `buf`, counting in `state`; returns where the unfinished rest starts. */
function splitLines(buf: Buffer, batch: InputLine[], state: { lineNo: number }): number {
  let start = 0;
  for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, start)) {
    pushLine(batch, buf, start, nl, ++state.lineNo);
    start = nl + 1;
  }
  return start;
}

function pushLine(batch: InputLine[], buf: Buffer, start: number, end: number, lineNo: number): void {
  let e = end;
  if (e > start && buf[e - 1] === 13) e--; // CRLF
  // Skip blank (whitespace-only) lines cheaply: most lines start with "{".
  let s = start;
  while (s < e && (buf[s] === 32 || buf[s] === 9)) s++;
  if (s === e) return;
  batch.push({ lineNo, text: buf.toString("utf8", s, e), raw: buf.subarray(s, e) });
}
