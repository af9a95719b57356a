// The send pass in another order than the input's (rows sharing a prompt prefix one after another,
// or the longest first): rows are taken from the journal's index wherever they stand in the input,
// and each is read back from its byte offset (a plain file only). Reads are gathered: a batch of rows is sorted by offset and rows
// close together are read in one call. Each line is proved to be the line that was validated, as
// in line order; a line cut short (a file that shrank) stops the job with input_changed.
import { type FileHandle, open } from "node:fs/promises";
import type { InputLine } from "../input/lines.js";
import type { KeyedRow, RowOrder } from "../journal/journal.js";
import { changed, JobBatch, type RowReaderOptions } from "./row-batch.js";
import type { SendJob } from "./send-job.js";

/** Rows fetched from the journal at a time (metadata only: a few dozen bytes each). */
const PAGE = 4096;
/** Rows read from the input and handed on at a time (their text is held until sent). */
const BATCH = 256;
/** Rows this close in the file are read in one call. */
const GAP = 64 * 1024;
/** ...as long as the call reads at most this much. */
const SPAN = 1024 * 1024;

export async function* readSendJobsByKey(o: RowReaderOptions, order: RowOrder): AsyncGenerator<SendJob[]> {
  const { journal } = o;
  if (!journal.keyedPage) throw new Error("a keyed read needs a journal that can page by key");
  let fh: FileHandle;
  try {
    fh = await open(o.inputFile, "r");
  } catch (err) {
    throw changed(o, `it cannot be read (${(err as Error).message})`);
  }
  try {
    let ord = Number.NEGATIVE_INFINITY;
    let line = 0;
    for (;;) {
      const page = journal.keyedPage(order, ord, line, PAGE);
      for (let i = 0; i < page.length; i += BATCH) {
        const rows = page.slice(i, i + BATCH);
        const lines = await readRows(fh, rows, o);
        const batch = new JobBatch();
        rows.forEach((row, j) => {
          batch.add(o, lines[j] as InputLine, row, row.pkey);
        });
        yield batch.take();
      }
      const last = page[page.length - 1];
      if (last === undefined || page.length < PAGE) return;
      ord = last.ord;
      line = last.line;
    }
  } finally {
    await fh.close();
  }
}

/** The lines of `rows`, in their order, read in as few calls as their offsets allow. */
async function readRows(fh: FileHandle, rows: KeyedRow[], o: RowReaderOptions): Promise<InputLine[]> {
  const order = rows.map((_, i) => i).sort((a, b) => (rows[a] as KeyedRow).off - (rows[b] as KeyedRow).off);
  const out = new Array<InputLine>(rows.length);
  let at = 0;
  while (at < order.length) {
    const first = rows[order[at] as number] as KeyedRow;
    let end = first.off + first.len;
    let next = at + 1;
    for (; next < order.length; next++) {
      const r = rows[order[next] as number] as KeyedRow;
      if (r.off - end > GAP || r.off + r.len - first.off > SPAN) break;
      end = Math.max(end, r.off + r.len);
    }
    const buf = Buffer.allocUnsafe(end - first.off);
    const { bytesRead } = await fh.read(buf, 0, buf.length, first.off);
    for (let k = at; k < next; k++) {
      const i = order[k] as number;
      const r = rows[i] as KeyedRow;
      const from = r.off - first.off;
      if (from + r.len > bytesRead) throw changed(o, `it ends before line ${r.line}`);
      const raw = buf.subarray(from, from + r.len);
      out[i] = { lineNo: r.line, raw, text: raw.toString("utf8"), offset: r.off };
    }
    at = next;
  }
  return out;
}
