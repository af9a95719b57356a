// The numbers a job reports, gathered in one place for each phase: the validation pass (lines and
// bytes read), the wait for a loading engine, then the send loop's counters. `snapshot()` is what
// the progress line, the metrics endpoint and `vbatch serve` read.
import { performance } from "node:perf_hooks";
import type { IngestProgress } from "../job/ingest.js";
import { emptyCounts, type JournalCounts } from "../journal/journal.js";
import type { Engine } from "../pool/engine.js";
import { noCounters } from "../send/recorder.js";
import type { Runner, RunnerCounters } from "../send/runner.js";
import { enginePrefixCache, poolPrefixCache } from "./prefix-cache.js";
import type { EngineProgress, RunPhase, RunProgress } from "./progress.js";

const NONE = noCounters();
const EMPTY = emptyCounts();

export class JobProgress {
  phase: RunPhase = "validating";
  /** Counts when the send loop began (what earlier runs finished). */
  before: JournalCounts = EMPTY;
  engines: Engine[] = [];
  runner: Runner | undefined;
  /** The counters of a job sent to a provider's batch API (it has no runner). */
  provider: RunnerCounters | undefined;
  /** Extra rows finished outside the runner (closing out a stopped job's rows). */
  closedOut = 0;
  private readonly started = performance.now();
  private read: IngestProgress = { lines: 0, bytes: 0 };
  private waitingSince: number | null = null;
  private waitLimitMs: number | null = null;
  private waitingReason: string | null = null;

  constructor(private readonly totalBytes: number | null) {}

  get live(): RunnerCounters {
    return this.runner?.counters ?? this.provider ?? NONE;
  }

  get resumed(): number {
    return this.before.succeeded + this.before.failed;
  }

  onIngest(p: IngestProgress): void {
    this.read = { ...p };
  }

  /**
   * No engine answered yet: the job is waiting (since `sinceMs` ago, for at most `limitMs`, for
   * `reason` when it does not look like a loading engine), or stops waiting (null).
   */
  waiting(sinceMs: number | null, limitMs?: number, reason: string | null = null): void {
    this.waitingSince = sinceMs === null ? null : Date.now() - sinceMs;
    this.waitLimitMs = limitMs ?? null;
    this.waitingReason = reason;
  }

  elapsedMs(): number {
    return performance.now() - this.started;
  }

  snapshot(): RunProgress {
    const before = this.before;
    const live = this.live;
    const elapsedMs = this.elapsedMs();
    const done = live.succeeded + live.failed + this.closedOut;
    const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
    const left = before.pending - done;
    const since = this.runner?.allEnginesDownSince ?? null;
    return {
      phase: this.phase,
      validating: this.phase === "validating" ? { ...this.read, totalBytes: this.totalBytes } : null,
      waitingForEnginesSec:
        this.phase === "starting" && this.waitingSince !== null
          ? (Date.now() - this.waitingSince) / 1000
          : null,
      engineWaitSec: this.waitLimitMs === null ? null : this.waitLimitMs / 1000,
      waitingReason: this.waitingReason,
      total: before.total,
      succeeded: before.succeeded + live.succeeded,
      failed: before.failed + live.failed + this.closedOut,
      invalid: before.invalid,
      resumed: this.resumed,
      inFlight: this.runner?.inFlight ?? 0,
      retries: live.retries,
      promptTokens: before.promptTokens + live.promptTokens,
      completionTokens: before.completionTokens + live.completionTokens,
      elapsedMs,
      rowsPerSec: rate,
      tokensPerSec: elapsedMs > 0 ? (live.completionTokens * 1000) / elapsedMs : 0,
      etaSec: rate > 0 ? left / rate : null,
      allEnginesDownSec: since === null ? null : (Date.now() - since) / 1000,
      engines: this.engines.map(
        (e): EngineProgress => ({
          url: e.base,
          up: e.health.up,
          limit: e.limit.current(),
          limitMode: e.limit.describe(),
          inFlight: e.inFlight,
          running: e.metrics?.running ?? null,
          waiting: e.metrics?.waiting ?? null,
          sent: e.sent,
          prefixCache: enginePrefixCache(e),
        }),
      ),
      prefixCache: poolPrefixCache(this.engines),
    };
  }
}
