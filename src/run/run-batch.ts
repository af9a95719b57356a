// runBatch(): the library entry point behind `vbatch run`. Resources are acquired in order and
// released in reverse, once, whatever happens; the result is data (the summary), never an exit.
import { performance } from "node:perf_hooks";
import { normalizeEndpoint } from "../client/endpoint.js";
import { VbatchError } from "../errors.js";
import { RowState } from "../journal/schema.js";
import { toAnthropicLine } from "../output/anthropic.js";
import { errorLine } from "../output/format.js";
import { ResultSink } from "../output/sink.js";
import type { Engine } from "../route/engine.js";
import { Router } from "../route/router.js";
import { monitorEngine } from "../schedule/monitor.js";
import { adaptiveLimit, createEngine, createEngines, defaultModel, discoverEngines } from "./engines.js";
import { type RunMetrics, startRunMetrics } from "./metrics.js";
import type { EngineHint, PendingFinal, RunOptions } from "./options.js";

type EngineEvent =
  | { kind: "ready"; url: string; hint: EngineHint }
  | { kind: "lost"; url: string; reason: string };

import { resolvePaths } from "./paths.js";
import { prepareJob } from "./prepare.js";
import type { EngineProgress, RunProgress, RunSummary } from "./progress.js";
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

function pendingFinal(o: RunOptions): PendingFinal | undefined {
  return typeof o.finalizePending === "function" ? o.finalizePending() : o.finalizePending;
}

