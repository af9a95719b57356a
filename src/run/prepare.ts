// Gets a job's files ready: restart or resume, the stdin spool, the journal, and the validation
// pass. Nothing here talks to an engine, so bad input is refused before a request is sent.
import { randomBytes } from "node:crypto";
import { existsSync, rmSync, statSync } from "node:fs";
import type { Logger } from "pino";
import { VbatchError } from "../errors.js";
import type { FormatName } from "../formats/types.js";
import { fingerprintFile } from "../input/fingerprint.js";
import { spoolStream } from "../input/spool.js";
import type { FileOps } from "../io/file-ops.js";
import { Journal } from "../journal/journal.js";
import { processLabel } from "../journal/lock.js";
import type { DedupeMode } from "./dedupe.js";
import { finishErrorsRewrite } from "./errors-rewrite.js";
import { type IngestProgress, ingestInput, invalidInputError, type ModelUse, type Shard } from "./ingest.js";
import type { ResolvedPaths } from "./options.js";

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
}

function modelsFromMeta(text: string | undefined): Map<string, ModelUse> | null {
  if (text === undefined) return null;
  try {
    return new Map(JSON.parse(text) as [string, ModelUse][]);
  } catch {
    return null;
  }
}

function nonEmpty(path: string): boolean {
  return existsSync(path) && statSync(path).size > 0;
}

export function removeJournal(path: string): void {
  for (const p of [path, `${path}-wal`, `${path}-shm`]) rmSync(p, { force: true });
}

export async function prepareJob(
  paths: ResolvedPaths,
  opts: {
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
  },
  log?: Logger,
): Promise<PreparedJob> {
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
        throw new VbatchError(
          "usage",
          `${p} already exists and no journal (${paths.journal}) says which rows it holds. Pass --restart to overwrite it, or choose another -o.`,
        );
      }
    }
  }

  let inputFile = paths.input;
  let knownSha: string | undefined;
  if (paths.input === "-") {
    inputFile = paths.stdinSpool;
    knownSha = await spoolStream((opts.stdin ?? process.stdin) as never, inputFile);
  }

  const journal = new Journal(paths.journal, { ops: opts.fileOps });
  try {
    journal.setOwner(processLabel());
    finishErrorsRewrite(journal, paths.errors);
    if (journal.ingested) {
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
      const sha = knownSha ?? (await fingerprintFile(inputFile));
      const was = journal.getMeta("input_sha256");
      if (sha !== was) {
        const c = journal.counts();
        throw new VbatchError(
          "input_changed",
          `${paths.input === "-" ? "stdin" : paths.input} differs from the input this job started with (journal ${paths.journal}, ${c.succeeded + c.failed} rows already finished). Re-run with the original input, or pass --restart to discard the earlier results and start over.`,
        );
      }
      log?.info({ journal: paths.journal }, "resuming job");
      return {
        journal,
        inputFile,
        jobId: journal.getMeta("job_id") ?? "job",
        resumed: true,
        rowsWithoutModel: Number(journal.getMeta("rows_without_model") ?? 0),
        models: modelsFromMeta(journal.getMeta("models")),
      };
    }
    // New job, or an earlier validation pass that did not finish: (re)ingest from scratch.
    journal.reset();
    log?.info({ input: paths.input === "-" ? "stdin" : paths.input }, "validating the input");
    const result = await ingestInput(
      inputFile,
      journal,
      opts.shard,
      opts.dedupe ?? "auto",
      opts.onIngest,
      opts.format,
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
      inputFile,
      jobId,
      resumed: false,
      rowsWithoutModel: result.rowsWithoutModel,
      models: result.models,
    };
  } catch (err) {
    journal.close();
    // A refused input leaves nothing behind; a journal of a real earlier run is kept.
    if (!hadJournal || (err instanceof VbatchError && err.code === "invalid_input"))
      removeJournal(paths.journal);
    throw err;
  }
}
