// The figures a report shows, derived from the journal's samples: rates over time (differences of
// cumulative counts within a run), in flight and the engines' own queues, each engine's share and
// busy share, latency percentiles from the histogram, attempts by status, prefix-cache hit rate.
// Series are cut to at most MAX_POINTS points, so the page stays small for any job.
import type { RunRecord, TimelineSample } from "../journal/journal.js";
import { LATENCY_BOUNDS_MS } from "../journal/timeline-records.js";

export const MAX_POINTS = 240;

/** One point of a series: seconds since the job's first run began, and a value. */
export interface Point {
  x: number;
  y: number;
}

export interface Series {
  name: string;
  points: Point[];
}

export interface EngineFigures {
  url: string;
  /** Rows it finished (over all runs), and that as a share of all rows engines finished. */
  rows: number;
  share: number;
  /** Share of the sampled time it was working (running, or in flight without /metrics). */
  busy: number;
  failed: number;
}

export interface Figures {
  /** ms since the epoch of time 0 on the axis (the first run's start). */
  origin: number;
  /** Seconds from the first run's start to the last sample. */
  spanSec: number;
  /** Samples the time series holds. */
  samples: number;
  rows: Series;
  tokens: Series;
  inFlight: Series;
  running: Series[];
  waiting: Series[];
  engines: EngineFigures[];
  /** ms; null without attempts. */
  latency: { p50: number; p90: number; p99: number; max: number; attempts: number } | null;
  /** Attempts by status over all runs, and retries. */
  statuses: Record<string, number>;
  retries: number;
  requests: number;
  /** Each run: when it began and its last sample, seconds on the axis. */
  runs: { startSec: number; endSec: number; doneBefore: number; done: number; command: string }[];
  /** Prefix-cache tokens hit / queried, or null when no engine reports them. */
  prefixCache: { queries: number; hits: number } | null;
}

/** Keeps at most `max` points, evenly spread, always the first and the last. */
export function thin(points: Point[], max = MAX_POINTS): Point[] {
  if (points.length <= max) return points;
  const out: Point[] = [];
  const step = (points.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(points[Math.round(i * step)] as Point);
  return out;
}

/** The last sample of each run (its cumulative per-run counters are final there). */
function lastOfRuns(samples: TimelineSample[]): TimelineSample[] {
  const last = new Map<string, TimelineSample>();
  for (const s of samples) last.set(s.run.id, s);
  return [...last.values()];
}

function rateSeries(
  name: string,
  samples: TimelineSample[],
  origin: number,
  value: (s: TimelineSample) => number,
): Series {
  const points: Point[] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1] as TimelineSample;
    const b = samples[i] as TimelineSample;
    const dt = (b.t - a.t) / 1000;
    // Across a stop the rate is not known: the chart leaves the gap empty.
    if (a.run.id !== b.run.id || dt <= 0) continue;
    points.push({ x: (b.t - origin) / 1000, y: Math.max(0, (value(b) - value(a)) / dt) });
  }
  return { name, points: thin(points) };
}

function engineSeries(
  samples: TimelineSample[],
  origin: number,
  pick: (e: TimelineSample["engines"][number]) => number | null,
): Series[] {
  const byUrl = new Map<string, Point[]>();
  for (const s of samples) {
    for (const e of s.engines) {
      const y = pick(e);
      if (y === null) continue;
      const pts = byUrl.get(e.url) ?? [];
      byUrl.set(e.url, pts);
      pts.push({ x: (s.t - origin) / 1000, y });
    }
  }
  return [...byUrl.entries()].map(([name, pts]) => ({ name, points: thin(pts) }));
}

export function percentile(hist: number[], q: number): number {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const want = q * total;
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    const n = hist[i] ?? 0;
    if (seen + n >= want && n > 0) {
      const lo = i === 0 ? 0 : (LATENCY_BOUNDS_MS[i - 1] as number);
      const hi = LATENCY_BOUNDS_MS[i] ?? lo * 2;
      return lo + ((want - seen) / n) * (hi - lo); // linear within the bucket
    }
    seen += n;
  }
  return LATENCY_BOUNDS_MS.at(-1) as number;
}