export async function runBatch(options: RunOptions): Promise<RunSummary> {
  checkOptions(options);
  const log = options.logger;
  const started = performance.now();
  const paths = resolvePaths(options);
  for (const [a, b] of [
    [paths.output, paths.errors],
    [paths.output, paths.journal],
    [paths.errors, paths.journal],
  ] as const) {
    if (a === b) throw new VbatchError("usage", `output, errors and journal must be different files (${a})`);
  }
  if (paths.input === paths.output || paths.input === paths.errors) {
    throw new VbatchError("usage", `the output would overwrite the input ${paths.input}`);
  }
  // Engines are created (not contacted) first so a bad --endpoint fails before the input is read.
  const engineOptions = {
    apiKey: options.apiKey ?? process.env.VBATCH_ENGINE_API_KEY,
    transport: options.transport ?? "http",
    requestTimeoutMs: options.requestTimeoutMs ?? 600_000,
    concurrency: options.concurrency,
  } as const;
  const engines = createEngines({ ...engineOptions, endpoints: options.endpoints });
  const hints = new Map<string, EngineHint>();
  for (const [url, hint] of Object.entries(options.engineHints ?? {}))
    hints.set(normalizeEndpoint(url), hint);
  const limitFor = (e: Engine) => adaptiveLimit(e, hints.get(e.base));
  // Launcher events that arrive before the runner exists wait here.
  const early: EngineEvent[] = [];
  let onEngineEvent = (ev: EngineEvent) => {
    early.push(ev);
  };
  options.engineSource?.on("ready", (e) => onEngineEvent({ kind: "ready", url: e.url, hint: e }));
  options.engineSource?.on("lost", (e, reason) => onEngineEvent({ kind: "lost", url: e.url, reason }));
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
  try {
    const job = await prepareJob(
      paths,
      {
        restart: options.restart ?? false,
        skipInvalid: options.skipInvalid ?? false,
        shard: options.shard,
        dedupe: options.dedupe,
      },
      log,
    );
    releases.push(() => job.journal.close());
    const before = job.journal.counts();
    const sink = new ResultSink({
      outputPath: paths.output,
      errorsPath: paths.errors,
      journal: job.journal,
      fsync: options.fsync ?? true,
    });
    releases.push(() => sink.close());
    const anthropic = job.journal.getMeta("format") === "anthropic";
    const shape = (line: string) => (anthropic ? toAnthropicLine(line) : line);
    for (const inv of job.journal.unwrittenInvalid()) {
      sink.addInvalid(
        shape(errorLine(inv.customId ?? null, "invalid_request", `line ${inv.line}: ${inv.message}`)),
        inv.line,
      );
    }
    sink.flush();

    const resumed = before.succeeded + before.failed;
    if (options.tags && Object.keys(options.tags).length > 0) {
      job.journal.setMeta({ tags: JSON.stringify(options.tags) });
    }
    const tags = JSON.parse(job.journal.getMeta("tags") ?? "{}") as Record<string, string>;
    let metrics: RunMetrics | undefined;
    let runner: Runner | undefined;
    let live: Runner["counters"] = {
      succeeded: 0,
      failed: 0,
      requests: 0,
      retries: 0,
      promptTokens: 0,
      completionTokens: 0,
    };
    let pool = engines;
    const progress = (): RunProgress => {
      const elapsedMs = performance.now() - started;
      const done = live.succeeded + live.failed;
      const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
      const left = before.pending - done;
      return {
        total: before.total,
        succeeded: before.succeeded + live.succeeded,
        failed: before.failed + live.failed,
        invalid: before.invalid,
        resumed,
        inFlight: runner?.inFlight ?? 0,
        retries: live.retries,
        promptTokens: before.promptTokens + live.promptTokens,
        completionTokens: before.completionTokens + live.completionTokens,
        elapsedMs,
        rowsPerSec: rate,
        tokensPerSec: elapsedMs > 0 ? (live.completionTokens * 1000) / elapsedMs : 0,
        etaSec: rate > 0 ? left / rate : null,
        allEnginesDownSec: (() => {
          const since = runner?.allEnginesDownSince ?? null;
          return since === null ? null : (Date.now() - since) / 1000;
        })(),
        engines: pool.map(
          (e): EngineProgress => ({
            url: e.base,
            up: e.health.up,
            limit: e.limit.current(),
            limitMode: e.limit.describe(),
            inFlight: e.inFlight,
            running: e.metrics?.running ?? null,
            waiting: e.metrics?.waiting ?? null,
            sent: e.sent,
          }),
        ),
      };
    };

    if (options.metricsPort !== undefined) {
      metrics = await startRunMetrics(options.metricsPort, options.metricsHost ?? "127.0.0.1", progress);
      const m = metrics;
      releases.push(() => m.close());
      options.onMetricsUrl?.(m.url);
      log?.info({ url: m.url }, "runner metrics");
    }
    // A run stopped before it began that closes its rows out needs no engine.
    const closingOut = Boolean(options.signal?.aborted && pendingFinal(options));
    if (before.pending > 0 && !closingOut) {
      pool = await discoverEngines(engines, log);
      if (options.concurrency === undefined) for (const e of pool) e.limit = limitFor(e);
      const model = defaultModel(
        pool.filter((e) => e.health.up),
        options.model,
        job.rowsWithoutModel,
      );
      runner = new Runner({
        inputFile: job.inputFile,
        pending: job.journal.pendingSet(),
        leaders: job.journal.leaderSet(),
        followersOf: (line) => job.journal.followers(line),
        router: new Router(pool),
        sink,
        requestIdPrefix: `vbatch-${job.jobId}${tagSuffix(tags)}`,
        priority: options.priority,
        validateJson: options.validateJson,
        jsonRetries: options.jsonRetries,
        onAttempt: metrics ? (e, ms, status) => metrics?.observe(e.base, ms, status) : undefined,
        defaultModel: model,
        maxAttempts: options.maxAttempts ?? 5,
        backoff: { baseMs: options.retryBaseMs ?? 500, maxMs: options.retryMaxMs ?? 30_000 },
        maxRequestsPerSecond: options.maxRequestsPerSecond,
        signal: options.signal,
        drainMs: options.drainMs ?? 5000,
        commitIntervalMs: options.commitIntervalMs ?? 200,
        coalesce: options.coalesce ?? true,
        engineWaitMs: options.engineWaitMs ?? 600_000,
        onEngineUp: (e) => {
          if (options.concurrency === undefined) e.limit = limitFor(e);
        },
        logger: log,
      });
      live = runner.counters;
      const r = runner;
      for (const e of pool) if (!e.health.up) r.probeBack(e);
      const watch = (e: Engine) =>
        releases.push(monitorEngine(e, { onChange: () => r.syncCapacity(), logger: log }));
      for (const e of pool) watch(e);
      const router = r.router;
      onEngineEvent = (ev) => {
        const base = normalizeEndpoint(ev.url);
        const known = router.find(base);
        if (ev.kind === "lost") {
          if (known?.health.up) {
            log?.warn({ engine: base, reason: ev.reason }, "launcher lost an engine; its rows go elsewhere");
            known.health.up = false;
            r.probeBack(known);
          }
          return;
        }
        if (ev.hint.maxInFlight !== undefined || ev.hint.loadBalanced !== undefined) hints.set(base, ev.hint);
        if (known) {
          if (!known.health.up) r.probeBack(known); // re-admitted on its first healthy probe
          return;
        }
        const e = createEngine(base, engineOptions);
        e.discover().then(
          () => {
            if (options.concurrency === undefined) e.limit = limitFor(e);
            router.add(e);
            watch(e);
            r.syncCapacity();
            log?.info({ engine: base }, "engine joined the pool");
          },
          (err: unknown) =>
            log?.warn({ engine: base, err: (err as Error).message }, "new engine did not answer"),
        );
      };
      for (const ev of early.splice(0)) onEngineEvent(ev);
      const ticker = setInterval(() => {
        r.syncCapacity();
        options.onProgress?.(progress());
      }, options.progressIntervalMs ?? 1000);
      releases.push(() => clearInterval(ticker));
      log?.info(
        { rows: before.pending, resumed, engines: pool.map((e) => e.base), model },
        resumed > 0 ? "resuming" : "starting",
      );
      await runner.run();
    }
    const interrupted = runner?.interrupted ?? false;
    const finalize = interrupted || options.signal?.aborted ? pendingFinal(options) : undefined;
    if (finalize) {
      const { code, message } = finalize;
      const rows = [...job.journal.pendingRows()];
      for (const r of rows) {
        sink.add(shape(errorLine(r.customId, code, message)), true, {
          line: r.line,
          state: RowState.failed,
          status: null,
          promptTokens: 0,
          completionTokens: 0,
        });
      }
      live.failed += rows.length;
    }
    sink.close();
    const p = progress();
    options.onProgress?.(p);
    const wallMs = performance.now() - started;
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
      rowsPerSec: wallMs > 0 ? ((live.succeeded + live.failed) * 1000) / wallMs : 0,
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
