// The "run" step: the send loop (src/send/) over the engines found, fed the job's options, with
// the launcher's engine events and the engines' /metrics wired to it. Returns whether it was
// stopped before every row was final.
import { isGzip } from "../input/open.js";
import type { RowOrder } from "../journal/journal.js";
import type { ResultSink } from "../output/sink.js";
import type { ReadyEngines } from "../pool/find-engines.js";
import { Router } from "../pool/router.js";
import { Runner } from "../send/runner.js";
import type { JobRun, PreparedRun } from "./job-run.js";
import { tagSuffix } from "./tags.js";

export async function sendRows(
  run: JobRun,
  job: PreparedRun,
  ready: ReadyEngines,
  sink: ResultSink,
  take?: (line: number) => boolean,
): Promise<boolean> {
  const { options, progress, log } = run;
  const { pool, model } = ready;
  const metrics = run.metrics;
  const affinity = options.prefixAffinity ?? true;
  const r = new Runner({
    reader: {
      inputFile: job.inputFile,
      displayPath: run.paths.input === "-" ? "stdin" : run.paths.input,
      journal: job.journal,
      jobId: job.jobId,
      defaultModel: model,
      modelMap: run.modelMap,
      priority: options.priority,
      // A row moved to a provider's batch (--overflow) is dropped alone, never with a group.
      coalesce: take ? false : (options.coalesce ?? true),
      schemas: options.validateJson ?? false,
      format: job.format,
      maxLineBytes: job.maxLineBytes,
      order: sendOrder(job, affinity, options.lengthOrder ?? true),
    },
    leaders: job.journal.leaderSet(),
    followersOf: (line) => job.journal.followers(line),
    router: new Router(pool, affinity),
    sink,
    requestIdPrefix: `vbatch-${job.jobId}${tagSuffix(job.tags)}`,
    validateJson: options.validateJson,
    jsonRetries: options.jsonRetries,
    onAttempt: (e, ms, status) => {
      run.sampler.observe(status, ms);
      metrics?.observe(e.base, ms, status);
    },
    maxAttempts: options.maxAttempts ?? 5,
    backoff: { baseMs: options.retryBaseMs ?? 500, maxMs: options.retryMaxMs ?? 30_000 },
    maxRequestsPerSecond: options.maxRequestsPerSecond,
    signal: options.signal,
    drainMs: options.drainMs ?? 5000,
    commitIntervalMs: options.commitIntervalMs ?? 200,
    engineWaitMs: run.engineWaitMs,
    onEngineUp: run.setLimit,
    take,
    logger: log,
  });
  run.runner = r;
  progress.runner = r;
  progress.phase = "running";
  for (const e of pool) if (!e.health.up) r.probeBack(e);
  for (const e of pool) run.watch(e, r);
  run.events.attach(r);
  log?.info(
    { rows: job.before.pending, resumed: job.resumedRows, engines: pool.map((e) => e.base), model },
    job.resumedRows > 0 ? "resuming" : "starting",
  );
  await r.run();
  return r.interrupted;
}

/** Rows repeating an earlier row's prefix, as a share of the rows, that make prefix order worth its reads. */
const SHARED_SHARE = 0.05;
/** max_tokens that vary this many times over make the longest-first order worth its reads. */
const LENGTH_SPREAD = 2;

/**
 * The order rows are sent in: rows sharing a prefix together when prefixes repeat (in at least 5%
 * of the rows: reading by offset costs every row a read of its own), else the
 * longest first when max_tokens vary, else the input's (cheapest: one sequential read). Another
 * order reads each row back from its offset, so it needs a plain file, and a journal of this
 * version (older ones have no keys and no lengths: their meta is missing).
 */
function sendOrder(job: PreparedRun, affinity: boolean, lengthOrder: boolean): RowOrder | undefined {
  if (isGzip(job.inputFile)) return undefined;
  const repeats = Number(job.journal.getMeta("shared_prefixes") ?? 0);
  if (affinity && repeats > 0 && repeats >= SHARED_SHARE * job.before.total) return "prefix";
  if (lengthOrder && Number(job.journal.getMeta("length_spread") ?? 0) >= LENGTH_SPREAD) return "length";
  return undefined;
}
