// `vbatch retry`: after an outage, send the rows of the errors file again (all, or those with
// given codes). Their lines leave the errors file, the rows become pending in the journal, and
// the job resumes: what succeeds now lands in the output, what fails again goes back to errors.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { VbatchError } from "../../errors.js";
import { type BatchFormat, type FailureLine, type FormatName, formatNamed } from "../../formats/index.js";
import { lockJob } from "../../journal/job-lock.js";
import { Journal } from "../../journal/journal.js";
import type { FileLock } from "../../journal/lock.js";
import { RowState } from "../../journal/schema.js";
import { probeEngines } from "../../pool/discover.js";
import type { RunSummary } from "../../progress/progress.js";
import { isPlainObject } from "../../util/object.js";
import type { RunOptions } from "../options.js";
import { resolvePaths } from "../paths.js";
import { checkPaths, runJob } from "../run-batch.js";
import { currentErrorsFile, finishErrorsRewrite } from "./errors-rewrite.js";
import { checkRetryCodes, codesOf } from "./retry-codes.js";

export interface RetryOptions extends RunOptions {
  /**
   * Retry only lines with one of these codes: an HTTP status (e.g. "429", "500"), or a code the
   * line shows in its format's terms ("connection_error"; Anthropic "rate_limit_error"; Gemini
   * "5" or "NOT_FOUND"; Bedrock "503"). See docs/cli.md.
   */
  codes?: string[] | undefined;
}

export interface RetrySummary extends RunSummary {
  /** Rows taken out of the errors file and sent again. */
  reopened: number;
  /** Every HTTP status and error code the errors file held, with its number of lines. */
  codesInErrors: Record<string, number>;
  /** Lines the errors file held before the retry (failed rows and invalid input lines). */
  linesInErrors: number;
}

/** Flags of `run` that mean nothing to a retry, which works on an existing job as it is. */
function refuseRunOnly(o: RetryOptions): void {
  const given = [
    o.restart ? "--restart" : null,
    o.shard ? "--shard" : null,
    o.skipInvalid ? "--skip-invalid" : null,
  ].filter((f): f is string => f !== null);
  if (given.length > 0) {
    throw new VbatchError(
      "usage",
      `${given.join(", ")} ${given.length === 1 ? "does" : "do"} not apply to retry: it sends a finished job's failed rows again, with the job's own input, shard and invalid lines`,
    );
  }
}

/**
 * `held`: the job's lock, when the caller already took it (the CLI, before launching engines).
 * Nothing is changed until the job is locked, the failures to send are known and an engine
 * answers: a refused or failed retry leaves every file as it was.
 */
export async function retryFailed(options: RetryOptions, held?: FileLock): Promise<RetrySummary> {
  refuseRunOnly(options);
  const paths = resolvePaths(options);
  checkPaths(paths);
  if (!existsSync(paths.journal)) {
    throw new VbatchError(
      "usage",
      `no journal at ${paths.journal}: retry works on a job that ran (same -o as the run)`,
    );
  }
  const lock = held ?? lockJob(paths.journal);
  try {
    const plan = planReopen(paths, options.codes);
    if (plan.lines.length > 0) {
      await probeEngines(options);
      applyReopen(paths, plan);
    }
    const summary = await runJob(options, lock);
    return {
      ...summary,
      reopened: plan.lines.length,
      codesInErrors: plan.codesInErrors,
      linesInErrors: plan.lineCount,
    };
  } finally {
    if (!held) lock.release();
  }
}

interface ReopenPlan {
  /** Input lines of the failed rows to send again. */
  lines: number[];
  /** The errors file without them. */
  keep: string;
  /** Lines the errors file held. */
  lineCount: number;
  /** Every HTTP status and error code in the errors file, with how many lines carry it. */
  codesInErrors: Record<string, number>;
}

/**
 * Which failures go back (all, or those with `codes`), read without changing anything. Each line
 * is read as the job's format writes failures (its id field, its codes).
 */
function planReopen(paths: ReturnType<typeof resolvePaths>, codes: string[] | undefined): ReopenPlan {
  const journal = new Journal(paths.journal, { readonly: true });
  try {
    if (!journal.ingested)
      throw new VbatchError("usage", `the job of ${paths.journal} never finished validating its input`);
    const format = formatNamed((journal.getMeta("format") ?? "openai") as FormatName);
    const wanted = codes && codes.length > 0 ? new Set(codes) : null;
    if (wanted) checkRetryCodes(format, [...wanted]);
    // Only what the journal committed: a crash's tail past it is not part of the job.
    const committed = journal.offsets().err;
    const source = currentErrorsFile(journal, paths.errors);
    const text = existsSync(source) ? readFileSync(source).subarray(0, committed).toString("utf8") : "";
    const raws = text.split("\n").filter((raw) => raw.length > 0);
    const read = raws.map((raw) => readFailure(format, raw));
    // An invalid line that repeats a row's id (a duplicate) was written before the row's own
    // failure line: the last line with an id is the row's.
    const lastOf = new Map<string, number>();
    read.forEach((f, i) => {
      if (f) lastOf.set(f.id, i);
    });
    const keep: string[] = [];
    const lines: number[] = [];
    const counts = new Map<string, number>();
    raws.forEach((raw, i) => {
      const f = read[i];
      const row = f && lastOf.get(f.id) === i ? journal.rowOf(f.id) : undefined;
      const found = f ? codesOf(f, row?.status ?? null) : [];
      for (const c of found) counts.set(c, (counts.get(c) ?? 0) + 1);
      // Invalid input lines are not rows: sending them again cannot help.
      const retry =
        row !== undefined && row.state === RowState.failed && (!wanted || found.some((c) => wanted.has(c)));
      if (retry) lines.push(row.line);
      else keep.push(raw);
    });
    return {
      lines,
      keep: keep.length ? `${keep.join("\n")}\n` : "",
      lineCount: raws.length,
      codesInErrors: Object.fromEntries(counts),
    };
  } finally {
    journal.close();
  }
}

function readFailure(format: BatchFormat, raw: string): FailureLine | null {
  try {
    const parsed: unknown = JSON.parse(raw);
    return isPlainObject(parsed) ? format.failure(parsed) : null;
  } catch {
    return null;
  }
}

/**
 * Moves the planned failures out of the errors file and makes their rows pending again: the new
 * file is written beside it, the journal commit records it, then it is renamed into place.
 */
function applyReopen(paths: ReturnType<typeof resolvePaths>, plan: ReopenPlan): void {
  const journal = new Journal(paths.journal);
  try {
    journal.claim("vbatch retry"); // a run that still writes this job (its lock deleted) stops
    finishErrorsRewrite(journal, paths.errors);
    const tmp = `${paths.errors}.retry-tmp`;
    const fd = openSync(tmp, "w");
    try {
      writeSync(fd, plan.keep);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    journal.reopen(plan.lines, Buffer.byteLength(plan.keep), tmp);
    renameSync(tmp, paths.errors);
    journal.clearErrorsRewrite();
  } finally {
    journal.close();
  }
}
