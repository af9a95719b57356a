// Gets a job's files ready: restart or resume, the stdin spool, the journal, and the validation
// pass. Nothing here talks to an engine, so bad input is refused before a request is sent.
import { randomBytes } from "node:crypto";
import { existsSync, rmSync, statSync } from "node:fs";
import type { Logger } from "pino";
import { VbatchError } from "../errors.js";
import type { FormatName } from "../formats/types.js";
import { fingerprintFile } from "../input/fingerprint.js";
import { DEFAULT_MAX_LINE_BYTES, describeCap } from "../input/lines.js";
import { spoolStream } from "../input/spool.js";
import type { FileOps } from "../io/file-ops.js";
import { Journal } from "../journal/journal.js";
import { processLabel } from "../journal/lock.js";
import { checkJobFiles, FILES_META, parseFilesRecord } from "../output/job-files.js";
import { notTheJobsInput, unknownOutput } from "./advice.js";
import type { DedupeMode } from "./dedupe.js";
import { type IngestProgress, ingestInput, invalidInputError, type ModelUse, type Shard } from "./ingest.js";
import type { ResolvedPaths } from "./options.js";
import { finishErrorsRewrite } from "./retry/errors-rewrite.js";

export interface PreparedJob {
  journal: Journal;
  /** The file to stream rows from (the spool for stdin). */
  inputFile: string;
  jobId: string;
  /** True when an earlier run's journal was found and accepted. */
  resumed: boolean;
  rowsWithoutModel: number;
  /** Rows per model the input names; null for a journal of a version that did not record them. */
  models: Map<string, ModelUse> | null;
  /** The line cap the input was validated with. */
  maxLineBytes: number;
  /** Bytes of input the rows were validated from (null in journals that did not record it). */
  inputBytes: number | null;
  /** Files this run made (a new journal, the stdin spool): a refused run removes them again. */
  created: string[];
}

/**
 * Closes the job's journal and removes what this run made, for a run refused before it sent
 * anything: the directory is left as the run found it.
 */
export function discardPrepared(job: PreparedJob): void {
  job.journal.close();
  for (const f of job.created) {
    if (f === job.journal.path) removeJournal(f);
    else rmSync(f, { force: true });
  }
}

function modelsFromMeta(text: string | undefined): Map<string, ModelUse> | null {
  if (text === undefined) return null;
  try {
    return new Map(JSON.parse(text) as [string, ModelUse][]);
  } catch {
    return null;
  }
}

function numberOrNull(text: string | undefined): number | null {
  return text === undefined ? null : Number(text);
}

function nonEmpty(path: string): boolean {
  return existsSync(path) && statSync(path).size > 0;
}

export function removeJournal(path: string): void {
  for (const p of [path, `${path}-wal`, `${path}-shm`]) rmSync(p, { force: true });
}

/** What prepareJob is told besides the paths. */
export interface PrepareOptions {
  restart: boolean;
  skipInvalid: boolean;
  shard?: Shard | undefined;
  dedupe?: DedupeMode | undefined;
  stdin?: NodeJS.ReadableStream | undefined;
  /** The journal's commit hook (tests inject failures there). */
  fileOps?: FileOps | undefined;
  /** How far the validation pass has read. */
  onIngest?: ((p: IngestProgress) => void) | undefined;
  /** Read every line as this format (--format). */
  format?: FormatName | undefined;
  /** The line cap (--max-line-mb); undefined: the default, or a resumed job's own. */
  maxLineBytes?: number | undefined;
}

/** The input as this run reads it: the file itself, or the spool stdin was copied to. */
interface OpenedInput {
  inputFile: string;
  /** The spool's SHA-256, known from copying it. */
  knownSha: string | undefined;
  /** Files this run made so far. */
  created: string[];
}

export async function prepareJob(
  paths: ResolvedPaths,
  opts: PrepareOptions,
  log?: Logger,
): Promise<PreparedJob> {
  const hadJournal = clearTheWay(paths, opts);
  const input = await openInput(paths, opts, hadJournal);
  const journal = openJournal(paths, opts, input.created);
  try {
    journal.claim(processLabel());
    // Before anything opens, renames or cuts a file: is this the journal of these files?
    checkJobFiles(parseFilesRecord(journal.getMeta(FILES_META)), paths);
    finishErrorsRewrite(journal, paths.errors);
    if (journal.ingested) return await resume(journal, paths, opts, input, log);
    return await ingestNew(journal, paths, opts, input, log);
  } catch (err) {
    journal.close();
    // A refused input leaves nothing behind; a journal of a real earlier run is kept.
    if (!hadJournal || (err instanceof VbatchError && err.code === "invalid_input"))
      removeJournal(paths.journal);
    for (const f of input.created) if (f !== paths.journal) rmSync(f, { force: true });
    throw err;
  }
}

/**
 * Refuses a missing input, deletes an earlier job's files for --restart, and refuses output files
 * that hold lines no journal accounts for. Returns whether a journal was there.
 */
function clearTheWay(paths: ResolvedPaths, opts: PrepareOptions): boolean {
  if (paths.input !== "-" && !existsSync(paths.input)) {
    throw new VbatchError("usage", `input ${paths.input} does not exist`);
  }
  if (opts.restart) {
    removeJournal(paths.journal);
    rmSync(paths.output, { force: true });
    rmSync(paths.errors, { force: true });
  }
  const hadJournal = existsSync(paths.journal);
  if (!hadJournal) {
    for (const p of [paths.output, paths.errors]) {
      if (nonEmpty(p)) {
        throw new VbatchError("usage", unknownOutput(p, paths));
      }
    }
  }
  return hadJournal;
}

