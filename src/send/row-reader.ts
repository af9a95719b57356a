// The send pass's reading: streams the input, picks the lines the journal lists as pending, and
// proves each is the line that was validated (its fingerprint) before it becomes a request. A
// line that changed, vanished, or a file that ends early stops the job with input_changed:
// nothing answered so far is lost, and nothing is sent for text that was never validated.
import { readLineBatches } from "../input/lines.js";
import { openInput } from "../input/open.js";
import type { Journal, PendingRow } from "../journal/journal.js";
import { readSendJobsByKey } from "./keyed-reader.js";
import { changed, JobBatch, type RowReaderOptions } from "./row-batch.js";
import type { SendJob } from "./send-job.js";

export type { RowReaderOptions } from "./row-batch.js";

const PAGE = 4096;

/** The journal's pending rows in line order, fetched a page at a time. */
class PendingCursor {
  private page: PendingRow[] = [];
  private at = 0;
  private after = 0;
  private done = false;

  constructor(private readonly journal: Pick<Journal, "pendingPage">) {}

  peek(): PendingRow | undefined {
    if (this.at >= this.page.length && !this.done) {
      this.page = this.journal.pendingPage(this.after, PAGE);
      this.at = 0;
      if (this.page.length < PAGE) this.done = true;
    }
    return this.page[this.at];
  }

  take(): void {
    const row = this.page[this.at++];
    if (row) this.after = row.line;
  }
}

/** Yields the requests for the pending rows: in the order asked for, else in line order. */
export function readSendJobs(o: RowReaderOptions): AsyncGenerator<SendJob[]> {
  return o.order ? readSendJobsByKey(o, o.order) : readInOrder(o);
}

/** The input streamed in line order beside the journal's pending rows, a chunk at a time. */
async function* readInOrder(o: RowReaderOptions): AsyncGenerator<SendJob[]> {
  const cursor = new PendingCursor(o.journal);
  if (!cursor.peek()) return;
  const batch = new JobBatch();
  for await (const lines of readLineBatches(openInput(o.inputFile), undefined, o.maxLineBytes)) {
    for (const line of lines) {
      const want = cursor.peek();
      if (!want) break;
      if (line.lineNo < want.line) continue;
      if (line.lineNo > want.line) throw changed(o, `line ${want.line} is no longer a request`);
      cursor.take();
      batch.add(o, line, want, 0);
    }
    const jobs = batch.take();
    if (jobs.length > 0) yield jobs;
    if (!cursor.peek()) return; // every pending row is read; the rest of the file is not needed
  }
  const missing = cursor.peek();
  if (missing) throw changed(o, `it ends before line ${missing.line}`);
}
