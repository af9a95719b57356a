// src/job/ holds the life of one job: options and paths, the lock, prepare and the validation
// pass (ingest), then the steps below; `vbatch retry` is job/retry/. The send loop is src/send/,
// the engines src/pool/, the numbers it reports src/progress/.
//
// runBatch(): the library entry point behind `vbatch run`, told as the life of a job, one step a
// line. Every step registers what it acquires with one Cleanup, released in reverse, once,
// whatever happens; the result is data (the summary), never an exit.
import type { FormatName } from "../formats/index.js";
import { lockJob } from "../journal/job-lock.js";
import type { FileLock } from "../journal/lock.js";
import { findEngines, type ReadyEngines } from "../pool/find-engines.js";
import { startRunMetrics } from "../progress/metrics.js";
import type { RunSummary } from "../progress/progress.js";
import { Cleanup } from "../util/cleanup.js";
import { checkPaths } from "./check-options.js";
import { closeOut, summarise } from "./close-out.js";
import { type JobRun, type PreparedRun, pendingFinal, setUp } from "./job-run.js";
import { openSink } from "./open-sink.js";
import type { RunOptions } from "./options.js";
import { discardPrepared, prepareJob } from "./prepare.js";
import { sendWithOverflow } from "./provider/send-overflow.js";
import { checkProviderJob, sendToProvider } from "./provider/send-provider.js";

export { checkPaths };

export async function runBatch(options: RunOptions): Promise<RunSummary> {
  return runJob(options);
}

/**
 * runBatch, for a caller that may already hold the job's lock (`vbatch retry` takes it before it
 * touches the errors file). A lock taken here is released here; a `held` one stays the caller's.
 */
export async function runJob(options: RunOptions, held?: FileLock): Promise<RunSummary> {
  const cleanup = new Cleanup(options.logger);
  try {
    const run = setUp(options, cleanup);
    if (!held) lock(run, cleanup);
    startTicker(run, cleanup);
    const job = await prepare(run, cleanup);
    if (options.provider || options.overflow) await checkProviderJob(run, job);
    const ready = options.provider ? undefined : await findTheEngines(run, job, cleanup);
    const sink = await openSink(run, job, cleanup);
    const interrupted = options.provider
      ? await sendToProvider(run, job, sink)
      : ready
        ? await sendWithOverflow(run, job, ready, sink)
        : job.before.pending > 0;
    closeOut(run, job, sink, interrupted);
    return await summarise(run, job, interrupted);
  } finally {
    await cleanup.dispose();
  }
}

/** Taken before any file is touched, so a second run of the same job is refused, not mixed in. */
function lock(run: JobRun, cleanup: Cleanup): void {
  const l = lockJob(run.paths.journal);
  cleanup.defer(() => l.release());
}

/** Reports progress and follows the engines' limits while the job runs. */
function startTicker(run: JobRun, cleanup: Cleanup): void {
  const ticker = setInterval(() => {
    run.runner?.syncCapacity();
    run.report();
  }, run.options.progressIntervalMs ?? 1000);
  cleanup.defer(() => clearInterval(ticker));
}

/** The job's files, its journal claimed, the input validated (or an earlier run's accepted). */
async function prepare(run: JobRun, cleanup: Cleanup): Promise<PreparedRun> {
  const { options, progress } = run;
  const job = await prepareJob(
    run.paths,
    {
      restart: options.restart ?? false,
      skipInvalid: options.skipInvalid ?? false,
      shard: options.shard,
      // A provider answers each row it is sent: identical rows are each sent (and billed).
      dedupe: options.provider || options.overflow ? "off" : options.dedupe,
      fileOps: options.fileOps,
      onIngest: (p) => progress.onIngest(p),
      format: options.format,
      maxLineBytes: options.maxLineBytes,
    },
    run.log,
  );
  cleanup.defer(() => job.journal.close());
  cleanup.defer(() => job.journal.clearOwner());
  const before = job.journal.counts();
  progress.before = before;
  progress.engines = run.engines;
  progress.phase = "starting";
  if (options.tags && Object.keys(options.tags).length > 0) {
    job.journal.setMeta({ tags: JSON.stringify(options.tags) });
  }
  const tags = JSON.parse(job.journal.getMeta("tags") ?? "{}") as Record<string, string>;
  const format = (job.journal.getMeta("format") ?? "openai") as FormatName;
  return { ...job, before, resumedRows: progress.resumed, tags, format };
}

/**
 * The runner's metrics, then engines that answer and serve the input's models. A run refused
 * here (no engine, an unserved model, a port in use) has opened no file for writing: it leaves
 * the directory as it found it, without the journal or spool it made.
 */
async function findTheEngines(
  run: JobRun,
  job: PreparedRun,
  cleanup: Cleanup,
): Promise<ReadyEngines | undefined> {
  const { options, progress, log } = run;
  // A run stopped before it began that closes its rows out needs no engine.
  const closingOut = Boolean(options.signal?.aborted && pendingFinal(options));
  try {
    if (options.metricsPort !== undefined) {
      const m = await startRunMetrics(options.metricsPort, options.metricsHost ?? "127.0.0.1", () =>
        progress.snapshot(),
      );
      run.metrics = m;
      cleanup.defer(() => m.close());
      options.onMetricsUrl?.(m.url);
      log?.info({ url: m.url }, "runner metrics");
    }
    if (job.before.pending === 0 || closingOut) return undefined;
    return await findEngines({
      engines: run.engines,
      waitMs: run.engineWaitMs,
      signal: options.signal,
      onWaiting: (ms, reason) => {
        progress.waiting(ms, run.engineWaitMs, reason);
        run.report();
      },
      setLimit: run.setLimit,
      priority: options.priority,
      model: options.model,
      rowsWithoutModel: job.rowsWithoutModel,
      models: job.models,
      modelMap: run.modelMap,
      logger: log,
    });
  } catch (err) {
    discardPrepared(job);
    throw err;
  }
}
