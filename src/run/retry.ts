// `vbatch retry`: after an outage, send the rows of the errors file again (all, or those with
// given codes). Their lines leave the errors file, the rows become pending in the journal, and
// the job resumes: what succeeds now lands in the output, what fails again goes back to errors.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { VbatchError } from "../errors.js";
import { Journal } from "../journal/journal.js";
import type { FileLock } from "../journal/lock.js";
import { RowState } from "../journal/schema.js";
import { probeEngines } from "./discover.js";
import { currentErrorsFile, finishErrorsRewrite } from "./errors-rewrite.js";
import { lockJob } from "./job-lock.js";
import type { RunOptions } from "./options.js";
import { resolvePaths } from "./paths.js";
import type { RunSummary } from "./progress.js";
import { checkPaths, runJob } from "./run-batch.js";

export interface RetryOptions extends RunOptions {
  /** Retry only lines whose HTTP status or error code is one of these (e.g. "429", "500", "connection_error"). */
  codes?: string[] | undefined;
}

export interface RetrySummary extends RunSummary {
  /** Rows taken out of the errors file and sent again. */
  reopened: number;
  /** Every HTTP status and error code the errors file held, with its number of lines. */
  codesInErrors: Record<string, number>;
}

function lineCodes(line: {
  response?: { status_code?: unknown } | null;
  error?: { code?: unknown } | null;
}): string[] {
  const codes: string[] = [];
  if (line.response && typeof line.response.status_code === "number")
    codes.push(String(line.response.status_code));
  if (line.error && typeof line.error.code === "string") codes.push(line.error.code);
  return codes;
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
    return { ...summary, reopened: plan.lines.length, codesInErrors: plan.codesInErrors };
  } finally {
    if (!held) lock.release();
  }
}

interface ReopenPlan {
  /** Input lines of the failed rows to send again. */
  lines: number[];
  /** The errors file without them. */
  keep: string;
  /** Every HTTP status and error code in the errors file, with how many lines carry it. */
  codesInErrors: Record<string, number>;
}

/** Which failures go back (all, or those with `codes`), read without changing anything. */
function planReopen(paths: ReturnType<typeof resolvePaths>, codes: string[] | undefined): ReopenPlan {
  const journal = new Journal(paths.journal, { readonly: true });
  try {
    if (!journal.ingested)
      throw new VbatchError("usage", `the job of ${paths.journal} never finished validating its input`);
    // Only what the journal committed: a crash's tail past it is not part of the job.
    const committed = journal.offsets().err;
    const source = currentErrorsFile(journal, paths.errors);
    const text = existsSync(source) ? readFileSync(source).subarray(0, committed).toString("utf8") : "";
    const keep: string[] = [];
    const lines: number[] = [];
    const counts = new Map<string, number>();
    const wanted = codes && codes.length > 0 ? new Set(codes) : null;
    for (const raw of text.split("\n")) {
      if (raw.length === 0) continue;
      let parsed: {
        custom_id?: unknown;
        response?: { status_code?: unknown } | null;
        error?: { code?: unknown } | null;
      };
      try {
        parsed = JSON.parse(raw);
      } catch {
        keep.push(raw);
        continue;
      }
      const row = typeof parsed.custom_id === "string" ? journal.rowOf(parsed.custom_id) : undefined;
      const lineCodesFound = lineCodes(parsed);
      for (const c of lineCodesFound) counts.set(c, (counts.get(c) ?? 0) + 1);
      // Invalid input lines are not rows: sending them again cannot help.
      const retry =
        row !== undefined &&
        row.state === RowState.failed &&
        (!wanted || lineCodesFound.some((c) => wanted.has(c)));
      if (retry && row) lines.push(row.line);
      else keep.push(raw);
    }
    return {
      lines,
      keep: keep.length ? `${keep.join("\n")}\n` : "",
      codesInErrors: Object.fromEntries(counts),
    };
  } finally {
    journal.close();
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
