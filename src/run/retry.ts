// `vbatch retry`: after an outage, send the rows of the errors file again (all, or those with
// given codes). Their lines leave the errors file, the rows become pending in the journal, and
// the job resumes: what succeeds now lands in the output, what fails again goes back to errors.
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { VbatchError } from "../errors.js";
import { Journal } from "../journal/journal.js";
import type { FileLock } from "../journal/lock.js";
import { RowState } from "../journal/schema.js";
import { finishErrorsRewrite } from "./errors-rewrite.js";
import { lockJob } from "./job-lock.js";
import type { RunOptions } from "./options.js";
import { resolvePaths } from "./paths.js";
import type { RunSummary } from "./progress.js";
import { runJob } from "./run-batch.js";

export interface RetryOptions extends RunOptions {
  /** Retry only lines whose HTTP status or error code is one of these (e.g. "429", "500", "connection_error"). */
  codes?: string[] | undefined;
}

export interface RetrySummary extends RunSummary {
  /** Rows taken out of the errors file and sent again. */
  reopened: number;
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

/** `held`: the job's lock, when the caller already took it (the CLI, before launching engines). */
export async function retryFailed(options: RetryOptions, held?: FileLock): Promise<RetrySummary> {
  const paths = resolvePaths(options);
  if (!existsSync(paths.journal)) {
    throw new VbatchError(
      "usage",
      `no journal at ${paths.journal}: retry works on a job that ran (same -o as the run)`,
    );
  }
  // Held from before the errors file is touched until the run ends: a job that is running is
  // refused with every file as it was.
  const lock = held ?? lockJob(paths.journal);
  try {
    const reopened = reopenFailed(paths, options.codes);
    const summary = await runJob(options, lock);
    return { ...summary, reopened };
  } finally {
    if (!held) lock.release();
  }
}

/** Moves the wanted failures out of the errors file and makes their rows pending again. */
function reopenFailed(paths: ReturnType<typeof resolvePaths>, codes: string[] | undefined): number {
  const journal = new Journal(paths.journal);
  let reopened = 0;
  try {
    if (!journal.ingested)
      throw new VbatchError("usage", `the job of ${paths.journal} never finished validating its input`);
    finishErrorsRewrite(journal, paths.errors);
    const committed = journal.offsets().err;
    const text = existsSync(paths.errors) ? readFileSync(paths.errors, "utf8").slice(0, committed) : "";
    const keep: string[] = [];
    const lines: number[] = [];
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
      const codes = lineCodes(parsed);
      // Invalid input lines are not rows: sending them again cannot help.
      const retry =
        row !== undefined && row.state === RowState.failed && (!wanted || codes.some((c) => wanted.has(c)));
      if (retry && row) lines.push(row.line);
      else keep.push(raw);
    }
    if (lines.length > 0) {
      const body = keep.length ? `${keep.join("\n")}\n` : "";
      const tmp = `${paths.errors}.retry-tmp`;
      const fd = openSync(tmp, "w");
      try {
        writeSync(fd, body);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      journal.reopen(lines, Buffer.byteLength(body), tmp);
      renameSync(tmp, paths.errors);
      journal.clearErrorsRewrite();
      reopened = lines.length;
    } else {
      rmSync(`${paths.errors}.retry-tmp`, { force: true });
    }
  } finally {
    journal.close();
  }
  return reopened;
}
