// runBatch(): the library entry point behind `vbatch run`. The job's lock is taken first, then
// resources are acquired in order and released in reverse, once, whatever happens; the result is
// data (the summary), never an exit.
import { existsSync, statSync } from "node:fs";
import { normalizeEndpoint } from "../client/endpoint.js";
import { type FormatName, shapeLine } from "../formats/index.js";
import { invalidLineShapes } from "../formats/invalid-shapes.js";
import { isGzip } from "../input/open.js";
import type { FileLock } from "../journal/lock.js";
import { RowState } from "../journal/schema.js";
import { errorLine, lineId } from "../output/format.js";
import { ResultSink } from "../output/sink.js";
import { DEFAULT_ENGINE_WAIT_MS, engineOptionsOf } from "../pool/discover.js";
import type { Engine } from "../pool/engine.js";
import { EngineEvents } from "../pool/engine-events.js";
import { adaptiveLimit, createEngines } from "../pool/engines.js";
import { findEngines, type ReadyEngines } from "../pool/find-engines.js";
import { Router } from "../pool/router.js";
import { JobProgress } from "../progress/job-progress.js";
import { type RunMetrics, startRunMetrics } from "../progress/metrics.js";
import type { RunSummary } from "../progress/progress.js";
import { monitorEngine } from "../schedule/monitor.js";
import { Runner } from "../send/runner.js";
import { checkOptions, checkPaths } from "./check-options.js";
import { inputGrowth } from "./input-growth.js";
import { lockJob } from "./job-lock.js";
import type { EngineHint, PendingFinal, RunOptions } from "./options.js";
import { resolvePaths } from "./paths.js";
import { discardPrepared, prepareJob } from "./prepare.js";
import { tagSuffix } from "./tags.js";

export { checkPaths };

function pendingFinal(o: RunOptions): PendingFinal | undefined {
  return typeof o.finalizePending === "function" ? o.finalizePending() : o.finalizePending;
}

export async function runBatch(options: RunOptions): Promise<RunSummary> {
  return runJob(options);
}

/**
 * runBatch, for a caller that may already hold the job's lock (`vbatch retry` takes it before it
 * touches the errors file). A lock taken here is released here; a `held` one stays the caller's.
 */
