// What every step of a job shares (its options, paths, progress and engines), made by the first
// step, setUp, and handed down the steps of run-batch.ts: nothing here starts or opens anything.
import { existsSync, statSync } from "node:fs";
import type { Logger } from "pino";
import { normalizeEndpoint } from "../client/endpoint.js";
import type { FormatName } from "../formats/index.js";
import { isGzip } from "../input/open.js";
import type { JournalCounts } from "../journal/journal.js";
import { processLabel } from "../journal/lock.js";
import { DEFAULT_ENGINE_WAIT_MS, engineOptionsOf } from "../pool/discover.js";
import type { Engine } from "../pool/engine.js";
import { EngineEvents } from "../pool/engine-events.js";
import { adaptiveLimit, createEngines } from "../pool/engines.js";
import { JobProgress } from "../progress/job-progress.js";
import type { RunMetrics } from "../progress/metrics.js";
import { JobSampler } from "../progress/sampler.js";
import { monitorEngine } from "../schedule/monitor.js";
import type { Runner } from "../send/runner.js";
import type { Cleanup } from "../util/cleanup.js";
import { checkOptions, checkPaths } from "./check-options.js";
import type { EngineHint, PendingFinal, ResolvedPaths, RunOptions } from "./options.js";
import { resolvePaths } from "./paths.js";
import type { PreparedJob } from "./prepare.js";

export interface JobRun {
  options: RunOptions;
  log: Logger | undefined;
  paths: ResolvedPaths;
  progress: JobProgress;
  /** This run's samples for the job's time series (journal/timeline.ts). */
  sampler: JobSampler;
  /** Hands the caller a progress snapshot. */
  report: () => void;
  modelMap: Map<string, string>;
  engineWaitMs: number;
  /** The starting pool, created but not contacted yet. */
  engines: Engine[];
  /** Gives an engine its adaptive limit (unless --concurrency fixed one). */
  setLimit: (e: Engine) => void;
  /** Starts watching an engine's /metrics for the runner, until the job's cleanup. */
  watch: (e: Engine, r: Runner) => void;
  /** Engines a launcher adds or loses while the job runs. */
  events: EngineEvents;
  /** The send loop, once it exists (the ticker and new engines reach it through here). */
  runner?: Runner | undefined;
  metrics?: RunMetrics | undefined;
}

/** A prepared job, with what the send loop began from. */
export interface PreparedRun extends PreparedJob {
  /** Counts when the send loop began (what earlier runs finished). */
  before: JournalCounts;
  /** Rows earlier runs finished. */
  resumedRows: number;
  tags: Record<string, string>;
  /** The format the input was read as. */
  format: FormatName;
}

export function pendingFinal(o: RunOptions): PendingFinal | undefined {
  return typeof o.finalizePending === "function" ? o.finalizePending() : o.finalizePending;
}

/**
 * Checks the options and resolves the job's paths; creates (does not contact) the engines, so a
 * bad --endpoint fails before anything else.
 */
export function setUp(options: RunOptions, cleanup: Cleanup): JobRun {
  checkOptions(options);
  const log = options.logger;
  const paths = resolvePaths(options);
  checkPaths(paths);
  const progress = new JobProgress(
    paths.input !== "-" && !isGzip(paths.input) && existsSync(paths.input)
      ? statSync(paths.input).size
      : null,
  );
  const engineOptions = { ...engineOptionsOf(options), concurrency: options.concurrency };
  const engines = createEngines({ ...engineOptions, endpoints: options.endpoints });
  cleanup.defer(() => Promise.all(engines.map((e) => e.transport.close())));
  const hints = new Map<string, EngineHint>();
  for (const [url, hint] of Object.entries(options.engineHints ?? {}))
    hints.set(normalizeEndpoint(url), hint);
  const setLimit = (e: Engine) => {
    if (options.concurrency === undefined) e.limit = adaptiveLimit(e, hints.get(e.base));
  };
  const watch = (e: Engine, r: Runner) =>
    cleanup.defer(monitorEngine(e, { onChange: () => r.syncCapacity(), logger: log }));
  const run: JobRun = {
    options,
    log,
    paths,
    progress,
    sampler: new JobSampler(progress, processLabel(), options.launchedGpus),
    report: () => options.onProgress?.(progress.snapshot()),
    modelMap: new Map(Object.entries(options.modelMap ?? {})),
    engineWaitMs: options.engineWaitMs ?? DEFAULT_ENGINE_WAIT_MS,
    engines,
    setLimit,
    watch,
    events: new EngineEvents(options.engineSource, {
      engineOptions,
      hints,
      setLimit,
      watch: (e) => run.runner && watch(e, run.runner),
      logger: log,
    }),
  };
  return run;
}
