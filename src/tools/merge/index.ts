// mergeOutputs(): shard outputs (and the errors files beside them) become one output and one
// errors file, after checking that every custom_id appears exactly once and, given the input,
// that every input row has its result and nothing else does. Writes nothing unless all is well.
import { closeSync, existsSync, openSync, readSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { VbatchError } from "../../errors.js";
import { detectFormat } from "../../formats/index.js";
import { readLineBatches } from "../../input/lines.js";
import { isGzip, openInput } from "../../input/open.js";
import { isPlainObject } from "../../input/row.js";
import { errorsBeside, journalBeside } from "../../job/paths.js";
import { runningJobOwner } from "../../journal/job-lock.js";
import { echoId } from "../../util/echo.js";
import { AtomicLineWriter, refuseOverwrite } from "../line-writer.js";
import { classify, readSourceLines } from "./source.js";
import { MergeStore, type StoredLine } from "./store.js";
import { MergeProblems } from "./verify.js";

export type MergeOrder = "input" | "completion";

export interface MergeOptions {
  /** Shard output files; the `<stem>.errors.jsonl` beside each is read too when present. */
  outputs: string[];
  /** Merged output (successes). */
  output: string;
  /** The original input: checks that every row has exactly one result, and enables input order. */
  input?: string | undefined;
  /** "completion" concatenates; "input" writes in the input's line order. @default "completion" */
  order?: MergeOrder;
  /** Merged failures. @default "<output stem>.errors.jsonl" beside the output */
  errorsOut?: string | undefined;
  /** Where the scratch database goes. @default os.tmpdir() */
  scratchDir?: string | undefined;
  /** Replace merged files that already hold something. @default false */
  force?: boolean | undefined;
}

export interface MergeReport {
  output: string;
  errors: string;
  order: MergeOrder;
  sources: { path: string; lines: number }[];
  succeeded: number;
  failed: number;
  /** Failure lines without a custom_id (input lines so broken they had none). */
  unkeyed: number;
  input: string | null;
  inputRows: number | null;
}

function sourcesOf(outputs: string[]): string[] {
  const list: string[] = [];
  const seen = new Set<string>();
  for (const o of outputs) {
    if (!existsSync(o)) throw new VbatchError("usage", `${o} does not exist`);
    const beside = errorsBeside(o);
    for (const p of [o, beside]) {
      if (!existsSync(p) || seen.has(resolve(p))) continue;
      seen.add(resolve(p));
      list.push(p);
    }
  }
  return list;
}

/** Refuses an output whose job is still running: its file is still growing. */
function checkNotRunning(outputs: string[]): void {
  for (const o of outputs) {
    const who = runningJobOwner(journalBeside(o));
    if (who === null) continue;
    throw new VbatchError(
      "job_running",
      `${o} is still being written: its job is running${who ? ` (${who})` : ""}. Merge once every shard has finished.`,
    );
  }
}

function checkOptions(o: MergeOptions, order: MergeOrder, sources: string[], errorsOut: string): void {
  if (o.outputs.length === 0) throw new VbatchError("usage", "name at least one output file to merge");
  if (order === "input" && o.input === undefined)
    throw new VbatchError("usage", "--order input needs --input <original.jsonl>");
  const targets = [resolve(o.output), resolve(errorsOut)];
  if (targets[0] === targets[1])
    throw new VbatchError("usage", `-o and --errors-out are the same file (${o.output})`);
  for (const p of [...sources, ...(o.input ? [o.input] : [])]) {
    if (targets.includes(resolve(p))) throw new VbatchError("usage", `the merged files would overwrite ${p}`);
  }
}

async function loadInput(
  path: string,
  store: MergeStore,
  problems: MergeProblems,
): Promise<{ rows: number; unkeyed: number }> {
  let rows = 0;
  let unkeyed = 0;
  for await (const batch of readLineBatches(openInput(path), undefined, Number.POSITIVE_INFINITY)) {
    store.transaction(() => {
      for (const l of batch) {
        let id: unknown;
        try {
          const v: unknown = JSON.parse(l.text);
          id = isPlainObject(v) ? v[detectFormat(v).idField] : undefined;
        } catch {
          id = undefined;
        }
        if (typeof id !== "string" || id === "") {
          unkeyed++; // run writes such a line to the errors file with custom_id null
          continue;
        }
        rows++;
        const first = store.addInput(l.lineNo, id);
        if (first !== null) {
          problems.inputDuplicates.add(
            `${path} line ${l.lineNo}: duplicate custom_id ${echoId(String(id))} (first on line ${first})`,
          );
        }
      }
    });
  }
  return { rows, unkeyed };
}

function readBack(l: StoredLine, fds: number[]): string {
  if (l.text !== null) return l.text;
  const buf = Buffer.allocUnsafe(l.length);
  let done = 0;
  while (done < l.length) {
    const n = readSync(fds[l.file] as number, buf, done, l.length - done, l.offset + done);
    if (n === 0) throw new VbatchError("io", "a shard output changed while it was being merged");
    done += n;
  }
  return buf.toString("utf8");
}

export async function mergeOutputs(o: MergeOptions): Promise<MergeReport> {
  const order = o.order ?? "completion";
  const errorsOut = o.errorsOut ?? errorsBeside(resolve(o.output));
  const sources = sourcesOf(o.outputs);
  checkOptions(o, order, sources, errorsOut);
  checkNotRunning(o.outputs);
  refuseOverwrite(o.output, o.force);
  refuseOverwrite(errorsOut, o.force, "--errors-out");
  const problems = new MergeProblems();
  const store = new MergeStore(o.scratchDir);
  const writers: AtomicLineWriter[] = [];
  const fds: number[] = [];
  const report: MergeReport = {
    output: resolve(o.output),
    errors: resolve(errorsOut),
    order,
    sources: [],
    succeeded: 0,
    failed: 0,
    unkeyed: 0,
    input: o.input ? resolve(o.input) : null,
    inputRows: null,
  };
  try {
    const out = new AtomicLineWriter(o.output);
    writers.push(out);
    const err = new AtomicLineWriter(errorsOut);
    writers.push(err);
    const input = o.input ? await loadInput(o.input, store, problems) : null;
    report.inputRows = input?.rows ?? null;
    const merge: Merging = { store, problems, report, order, sources, out, err };
    for (const [file, path] of sources.entries()) {
      report.sources.push({ path: resolve(path), lines: await mergeSource(merge, file, path) });
    }
    if (input && o.input) checkAgainstInput(merge, input, o.input);
    if (problems.count > 0) throw problems.error();
    if (order === "input") {
      for (const p of sources) fds.push(openSync(p, "r"));
      for (const l of store.inInputOrder()) (l.failed ? err : out).write(`${readBack(l, fds)}\n`);
    }
    out.commit();
    // No failures, no errors file, as after a run (a stale one from an earlier merge goes too).
    if (err.lines === 0) {
      err.abort();
      rmSync(errorsOut, { force: true });
    } else err.commit();
    return report;
  } finally {
    for (const w of writers) w.abort();
    for (const fd of fds) closeSync(fd);
    store.close();
  }
}

/** What reading each source needs: the scratch store, the problems and report, the writers. */
interface Merging {
  store: MergeStore;
  problems: MergeProblems;
  report: MergeReport;
  order: MergeOrder;
  sources: string[];
  out: AtomicLineWriter;
  err: AtomicLineWriter;
}

/** One output file into the store (and, in completion order, the merged files); returns its lines. */
async function mergeSource(m: Merging, file: number, path: string): Promise<number> {
  const { store, problems, report, order } = m;
  const keepText = order === "input" && isGzip(path);
  let lines = 0;
  for await (const batch of readSourceLines(path)) {
    store.transaction(() => {
      for (const l of batch) {
        lines++;
        const c = classify(l.text);
        if (!c.ok) {
          problems.unreadable.add(`${path} line ${l.lineNo}: ${c.message}`);
          continue;
        }
        const first = store.add({
          ...l,
          customId: c.customId,
          file,
          line: l.lineNo,
          failed: !c.success,
          text: keepText ? l.text : null,
        });
        if (first) {
          problems.duplicates.add(
            `duplicate custom_id ${c.customId === null ? "null" : echoId(c.customId)}: ${m.sources[first.file]} line ${first.line} and ${path} line ${l.lineNo}`,
          );
          continue;
        }
        if (c.success) report.succeeded++;
        else report.failed++;
        if (c.customId === null) report.unkeyed++;
        if (order === "completion") (c.success ? m.out : m.err).write(`${l.text}\n`);
      }
    });
  }
  return lines;
}

/** --input: every row of it answered once, and nothing else. */
function checkAgainstInput(m: Merging, input: { unkeyed: number }, inputPath: string): void {
  const { store, problems, report } = m;
  for (const r of store.missing())
    problems.missing.add(`missing custom_id ${echoId(r.custom_id)} (${inputPath} line ${r.line})`);
  for (const s of store.strangers()) {
    problems.strangers.add(
      `custom_id ${echoId(s.custom_id)} (${m.sources[s.file]} line ${s.line}) is not in ${inputPath}`,
    );
  }
  if (input.unkeyed !== report.unkeyed) {
    const lines = `${input.unkeyed} line${input.unkeyed === 1 ? "" : "s"}`;
    const results = `${report.unkeyed} result${report.unkeyed === 1 ? "" : "s"}`;
    problems.other.add(
      `${inputPath} has ${lines} without a usable custom_id, but the outputs have ${results} without one`,
    );
  }
}