export function figures(samples: TimelineSample[], runs: RunRecord[]): Figures {
  const origin = Math.min(runs[0]?.started ?? Number.POSITIVE_INFINITY, samples[0]?.t ?? Date.now());
  const lastT = samples.at(-1)?.t ?? origin;
  const finals = lastOfRuns(samples);
  const hist: number[] = [];
  const statuses: Record<string, number> = {};
  let retries = 0;
  let requests = 0;
  for (const s of finals) {
    s.latency.forEach((n, i) => {
      hist[i] = (hist[i] ?? 0) + n;
    });
    for (const [k, n] of Object.entries(s.statuses)) statuses[k] = (statuses[k] ?? 0) + n;
    retries += s.retries;
    requests += s.requests;
  }
  const attempts = hist.reduce((a, b) => a + b, 0);
  return {
    origin,
    spanSec: (lastT - origin) / 1000,
    samples: samples.length,
    rows: rateSeries("rows/s", samples, origin, (s) => s.succeeded + s.failed),
    tokens: rateSeries("output tokens/s", samples, origin, (s) => s.completionTokens),
    inFlight: {
      name: "in flight",
      points: thin(samples.map((s) => ({ x: (s.t - origin) / 1000, y: s.inFlight }))),
    },
    running: engineSeries(samples, origin, (e) => e.running),
    waiting: engineSeries(samples, origin, (e) => e.waiting),
    engines: engineFigures(samples, finals),
    latency:
      attempts === 0
        ? null
        : {
            p50: percentile(hist, 0.5),
            p90: percentile(hist, 0.9),
            p99: percentile(hist, 0.99),
            max: percentile(hist, 1),
            attempts,
          },
    statuses,
    retries,
    requests,
    runs: runs.map((r) => ({
      startSec: (r.started - origin) / 1000,
      endSec: (r.last - origin) / 1000,
      doneBefore: r.doneBefore,
      done: r.done,
      command: r.command,
    })),
    prefixCache: prefixCache(samples),
  };
}

function engineFigures(samples: TimelineSample[], finals: TimelineSample[]): EngineFigures[] {
  const rows = new Map<string, { rows: number; failed: number }>();
  for (const s of finals) {
    for (const e of s.engines) {
      const r = rows.get(e.url) ?? { rows: 0, failed: 0 };
      r.rows += e.succeeded + e.failed;
      r.failed += e.failed;
      rows.set(e.url, r);
    }
  }
  const busy = new Map<string, { busy: number; total: number }>();
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1] as TimelineSample;
    const b = samples[i] as TimelineSample;
    if (a.run.id !== b.run.id) continue;
    const dt = b.t - a.t;
    const before = new Map(a.engines.map((e) => [e.url, e]));
    for (const e of b.engines) {
      const w = busy.get(e.url) ?? { busy: 0, total: 0 };
      w.total += dt;
      // Working at the sample, or it finished rows since the last one (a span shorter than a scrape).
      const was = before.get(e.url);
      const finished = e.succeeded + e.failed > (was ? was.succeeded + was.failed : 0);
      if ((e.running ?? e.inFlight) > 0 || finished) w.busy += dt;
      busy.set(e.url, w);
    }
  }
  const all = [...rows.values()].reduce((n, r) => n + r.rows, 0);
  return [...rows.entries()].map(([url, r]) => {
    const w = busy.get(url);
    return {
      url,
      rows: r.rows,
      share: all > 0 ? r.rows / all : 0,
      busy: w && w.total > 0 ? w.busy / w.total : 0,
      failed: r.failed,
    };
  });
}

/** Hits over queries across each engine's counters, first to last sample of each run. */
function prefixCache(samples: TimelineSample[]): { queries: number; hits: number } | null {
  const first = new Map<string, { q: number; h: number }>();
  const last = new Map<string, { q: number; h: number }>();
  for (const s of samples) {
    for (const e of s.engines) {
      if (e.prefixQueries == null || e.prefixHits == null) continue;
      const key = `${s.run.id} ${e.url}`;
      const v = { q: e.prefixQueries, h: e.prefixHits };
      if (!first.has(key)) first.set(key, v);
      last.set(key, v);
    }
  }
  if (last.size === 0) return null;
  let queries = 0;
  let hits = 0;
  for (const [key, l] of last) {
    const f = first.get(key) ?? l;
    queries += Math.max(0, l.q - f.q);
    hits += Math.max(0, l.h - f.h);
  }
  return { queries, hits };
}
