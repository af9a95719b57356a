// A batch's result files when no run is active: read its counts, cut uncommitted tails after a
// crash, and close out unfinished rows (expiry of a batch that is queued or waiting for engines).
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { prepareJob } from "../../job/prepare.js";
import { Journal, type JournalCounts } from "../../journal/journal.js";
import { RowState } from "../../journal/schema.js";
import { errorLine, lineId } from "../../output/format.js";
import { ResultSink } from "../../output/sink.js";
import type { BatchPaths } from "../layout.js";

export function journalCounts(paths: BatchPaths): JournalCounts | null {
  if (!existsSync(paths.journal)) return null;
  const j = new Journal(paths.journal);
  try {
    return j.counts();
  } finally {
    j.close();
  }
}

/** Truncates output and errors to what the journal committed (a killed run may leave a torn tail). */
export function settleOutputs(paths: BatchPaths): void {
  if (!existsSync(paths.journal)) return;
  const j = new Journal(paths.journal);
  try {
    j.claim("vbatch serve");
    new ResultSink({ outputPath: paths.output, errorsPath: paths.errors, journal: j }).close();
  } finally {
    j.close();
  }
}

/** Writes every unfinished row to the errors file with `code`; each row still ends exactly once. */
export async function finalizeOffline(
  paths: BatchPaths,
  code: string,
  message: string,
  log?: Logger,
): Promise<void> {
  if (!existsSync(paths.requests)) return; // never validated: no rows to close out
  const job = await prepareJob(
    {
      input: paths.requests,
      output: paths.output,
      errors: paths.errors,
      journal: paths.journal,
      stdinSpool: join(paths.dir, "stdin.jsonl"),
    },
    { restart: false, skipInvalid: false },
    log,
  );
  try {
    const sink = new ResultSink({
      outputPath: paths.output,
      errorsPath: paths.errors,
      journal: job.journal,
    });
    // Collected first: better-sqlite3 allows no commit while an iterator is open.
    for (const r of [...job.journal.pendingRows()]) {
      const full = sink.add(errorLine(lineId(job.jobId, r.line), r.customId, code, message), true, {
        line: r.line,
        state: RowState.failed,
        status: null,
        promptTokens: 0,
        completionTokens: 0,
      });
      if (full) sink.flush();
    }
    sink.close();
  } finally {
    job.journal.close();
  }
}
