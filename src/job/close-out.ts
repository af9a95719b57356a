// The last steps of a job: rows a stopped run was asked to close out get their final error line,
// the sink commits, and the summary is made; the journal is checkpointed and closed here, so a
// failure of that last write is an error of the run, not a warning of its cleanup.
import { shapeLine } from "../formats/index.js";
import { RowState } from "../journal/schema.js";
import { errorLine, lineId } from "../output/format.js";
import type { ResultSink } from "../output/sink.js";
import type { RunSummary } from "../progress/progress.js";
import { providerSummary } from "../provider/report.js";
import { readPrefixCounters } from "../schedule/monitor.js";
import { inputGrowth } from "./input-growth.js";
import { type JobRun, type PreparedRun, pendingFinal } from "./job-run.js";

/** Commits what is left; with `finalizePending`, a stopped run's pending rows fail for good. */
export function closeOut(run: JobRun, job: PreparedRun, sink: ResultSink, interrupted: boolean): void {
  const finalize = interrupted || run.options.signal?.aborted ? pendingFinal(run.options) : undefined;
  if (finalize) {
    const { code, message } = finalize;
    const rows = job.journal.pendingRows();
    for (const r of rows) {
      const line = shapeLine(errorLine(lineId(job.jobId, r.line), r.customId, code, message), {
        format: job.format,
      });
      const full = sink.add(line, true, {
        line: r.line,
        state: RowState.failed,
        status: null,
        promptTokens: 0,
        completionTokens: 0,
      });
      if (full) sink.flush();
    }
    run.progress.closedOut += rows.length;
  }
  sink.close();
}

/** The job's summary (also its last progress report); closes the journal. */
export async function summarise(run: JobRun, job: PreparedRun, interrupted: boolean): Promise<RunSummary> {
  const { progress, paths, log } = run;
  progress.phase = "done";
  await Promise.all(progress.engines.map(readPrefixCounters));
  const p = progress.snapshot();
  run.options.onProgress?.(p);
  const live = progress.live;
  const wallMs = progress.elapsedMs();
  const summary: RunSummary = {
    total: p.total,
    succeeded: p.succeeded,
    failed: p.failed,
    invalid: p.invalid,
    resumed: job.resumedRows,
    deduped: job.journal.dedupedCount(),
    tags: job.tags,
    requests: live.requests,
    retries: live.retries,
    promptTokens: p.promptTokens,
    completionTokens: p.completionTokens,
    wallMs,
    rowsPerSec: wallMs > 0 ? ((live.succeeded + live.failed + progress.closedOut) * 1000) / wallMs : 0,
    tokensPerSec: wallMs > 0 ? (live.completionTokens * 1000) / wallMs : 0,
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    interrupted: interrupted && p.succeeded + p.failed < p.total,
    output: paths.output,
    errors: paths.errors,
    journal: paths.journal,
    prefixCache: p.prefixCache,
  };
  const provider = run.options.provider || run.options.overflow ? providerSummary(job.journal) : null;
  if (provider) summary.provider = provider;
  if (run.overflowSummary) summary.overflow = run.overflowSummary;
  const grew = await inputGrowth(paths.input, job.inputBytes);
  if (grew) {
    summary.inputGrew = grew;
    log?.warn({ input: grew.path, bytes: grew.bytes, lines: grew.lines }, "the input grew while the job ran");
  }
  job.journal.clearOwner();
  job.journal.finish();
  log?.info(summary, interrupted ? "interrupted" : "finished");
  return summary;
}
