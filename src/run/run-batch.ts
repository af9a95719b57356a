// runBatch(): the library entry point behind `vbatch run`. The job's lock is taken first, then
// resources are acquired in order and released in reverse, once, whatever happens; the result is
// data (the summary), never an exit.
import { existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { normalizeEndpoint } from "../client/endpoint.js";
import { VbatchError } from "../errors.js";
import { type FormatName, shapeLine } from "../formats/index.js";
import { isGzip } from "../input/open.js";
import type { FileLock } from "../journal/lock.js";
import { RowState } from "../journal/schema.js";
import { errorLine, lineId } from "../output/format.js";
import { ResultSink } from "../output/sink.js";
import type { Engine } from "../route/engine.js";
import { Router } from "../route/router.js";
import { monitorEngine } from "../schedule/monitor.js";
import { DEFAULT_ENGINE_WAIT_MS, discoverEngines, engineOptionsOf } from "./discover.js";
import { EngineEvents } from "./engine-events.js";
import { adaptiveLimit, createEngines, defaultModel } from "./engines.js";
import { lockJob } from "./job-lock.js";
import { JobProgress } from "./job-progress.js";
import { type RunMetrics, startRunMetrics } from "./metrics.js";
import { checkModels } from "./model-check.js";
import type { EngineHint, PendingFinal, ResolvedPaths, RunOptions } from "./options.js";
import { resolvePaths } from "./paths.js";
import { prepareJob } from "./prepare.js";
import { checkPriority } from "./priority-check.js";
import type { RunSummary } from "./progress.js";
import { Runner } from "./runner.js";
import { tagSuffix } from "./tags.js";

function checkOptions(o: RunOptions): void {
  const positive = (v: number | undefined, flag: string, min = 1) => {
    if (v !== undefined && (!Number.isFinite(v) || v < min)) {
      throw new VbatchError("usage", `${flag} must be a number >= ${min} (got ${v})`);
    }
  };
  if (!o.output) throw new VbatchError("usage", "an output file is required (-o <output.jsonl>)");
  positive(o.concurrency, "--concurrency");
  positive(o.maxAttempts, "--max-attempts");
  positive(o.requestTimeoutMs, "--request-timeout");
  positive(o.maxRequestsPerSecond, "--max-rps", Number.MIN_VALUE);
  positive(o.commitRows, "commitRows");
  if (
    o.shard &&
    !(
      Number.isInteger(o.shard.count) &&
      o.shard.count >= 1 &&
      Number.isInteger(o.shard.index) &&
      o.shard.index >= 0 &&
      o.shard.index < o.shard.count
    )
  ) {
    throw new VbatchError(
      "usage",
      `--shard must be i/N with 0 <= i < N (got ${o.shard.index}/${o.shard.count})`,
    );
  }
}

/** The job's files: distinct, none of them the input, each in a directory that exists. */
export function checkPaths(paths: ResolvedPaths): void {
  for (const [a, b] of [
    [paths.output, paths.errors],
    [paths.output, paths.journal],
    [paths.errors, paths.journal],
  ] as const) {
    if (a === b) throw new VbatchError("usage", `output, errors and journal must be different files (${a})`);
  }
  if (paths.input === paths.output || paths.input === paths.errors || paths.input === paths.journal) {
    throw new VbatchError("usage", `the job's files would overwrite the input ${paths.input}`);
  }
  for (const [flag, path] of [
    ["-o", paths.output],
    ["--errors", paths.errors],
    ["--journal", paths.journal],
  ] as const) {
    if (!existsSync(dirname(path))) {
      throw new VbatchError("usage", `${flag} ${path}: the directory ${dirname(path)} does not exist`);
    }
  }
}

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
      },
      log,
    );
    releases.push(() => job.journal.close());
    releases.push(() => job.journal.clearOwner());
    const before = job.journal.counts();
    progress.before = before;
    progress.engines = engines;
    progress.phase = "starting";
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
    for (const inv of job.journal.unwrittenInvalid()) {
      sink.addInvalid(
        shape(
          errorLine(
            lineId(job.jobId, inv.line),
            inv.customId ?? null,
            "invalid_request",
            `line ${inv.line}: ${inv.message}`,
          ),
        ),
        inv.line,
      );
    }
    sink.flush();

    const resumed = progress.resumed;
    if (options.tags && Object.keys(options.tags).length > 0) {
      job.journal.setMeta({ tags: JSON.stringify(options.tags) });
    }
    const tags = JSON.parse(job.journal.getMeta("tags") ?? "{}") as Record<string, string>;
    let metrics: RunMetrics | undefined;
    if (options.metricsPort !== undefined) {
      metrics = await startRunMetrics(options.metricsPort, options.metricsHost ?? "127.0.0.1", () =>
        progress.snapshot(),
      );
      const m = metrics;
      releases.push(() => m.close());
      options.onMetricsUrl?.(m.url);
      log?.info({ url: m.url }, "runner metrics");
    }
    // A run stopped before it began that closes its rows out needs no engine.
    const closingOut = Boolean(options.signal?.aborted && pendingFinal(options));
    const found =
      before.pending > 0 && !closingOut
        ? await discoverEngines(engines, {
            waitMs: options.engineWaitMs ?? DEFAULT_ENGINE_WAIT_MS,
            signal: options.signal,
            onWaiting: (ms, reason) => {
              progress.waiting(ms, options.engineWaitMs ?? DEFAULT_ENGINE_WAIT_MS, reason);
              report();
            },
            logger: log,
          })
        : "stopped";
    if (found === "ready") {
      const pool = engines;
      for (const e of pool) setLimit(e);
      const up = pool.filter((e) => e.health.up);
      const model = defaultModel(up, options.model, job.rowsWithoutModel);
      checkModels(
        job.models,
        job.rowsWithoutModel,
        new Set(up.flatMap((e) => e.models.map((m) => m.id))),
        modelMap,
        log,
      );
      await checkPriority(up, options.priority);
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
    const interrupted = runner?.interrupted ?? (before.pending > 0 && found === "stopped");
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
    log?.info(summary, interrupted ? "interrupted" : "finished");
    return summary;
  } finally {
    await release();
  }
}