export async function runJob(options: RunOptions, held?: FileLock): Promise<RunSummary> {
  checkOptions(options);
  const log = options.logger;
  const paths = resolvePaths(options);
  checkPaths(paths);
  const progress = new JobProgress(
    paths.input !== "-" && !isGzip(paths.input) && existsSync(paths.input)
      ? statSync(paths.input).size
      : null,
  );
  const report = () => options.onProgress?.(progress.snapshot());
  const modelMap = new Map(Object.entries(options.modelMap ?? {}));
  // Engines are created (not contacted) first so a bad --endpoint fails before anything else.
  const engineOptions = { ...engineOptionsOf(options), concurrency: options.concurrency };
  const engines = createEngines({ ...engineOptions, endpoints: options.endpoints });
  const hints = new Map<string, EngineHint>();
  for (const [url, hint] of Object.entries(options.engineHints ?? {}))
    hints.set(normalizeEndpoint(url), hint);
  const limitFor = (e: Engine) => adaptiveLimit(e, hints.get(e.base));
  const setLimit = (e: Engine) => {
    if (options.concurrency === undefined) e.limit = limitFor(e);
  };
  const releases: (() => unknown)[] = [() => Promise.all(engines.map((e) => e.transport.close()))];
  const release = async () => {
    for (const r of releases.reverse()) {
      try {
        await r();
      } catch (err) {
        log?.warn({ err: (err as Error).message }, "cleanup failed");
      }
    }
  };
  const watch = (e: Engine, r: Runner) =>
    releases.push(monitorEngine(e, { onChange: () => r.syncCapacity(), logger: log }));
  let runner: Runner | undefined;
  const events = new EngineEvents(options.engineSource, {
    engineOptions,
    hints,
    setLimit,
    watch: (e) => runner && watch(e, runner),
    logger: log,
  });
  try {
    if (!held) {
      const lock = lockJob(paths.journal);
      releases.push(() => lock.release());
    }
    const ticker = setInterval(() => {
      runner?.syncCapacity();
      report();
    }, options.progressIntervalMs ?? 1000);
    releases.push(() => clearInterval(ticker));
    const job = await prepareJob(
      paths,
      {
        restart: options.restart ?? false,
        skipInvalid: options.skipInvalid ?? false,
        shard: options.shard,
        dedupe: options.dedupe,
        fileOps: options.fileOps,
        onIngest: (p) => progress.onIngest(p),
        format: options.format,
        maxLineBytes: options.maxLineBytes,
      },
      log,
    );
    releases.push(() => job.journal.close());
    releases.push(() => job.journal.clearOwner());
    const before = job.journal.counts();
    progress.before = before;
    progress.engines = engines;
    progress.phase = "starting";
    const resumed = progress.resumed;
    if (options.tags && Object.keys(options.tags).length > 0) {
      job.journal.setMeta({ tags: JSON.stringify(options.tags) });
    }
    const tags = JSON.parse(job.journal.getMeta("tags") ?? "{}") as Record<string, string>;
    let metrics: RunMetrics | undefined;
    // A run stopped before it began that closes its rows out needs no engine.
    const closingOut = Boolean(options.signal?.aborted && pendingFinal(options));
    let ready: ReadyEngines | undefined;
    try {
      if (options.metricsPort !== undefined) {
        const m = await startRunMetrics(options.metricsPort, options.metricsHost ?? "127.0.0.1", () =>
          progress.snapshot(),
        );
        metrics = m;
        releases.push(() => m.close());
        options.onMetricsUrl?.(m.url);
        log?.info({ url: m.url }, "runner metrics");
      }
      if (before.pending > 0 && !closingOut) {
        ready = await findEngines({
          engines,
          waitMs: options.engineWaitMs ?? DEFAULT_ENGINE_WAIT_MS,
          signal: options.signal,
          onWaiting: (ms, reason) => {
            progress.waiting(ms, options.engineWaitMs ?? DEFAULT_ENGINE_WAIT_MS, reason);
            report();
          },
          setLimit,
          priority: options.priority,
          model: options.model,
          rowsWithoutModel: job.rowsWithoutModel,
          models: job.models,
          modelMap,
          logger: log,
        });
      }
    } catch (err) {
      // Refused before a file was opened (no engine, an unserved model, a port in use): the
      // directory is left as this run found it, without the journal or spool it made.
      discardPrepared(job);
      throw err;
    }
    const sink = new ResultSink({
      outputPath: paths.output,
      errorsPath: paths.errors,
      journal: job.journal,
      fsync: options.fsync ?? true,
      maxRows: options.commitRows,
      ops: options.fileOps,
    });
    releases.push(() => (sink.failed ? sink.abandon() : sink.close()));
    const format = (job.journal.getMeta("format") ?? "openai") as FormatName;
    const shape = (line: string) => shapeLine(line, { format });
    const invalid = job.journal.unwrittenInvalid();
    const shapeOf = await invalidLineShapes(
      format,
      job.inputFile,
      invalid.map((inv) => inv.line),
    );
    for (const inv of invalid) {
      sink.addInvalid(
        shapeLine(
          errorLine(
            lineId(job.jobId, inv.line),
            inv.customId ?? null,
            "invalid_request",
            `line ${inv.line}: ${inv.message}`,
          ),
          shapeOf(inv.line),
        ),
        inv.line,
      );
    }
    sink.flush();

    if (ready) {
      const { pool, model } = ready;
      const r = new Runner({
        reader: {
          inputFile: job.inputFile,
          displayPath: paths.input === "-" ? "stdin" : paths.input,
          journal: job.journal,
          jobId: job.jobId,
          defaultModel: model,
          modelMap,
          priority: options.priority,
          coalesce: options.coalesce ?? true,
          schemas: options.validateJson ?? false,
          format,
          maxLineBytes: job.maxLineBytes,
        },
        leaders: job.journal.leaderSet(),
        followersOf: (line) => job.journal.followers(line),
        router: new Router(pool),
        sink,
        requestIdPrefix: `vbatch-${job.jobId}${tagSuffix(tags)}`,
        validateJson: options.validateJson,
        jsonRetries: options.jsonRetries,
        onAttempt: metrics ? (e, ms, status) => metrics?.observe(e.base, ms, status) : undefined,
        maxAttempts: options.maxAttempts ?? 5,
        backoff: { baseMs: options.retryBaseMs ?? 500, maxMs: options.retryMaxMs ?? 30_000 },
        maxRequestsPerSecond: options.maxRequestsPerSecond,
        signal: options.signal,
        drainMs: options.drainMs ?? 5000,
        commitIntervalMs: options.commitIntervalMs ?? 200,
        engineWaitMs: options.engineWaitMs ?? DEFAULT_ENGINE_WAIT_MS,
        onEngineUp: setLimit,
        logger: log,
      });
      runner = r;
      progress.runner = r;
      progress.phase = "running";
      for (const e of pool) if (!e.health.up) r.probeBack(e);
      for (const e of pool) watch(e, r);
      events.attach(r);
      log?.info(
        { rows: before.pending, resumed, engines: pool.map((e) => e.base), model },
        resumed > 0 ? "resuming" : "starting",
      );
      await r.run();
    }
    // Stopped before any engine answered: the job is interrupted like one stopped while sending.
    const interrupted = runner?.interrupted ?? (before.pending > 0 && !ready);
    const finalize = interrupted || options.signal?.aborted ? pendingFinal(options) : undefined;
    if (finalize) {
      const { code, message } = finalize;
      const rows = job.journal.pendingRows();
      for (const r of rows) {
        const full = sink.add(shape(errorLine(lineId(job.jobId, r.line), r.customId, code, message)), true, {
          line: r.line,
          state: RowState.failed,
          status: null,
          promptTokens: 0,
          completionTokens: 0,
        });
        if (full) sink.flush();
      }
      progress.closedOut += rows.length;
    }
    sink.close();
    progress.phase = "done";
    const p = progress.snapshot();
    options.onProgress?.(p);
    const live = progress.live;
    const wallMs = progress.elapsedMs();
    const summary: RunSummary = {
      total: p.total,
      succeeded: p.succeeded,
      failed: p.failed,
      invalid: p.invalid,
      resumed,
      deduped: job.journal.dedupedCount(),
      tags,
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
    };
    const grew = await inputGrowth(paths.input, job.inputBytes);
    if (grew) {
      summary.inputGrew = grew;
      log?.warn(
        { input: grew.path, bytes: grew.bytes, lines: grew.lines },
        "the input grew while the job ran",
      );
    }
    // Closed here, not in the releases, so a failure of the final checkpoint is exit 1, not a warning.
    job.journal.clearOwner();
    job.journal.finish();
    log?.info(summary, interrupted ? "interrupted" : "finished");
    return summary;
  } finally {
    await release();
  }
}
