// What the job's time series samples (journal/timeline.ts): the counts the progress line shows,
// each engine's own running/waiting from its /metrics scrape, and this run's attempts by status
// and latency. `observe` runs once per attempt and only bumps two counters; a sample is built at
// most once a second, inside a commit cycle the job makes anyway.
import { randomBytes } from "node:crypto";
import {
  type EngineSample,
  LATENCY_BOUNDS_MS,
  type RunInfo,
  type TimelineSample,
} from "../journal/timeline-records.js";
import type { Engine } from "../pool/engine.js";
import type { JobProgress } from "./job-progress.js";

/**
 * Prefix-cache counters (prompt tokens looked up and found since the engine started), read when
 * the /metrics parsing in src/schedule/prometheus.ts provides them under these names.
 */
interface PrefixCounters {
  prefixQueries?: number | null | undefined;
  prefixHits?: number | null | undefined;
}

export class JobSampler {
  /** Attempts by HTTP status (index), 0 for no HTTP answer: no string per attempt. */
  private readonly statuses = new Uint32Array(600);
  private readonly latency: number[] = new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
  private readonly run: RunInfo;

  constructor(
    private readonly progress: JobProgress,
    command: string,
    private readonly gpus: (() => number | null) | undefined,
  ) {
    this.run = {
      id: `${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`,
      started: Date.now(),
      doneBefore: 0,
      command,
      gpus: null,
    };
  }

  /** One attempt's answer: its HTTP status (null: none) and how long it took. */
  observe(status: number | null, latencyMs: number): void {
    const code = status === null || status < 100 || status > 599 ? 0 : status;
    this.statuses[code] = (this.statuses[code] ?? 0) + 1;
    let i = 0;
    while (i < LATENCY_BOUNDS_MS.length && latencyMs > (LATENCY_BOUNDS_MS[i] as number)) i++;
    this.latency[i] = (this.latency[i] ?? 0) + 1;
  }

  private statusCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    this.statuses.forEach((n, code) => {
      if (n > 0) out[code === 0 ? "none" : String(code)] = n;
    });
    return out;
  }

  /** The sample for `now` (ms since the epoch). */
  take = (now: number): TimelineSample => {
    const p = this.progress;
    const before = p.before;
    const live = p.live;
    this.run.doneBefore = before.succeeded + before.failed;
    this.run.gpus = this.gpus?.() ?? null;
    return {
      t: now,
      run: { ...this.run },
      succeeded: before.succeeded + live.succeeded,
      failed: before.failed + live.failed + p.closedOut,
      promptTokens: before.promptTokens + live.promptTokens,
      completionTokens: before.completionTokens + live.completionTokens,
      inFlight: p.runner?.inFlight ?? 0,
      requests: live.requests,
      retries: live.retries,
      statuses: this.statusCounts(),
      latency: [...this.latency],
      engines: p.engines.map(engineSample),
    };
  };
}

function engineSample(e: Engine): EngineSample {
  const m = e.metrics as (NonNullable<Engine["metrics"]> & PrefixCounters) | null;
  return {
    url: e.base,
    up: e.health.up,
    limit: e.limit.current(),
    inFlight: e.inFlight,
    running: m?.running ?? null,
    waiting: m?.waiting ?? null,
    sent: e.sent,
    succeeded: e.succeeded,
    failed: e.failed,
    prefixQueries: m?.prefixQueries ?? null,
    prefixHits: m?.prefixHits ?? null,
  };
}
