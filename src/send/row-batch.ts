// From a pending line to a request: the line proved to be the one validated (its fingerprint),
// parsed, given the job's defaults, and grouped with other single-input embedding rows. Shared by
// the reader in line order (row-reader.ts) and the one in prefix-key order (keyed-reader.ts).
import { VbatchError } from "../errors.js";
import type { FormatName } from "../formats/types.js";
import { lineFingerprint } from "../input/fingerprint.js";
import type { InputLine } from "../input/lines.js";
import { type BatchRow, bodyWithDefaults, parseLine } from "../input/row.js";
import { requestedSchema } from "../input/structured.js";
import type { Journal, PendingRow, RowOrder } from "../journal/journal.js";
import { lineId } from "../output/format.js";
import { coalescible, MAX_GROUP } from "./coalesce.js";
import { groupJob, type SendJob, singleJob } from "./send-job.js";
import type { RowTask } from "./task.js";

export interface RowReaderOptions {
  inputFile: string;
  /** How the input is named in messages (the path the user gave, or "stdin"). */
  displayPath: string;
  /** `keyedPage` is needed only with `order` (the provider's chunk reader reads in line order). */
  journal: Pick<Journal, "pendingPage"> & Partial<Pick<Journal, "keyedPage">>;
  /**
   * Read the pending rows in this order instead of the input's (a plain file only): rows sharing a
   * prompt prefix together, or the longest first.
   */
  order?: RowOrder | undefined;
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

export function changed(o: RowReaderOptions, what: string): VbatchError {
  return new VbatchError(
    "input_changed",
    `${o.displayPath} changed while the job ran: ${what}. Every row answered so far is kept. Restore the file and re-run the same command to go on, or pass --restart to start over with the file as it is now.`,
  );
}

/** Collects single-input embedding rows into groups of up to MAX_GROUP; other rows go out alone. */
export class JobBatch {
  readonly jobs: SendJob[] = [];
  private readonly groups = new Map<string, RowTask[]>();

  add(o: RowReaderOptions, line: InputLine, want: PendingRow, pkey: number): void {
    const { task, row } = taskFor(o, line, want);
    if (pkey !== 0) task.pkey = pkey;
    const c = o.coalesce ? coalescible(row.url, row.body, task.body) : null;
    if (c === null) {
      this.jobs.push(singleJob(task));
      return;
    }
    task.coalesce = { input: c.input, span: c.span };
    const group = this.groups.get(c.key);
    if (!group) this.groups.set(c.key, [task]);
    else if (group.push(task) >= MAX_GROUP) {
      this.groups.delete(c.key);
      this.jobs.push(groupJob(group));
    }
  }

  /** The jobs so far: rows never wait for more input, partial groups go out too. */
  take(): SendJob[] {
    for (const tasks of this.groups.values()) this.jobs.push(groupJob(tasks));
    this.groups.clear();
    return this.jobs.splice(0);
  }
}

/** A pending line, proved to be the line that was validated, as a task. */
function taskFor(o: RowReaderOptions, line: InputLine, want: PendingRow): { task: RowTask; row: BatchRow } {
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
  return { task, row };
}
