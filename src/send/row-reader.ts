// The send pass's reading: streams the input, picks the lines the journal lists as pending, and
// proves each is the line that was validated (its fingerprint) before it becomes a request. A
// line that changed, vanished, or a file that ends early stops the job with input_changed:
// nothing answered so far is lost, and nothing is sent for text that was never validated.
import { VbatchError } from "../errors.js";
import type { FormatName } from "../formats/types.js";
import { lineFingerprint } from "../input/fingerprint.js";
import { readLineBatches } from "../input/lines.js";
import { openInput } from "../input/open.js";
import { bodyWithDefaults, parseLine } from "../input/row.js";
import { requestedSchema } from "../input/structured.js";
import type { Journal, PendingRow } from "../journal/journal.js";
import { lineId } from "../output/format.js";
import { coalescible, MAX_GROUP } from "./coalesce.js";
import { groupJob, type SendJob, singleJob } from "./send-job.js";
import type { RowTask } from "./task.js";

export interface RowReaderOptions {
  inputFile: string;
  /** How the input is named in messages (the path the user gave, or "stdin"). */
  displayPath: string;
  journal: Pick<Journal, "pendingPage">;
  jobId: string;
  defaultModel: string | undefined;
  /** Models renamed on the way out (--model-map). */
  modelMap?: ReadonlyMap<string, string> | undefined;
  priority: number | undefined;
  /** Coalesce single-input embedding rows into one request. */
  coalesce: boolean;
  /** Note each row's requested JSON schema (for --validate-json). */
  schemas: boolean;
  /** The job's format, as its validation found it. */
  format?: FormatName | undefined;
  /** The line cap the job was validated with (a pending line is never longer). */
  maxLineBytes?: number | undefined;
  /** Keep each row's line as validated on its task (`text`). @default false */
  keepText?: boolean | undefined;
}

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

function changed(o: RowReaderOptions, what: string): VbatchError {
  return new VbatchError(
    "input_changed",
    `${o.displayPath} changed while the job ran: ${what}. Every row answered so far is kept. Restore the file and re-run the same command to go on, or pass --restart to start over with the file as it is now.`,
  );
}

/** Yields the requests for the pending rows, a chunk of the input at a time. */
export async function* readSendJobs(o: RowReaderOptions): AsyncGenerator<SendJob[]> {
  const cursor = new PendingCursor(o.journal);
  if (!cursor.peek()) return;
  const groups = new Map<string, RowTask[]>();
  for await (const batch of readLineBatches(openInput(o.inputFile), undefined, o.maxLineBytes)) {
    const jobs: SendJob[] = [];
    for (const line of batch) {
      const want = cursor.peek();
      if (!want) break;
      if (line.lineNo < want.line) continue;
      if (line.lineNo > want.line) throw changed(o, `line ${want.line} is no longer a request`);
      cursor.take();
      const proven = want.fp !== null;
      if (proven && lineFingerprint(line.raw) !== want.fp) {
        throw changed(o, `line ${line.lineNo} is not the line that was validated`);
      }
      const parsed = parseLine(line, o.format, proven);
      if (!parsed.ok) throw changed(o, `line ${line.lineNo} no longer validates (${parsed.message})`);
      const { row } = parsed;
      const task: RowTask = {
        line: line.lineNo,
        customId: row.customId,
        lineId: lineId(o.jobId, line.lineNo),
        url: row.url,
        body: bodyWithDefaults(row, { model: o.defaultModel, priority: o.priority, modelMap: o.modelMap }),
        attempts: 0,
      };
      if (row.shape) task.shape = row.shape;
      if (o.keepText) task.text = line.text;
      if (o.schemas) {
        const schema = requestedSchema(row.body);
        if (schema !== null) task.schema = schema;
      }
      const c = o.coalesce ? coalescible(row.url, row.body, task.body) : null;
      if (c === null) {
        jobs.push(singleJob(task));
        continue;
      }
      task.coalesce = { input: c.input, span: c.span };
      const group = groups.get(c.key);
      if (!group) groups.set(c.key, [task]);
      else if (group.push(task) >= MAX_GROUP) {
        groups.delete(c.key);
        jobs.push(groupJob(group));
      }
    }
    // Rows never wait for more input: partial groups go out with each chunk.
    for (const tasks of groups.values()) jobs.push(groupJob(tasks));
    groups.clear();
    if (jobs.length > 0) yield jobs;
    if (!cursor.peek()) return; // every pending row is read; the rest of the file is not needed
  }
  const missing = cursor.peek();
  if (missing) throw changed(o, `it ends before line ${missing.line}`);
}
