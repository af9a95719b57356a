// The shapes of the job's time series (timeline.ts): plain data, so the report and status can
// read them without SQLite's types.

/** Upper bounds (ms) of the latency histogram's buckets; the last bucket has no bound. */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 120_000, 300_000,
];

/** One engine at the moment of a sample. */
export interface EngineSample {
  url: string;
  up: boolean;
  limit: number;
  inFlight: number;
  /** From its /metrics scrape; null when it has none. */
  running: number | null;
  waiting: number | null;
  /** This run's counts (cumulative). */
  sent: number;
  succeeded: number;
  failed: number;
  /** Prefix-cache tokens queried and hit (cumulative engine counters), when its /metrics has them. */
  prefixQueries?: number | null | undefined;
  prefixHits?: number | null | undefined;
}

/** The run a sample belongs to. */
export interface RunInfo {
  id: string;
  /** ms since the epoch. */
  started: number;
  /** Rows final when the run began. */
  doneBefore: number;
  command: string;
  /** GPUs of the engines the run launched; null when it was given engines. */
  gpus: number | null;
}

export interface TimelineSample {
  /** ms since the epoch. */
  t: number;
  run: RunInfo;
  /** The whole job's counts (cumulative across runs). */
  succeeded: number;
  failed: number;
  promptTokens: number;
  completionTokens: number;
  inFlight: number;
  /** This run's requests and retries (cumulative). */
  requests: number;
  retries: number;
  /** This run's attempts by HTTP status ("none": no HTTP answer), cumulative. */
  statuses: Record<string, number>;
  /** This run's attempt latencies: counts per LATENCY_BOUNDS_MS bucket (one more for the rest). */
  latency: number[];
  engines: EngineSample[];
}

/** A run as the `runs` table keeps it. */
export interface RunRecord {
  id: string;
  started: number;
  last: number;
  doneBefore: number;
  done: number;
  command: string;
  gpus: number | null;
}
