// src/progress/ is what a job reports: these shapes, the counters behind them (job-progress),
// and the runner's own Prometheus endpoint (metrics).
//
// The numbers a job reports while it runs and when it ends. Plain data: the CLI renders it, tests
// assert on it, `vbatch serve` copies it into Batch objects.
import type { InputGrowth } from "../job/input-growth.js";
import type { ProviderSummary } from "../provider/report.js";
import type { PrefixCacheFigures } from "./prefix-cache.js";

export type { PrefixCacheFigures } from "./prefix-cache.js";

export interface EngineProgress {
  url: string;
  /** False while the engine is out of the pool (failing; being probed). */
  up: boolean;
  /** Current in-flight limit and how it is set. */
  limit: number;
  limitMode: string;
  inFlight: number;
  /** From the engine's /metrics, when it has them. */
  running: number | null;
  waiting: number | null;
  sent: number;
  /** The engine's prefix-cache counters during this job, when its /metrics has them. */
  prefixCache?: PrefixCacheFigures | null | undefined;
}

/** What a job is doing: reading the input, waiting for the first engine, sending, or finished. */
export type RunPhase = "validating" | "starting" | "running" | "done";

export interface RunProgress {
  phase: RunPhase;
  /** How far the validation pass has read (phase "validating"), else null. */
  validating: { lines: number; bytes: number; totalBytes: number | null } | null;
  /** Seconds spent waiting for the first engine to accept connections (phase "starting"), else null. */
  waitingForEnginesSec: number | null;
  /** How long the job waits for an engine before it gives up (--engine-wait), in seconds. */
  engineWaitSec?: number | null | undefined;
  /** Why no engine answers, when it does not look like one still loading; else null. */
  waitingReason?: string | null | undefined;
  /** Rows in the input (valid ones); 0 until the validation pass is done. */
  total: number;
  succeeded: number;
  failed: number;
  /** Invalid lines routed to the errors file (--skip-invalid). */
  invalid: number;
  /** Rows finished by an earlier run of the same job. */
  resumed: number;
  inFlight: number;
  retries: number;
  promptTokens: number;
  completionTokens: number;
  elapsedMs: number;
  /** Rows finished per second in this run. */
  rowsPerSec: number;
  /** Completion tokens per second in this run. */
  tokensPerSec: number;
  /** Seconds left at the current rate, or null before there is a rate. */
  etaSec: number | null;
  engines: EngineProgress[];
  /** The engines' prefix-cache counters during this job, summed (null: no engine reports them). */
  prefixCache?: PrefixCacheFigures | null | undefined;
  /** Seconds every engine has been down, or null while at least one is up. */
  allEnginesDownSec: number | null;
}

export interface RunSummary {
  total: number;
  succeeded: number;
  failed: number;
  invalid: number;
  resumed: number;
  /** Rows answered by an identical row's request (requests dedupe saved), over the whole job. */
  deduped: number;
  /** Requests sent in this run, retries included. */
  requests: number;
  retries: number;
  promptTokens: number;
  completionTokens: number;
  wallMs: number;
  rowsPerSec: number;
  tokensPerSec: number;
  /** The job's --tag metadata. */
  tags: Record<string, string>;
  /** Peak resident memory of this process, MiB. */
  maxRssMb: number;
  /** True when the run was stopped (Ctrl-C) before every row was final. */
  interrupted: boolean;
  output: string;
  errors: string;
  journal: string;
  /** A job sent to a provider's batch API: its batches, the provider's counts and the cost. */
  provider?: ProviderSummary | undefined;
  /** A job with --overflow: rows answered by the engines and by provider batches (in this run). */
  overflow?: OverflowSummary | undefined;
  /**
   * The engines' prefix-cache counters over this run (their /metrics; null when no engine reports
   * them): prompt tokens looked up, found, and the share found.
   */
  prefixCache?: PrefixCacheFigures | null | undefined;
  /** Set when lines were appended to the input while the job ran: they were not read or sent. */
  inputGrew?: InputGrowth | undefined;
}

/** Where the rows of a job with --overflow ran, in this run. */
export interface OverflowSummary {
  engineRows: number;
  providerRows: number;
}