/** stdin is spooled to a file, because the input is read twice and again on resume. */
async function openInput(
  paths: ResolvedPaths,
  opts: PrepareOptions,
  hadJournal: boolean,
): Promise<OpenedInput> {
  const created = hadJournal ? [] : [paths.journal];
  if (paths.input !== "-") return { inputFile: paths.input, knownSha: undefined, created };
  const inputFile = paths.stdinSpool;
  if (!existsSync(inputFile)) created.push(inputFile);
  const knownSha = await spoolStream((opts.stdin ?? process.stdin) as never, inputFile);
  return { inputFile, knownSha, created };
}

/** Opens (or makes) the journal; a journal that cannot be opened leaves nothing this run made. */
function openJournal(paths: ResolvedPaths, opts: PrepareOptions, created: string[]): Journal {
  try {
    return new Journal(paths.journal, { ops: opts.fileOps });
  } catch (err) {
    for (const f of created)
      if (f === paths.journal) removeJournal(f);
      else rmSync(f, { force: true });
    throw err;
  }
}

/** A journal whose input was validated: resumed if it was made for this input and these flags. */
async function resume(
  journal: Journal,
  paths: ResolvedPaths,
  opts: PrepareOptions,
  input: OpenedInput,
  log: Logger | undefined,
): Promise<PreparedJob> {
  const shardSpec = opts.shard ? `${opts.shard.index}/${opts.shard.count}` : "";
  if ((journal.getMeta("shard") ?? "") !== shardSpec) {
    throw new VbatchError(
      "usage",
      `this job's journal ${paths.journal} was made for shard "${journal.getMeta("shard") || "none"}", not "${shardSpec || "none"}": use the same --shard, another -o, or --restart`,
    );
  }
  const readAs = journal.getMeta("format") ?? "openai";
  if (opts.format && opts.format !== readAs) {
    throw new VbatchError(
      "usage",
      `this job's journal ${paths.journal} read its input as ${readAs}, not ${opts.format}: drop --format, or pass --restart to start over`,
    );
  }
  const cap = Number(journal.getMeta("max_line_bytes") ?? DEFAULT_MAX_LINE_BYTES);
  if (opts.maxLineBytes !== undefined && opts.maxLineBytes !== cap) {
    throw new VbatchError(
      "usage",
      `this job's journal ${paths.journal} validated its input with --max-line-mb ${describeCap(cap)}, not ${describeCap(opts.maxLineBytes)}: drop the flag to resume, or pass --restart to validate again with the new limit`,
    );
  }
  const sha = input.knownSha ?? (await fingerprintFile(input.inputFile));
  const was = journal.getMeta("input_sha256");
  if (sha !== was) {
    const c = journal.counts();
    throw new VbatchError(
      "input_changed",
      notTheJobsInput(paths, journal.getMeta("input_path"), c.succeeded + c.failed),
    );
  }
  log?.info({ journal: paths.journal }, "resuming job");
  return {
    journal,
    inputFile: input.inputFile,
    jobId: journal.getMeta("job_id") ?? "job",
    resumed: true,
    rowsWithoutModel: Number(journal.getMeta("rows_without_model") ?? 0),
    models: modelsFromMeta(journal.getMeta("models")),
    maxLineBytes: cap,
    inputBytes: numberOrNull(journal.getMeta("input_bytes")),
    created: input.created,
  };
}

/** New job, or an earlier validation pass that did not finish: (re)ingest from scratch. */
async function ingestNew(
  journal: Journal,
  paths: ResolvedPaths,
  opts: PrepareOptions,
  input: OpenedInput,
  log: Logger | undefined,
): Promise<PreparedJob> {
  journal.reset();
  log?.info({ input: paths.input === "-" ? "stdin" : paths.input }, "validating the input");
  const maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const result = await ingestInput(
    input.inputFile,
    journal,
    opts.shard,
    opts.dedupe ?? "auto",
    opts.onIngest,
    opts.format,
    maxLineBytes,
  );
  const display = paths.input === "-" ? "stdin" : paths.input;
  if (result.rows === 0 && result.invalid === 0 && !opts.shard) {
    throw new VbatchError("invalid_input", `${display} has no request lines (empty file)`);
  }
  // A file that is not JSONL at all is refused even with --skip-invalid: no line of it is a row.
  if (result.invalid > 0 && (!opts.skipInvalid || (result.notJsonl && result.rows === 0)))
    throw invalidInputError(display, result);
  const jobId = randomBytes(6).toString("hex");
  journal.setMeta({
    job_id: jobId,
    input_path: paths.input,
    input_sha256: result.sha256,
    rows_without_model: String(result.rowsWithoutModel),
    models: JSON.stringify([...result.models]),
    created_at: new Date().toISOString(),
    out_offset: "0",
    err_offset: "0",
    ingested: "1",
    shard: opts.shard ? `${opts.shard.index}/${opts.shard.count}` : "",
    dedupe: opts.dedupe ?? "auto",
    format: result.format ?? "openai",
    max_line_bytes: String(maxLineBytes),
    input_bytes: String(result.bytes),
    shared_prefixes: String(result.prefixes.repeats),
    length_spread: String(result.prefixes.lengthSpread()),
  });
  log?.info({ rows: result.rows, invalid: result.invalid }, "input validated");
  if (result.guidedRows > 0) {
    log?.warn(
      { rows: result.guidedRows },
      "rows use guided_json/guided_regex/guided_choice/guided_grammar, which vLLM ignores since v0.12: use response_format (json_schema) or structured_outputs",
    );
  }
  return {
    journal,
    inputFile: input.inputFile,
    jobId,
    resumed: false,
    rowsWithoutModel: result.rowsWithoutModel,
    models: result.models,
    maxLineBytes,
    inputBytes: result.bytes,
    created: input.created,
  };
}
