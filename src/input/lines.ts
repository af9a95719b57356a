// Splits a byte stream into JSONL lines in batches, without readline's per-line event overhead.
// Line numbers are physical (1-based, blank lines counted) so every message can name its line.
// Each line keeps its bytes (a view, not a copy): validation checks them for UTF-8 and the
// journal fingerprints them, so what is sent can be proved to be what was validated.
// A line longer than the cap is never held: past the cap its bytes are only counted, so a file
// that is one endless line (a gzip bomb inflating to 1.5 GB) costs time, not memory.
import type { Readable } from "node:stream";

export interface InputLine {
  /** 1-based physical line number. */
  lineNo: number;
  /** The line as text (UTF-8; invalid bytes become U+FFFD, so check `raw` before trusting it). */
  text: string;
  /** The line's bytes, without the line break and leading blanks. */
  raw: Buffer;
  /** Where `raw` starts in the (decompressed) stream: a plain file can be read back from here. */
  offset: number;
  /**
   * Set when the line was longer than the cap: its length in bytes (as far as it was counted)
   * and the cap. `text` and `raw` are then empty: the line was skipped, not read.
   */
  tooLong?: { bytes: number; cap: number };
}

/**
 * The default cap on one line, 64 MiB. Informed by what providers accept: Anthropic's Messages
 * API takes a request of at most 32 MB and a whole Message Batch of 256 MB (docs.anthropic.com,
 * API overview, "Request size limits"); OpenAI's Batch API takes an input file of at most 200 MB
 * (openai-node / Azure OpenAI REST reference, batches.create `input_file_id`). A line twice the
 * largest single request a provider accepts is a mistake, not a prompt.
 */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Bytes in the MB of --max-line-mb (MiB, as the 64 default is). */
export const MB = 1024 * 1024;

/** "64 MB" for messages, from a cap in bytes. */
export function describeCap(maxLineBytes: number): string {
  const mb = maxLineBytes / MB;
  return `${Number.isInteger(mb) ? mb : Number(mb.toPrecision(3))} MB`;
}

/** The message for a line past the cap; `flag` names what sets it, where a command has one. */
export function tooLongMessage(tooLong: { bytes: number; cap: number }, flag = "--max-line-mb"): string {
  return `line is ${tooLong.bytes.toLocaleString("en-US")} bytes, longer than the ${describeCap(tooLong.cap)} limit${flag ? ` (${flag})` : ""}`;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const NOTHING = Buffer.alloc(0);

function skipped(lineNo: number, bytes: number, cap: number): InputLine {
  return { lineNo, text: "", raw: NOTHING, offset: -1, tooLong: { bytes, cap } };
}

/** The unfinished line: the pieces of it read so far (each kept as a view, joined once). */
class Partial {
  private parts: Buffer[] = [];
  private length = 0;
  /** The stream position of the line's first byte. */
  private start = 0;
  /** Past the cap: only counting, nothing held. */
  private skipping = false;

  constructor(private readonly cap: number) {}

  get empty(): boolean {
    return this.length === 0 && !this.skipping;
  }

  /** Whether the line so far ends in a CR (of a CRLF, not counted in a skipped line's length). */
  private cr = false;

  add(piece: Buffer, at: number): void {
    if (piece.length === 0) return;
    if (this.length === 0 && !this.skipping) this.start = at;
    this.length += piece.length;
    this.cr = piece[piece.length - 1] === 13;
    if (this.skipping) return;
    // +1: a CRLF line of exactly the cap still fits once its CR is cut.
    if (this.length > this.cap + 1) {
      this.skipping = true;
      this.parts = [];
      return;
    }
    this.parts.push(piece);
  }

  /** Ends the line: pushes it (or its too-long marker) and starts the next. */
  finish(batch: InputLine[], lineNo: number): void {
    if (this.skipping) batch.push(skipped(lineNo, this.length - (this.cr ? 1 : 0), this.cap));
    else if (this.parts.length > 0) {
      const buf =
        this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.length);
      pushLine(batch, buf, 0, buf.length, lineNo, this.cap, this.start);
    }
    this.parts = [];
    this.length = 0;
    this.skipping = false;
  }
}

/**
 * Yields arrays of non-blank lines; `onBytes` sees every chunk (for fingerprinting). A line
 * longer than `maxLineBytes` is yielded as a `tooLong` marker with its line number, so each
 * reader refuses it (or, with --skip-invalid, records it) like any other bad line.
 */
export async function* readLineBatches(
  stream: Readable,
  onBytes?: (chunk: Buffer) => void,
  maxLineBytes: number = DEFAULT_MAX_LINE_BYTES,
): AsyncGenerator<InputLine[]> {
  const cap = maxLineBytes;
  const state = { lineNo: 0, pos: 0 };
  const partial = new Partial(cap);
  let head: Buffer | null = Buffer.alloc(0); // the first bytes, until a BOM can be told apart
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    onBytes?.(chunk);
    let buf = chunk;
    if (head) {
      head = Buffer.concat([head, chunk]);
      if (head.length < BOM.length) continue; // too short yet to tell whether a BOM opens it
      // A UTF-8 byte-order mark, as editors on Windows write it, is not part of the first line.
      const bom = head.subarray(0, BOM.length).equals(BOM);
      buf = bom ? head.subarray(BOM.length) : head;
      state.pos = bom ? BOM.length : 0;
      head = null;
    }
    const batch: InputLine[] = [];
    splitChunk(buf, batch, state, partial, cap);
    if (batch.length > 0) yield batch;
  }
  const batch: InputLine[] = [];
  if (head) splitChunk(head, batch, state, partial, cap); // the whole stream is shorter than a BOM
  // The last line has no line break.
  if (!partial.empty) partial.finish(batch, ++state.lineNo);
  if (batch.length > 0) yield batch;
}

/** Pushes each line `buf` completes or holds whole; keeps the unfinished rest in `partial`. */
function splitChunk(
  buf: Buffer,
  batch: InputLine[],
  state: { lineNo: number; pos: number },
  partial: Partial,
  cap: number,
): void {
  const base = state.pos;
  state.pos += buf.length;
  let start = 0;
  let nl = buf.indexOf(10);
  if (!partial.empty) {
    // The chunk continues a line begun in an earlier one.
    if (nl === -1) {
      partial.add(buf, base);
      return;
    }
    partial.add(buf.subarray(0, nl), base);
    partial.finish(batch, ++state.lineNo);
    start = nl + 1;
    nl = buf.indexOf(10, start);
  }
  for (; nl !== -1; nl = buf.indexOf(10, start)) {
    pushLine(batch, buf, start, nl, ++state.lineNo, cap, base);
    start = nl + 1;
  }
  if (start < buf.length) partial.add(buf.subarray(start), base + start);
}

function pushLine(
  batch: InputLine[],
  buf: Buffer,
  start: number,
  end: number,
  lineNo: number,
  cap: number,
  base: number,
): void {
  let e = end;
  if (e > start && buf[e - 1] === 13) e--; // CRLF
  // Skip blank (whitespace-only) lines cheaply: most lines start with "{".
  let s = start;
  while (s < e && (buf[s] === 32 || buf[s] === 9)) s++;
  if (s === e) return;
  if (e - s > cap) {
    batch.push(skipped(lineNo, e - s, cap));
    return;
  }
  batch.push({ lineNo, text: buf.toString("utf8", s, e), raw: buf.subarray(s, e), offset: base + s });
}
