// The job's time series, for `vbatch report` and `vbatch status --json`: one sample per commit
// cycle at most, and at most one per `everyMs` (250 ms at first), written inside the cycle's own
// transaction (no extra transaction, nothing per row). Samples hold cumulative counts, so dropping
// every other one loses no total: when a job has recorded MAX_SAMPLES, every second sample goes
// and the spacing doubles, which bounds the table for a job of any length. Each run (a process
// working the job) has a row in `runs`, so a resume stays on the time axis however thin it gets.
import type Database from "better-sqlite3";
import type { RunRecord, TimelineSample } from "./timeline-records.js";

export type { EngineSample, RunRecord, TimelineSample } from "./timeline-records.js";
export { LATENCY_BOUNDS_MS } from "./timeline-records.js";

export const TIMELINE_SCHEMA = `
CREATE TABLE IF NOT EXISTS samples (
  t    INTEGER PRIMARY KEY,   -- ms since the epoch
  run  TEXT NOT NULL,         -- runs.id
  data TEXT NOT NULL          -- the sample as JSON (timeline-records.ts)
);
CREATE TABLE IF NOT EXISTS runs (
  id          TEXT PRIMARY KEY,
  started     INTEGER NOT NULL, -- ms since the epoch
  last        INTEGER NOT NULL, -- the run's latest sample
  done_before INTEGER NOT NULL, -- rows final when it started
  done        INTEGER NOT NULL, -- rows final at its latest sample
  command     TEXT NOT NULL,
  gpus        INTEGER           -- GPUs of the engines it launched (null: engines it was given)
);
`;

/** Samples kept per job before every second one is dropped. */
export const MAX_SAMPLES = 2000;
/** The first spacing of samples; it doubles each time the table is thinned. */
export const FIRST_EVERY_MS = 250;

export class TimelineWriter {
  private readonly insertSample: Database.Statement<[number, string, string]>;
  private readonly upsertRun: Database.Statement<
    [string, number, number, number, number, string, number | null]
  >;
  private readonly countSamples: Database.Statement<[], { n: number }>;
  private readonly thin: Database.Statement<[]>;
  private count: number;
  private lastT = 0;
  everyMs: number;

  constructor(db: Database.Database) {
    this.insertSample = db.prepare("INSERT OR REPLACE INTO samples (t, run, data) VALUES (?, ?, ?)");
    this.upsertRun = db.prepare(
      `INSERT INTO runs (id, started, last, done_before, done, command, gpus) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET last = excluded.last, done = excluded.done, gpus = excluded.gpus`,
    );
    this.countSamples = db.prepare("SELECT count(*) AS n FROM samples");
    // Every second sample by time, the newest always kept (it holds the latest totals).
    this.thin = db.prepare(
      `DELETE FROM samples WHERE t IN (
         SELECT t FROM (SELECT t, row_number() OVER (ORDER BY t DESC) AS n FROM samples) WHERE n % 2 = 0)`,
    );
    this.count = this.countSamples.get()?.n ?? 0;
    let every = FIRST_EVERY_MS;
    for (let n = this.count; n >= MAX_SAMPLES / 2; n /= 2) every *= 2;
    this.everyMs = every;
  }

  /** True when a sample taken at `now` would be recorded (a cheap test before building one). */
  due(now: number): boolean {
    return now - this.lastT >= this.everyMs;
  }

  /** Records `s` (inside the caller's transaction); `force` ignores the spacing (a run's last). */
  record(s: TimelineSample, force = false): void {
    if (!force && !this.due(s.t)) return;
    const t = Math.max(Math.round(s.t), this.lastT + 1);
    this.lastT = t;
    this.insertSample.run(t, s.run.id, JSON.stringify(s));
    this.upsertRun.run(
      s.run.id,
      Math.round(s.run.started),
      t,
      s.run.doneBefore,
      s.succeeded + s.failed,
      s.run.command,
      s.run.gpus,
    );
    if (++this.count >= MAX_SAMPLES) {
      this.thin.run();
      this.count = this.countSamples.get()?.n ?? 0;
      this.everyMs *= 2;
    }
  }
}

function hasTable(db: Database.Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/** The recorded samples, oldest first, and the runs; empty for a journal from before them. */
export function readTimeline(db: Database.Database): { samples: TimelineSample[]; runs: RunRecord[] } {
  if (!hasTable(db, "samples") || !hasTable(db, "runs")) return { samples: [], runs: [] };
  const samples: TimelineSample[] = [];
  for (const row of db.prepare("SELECT data FROM samples ORDER BY t").iterate() as IterableIterator<{
    data: string;
  }>) {
    samples.push(JSON.parse(row.data) as TimelineSample);
  }
  const runs = (
    db.prepare("SELECT * FROM runs ORDER BY started").all() as {
      id: string;
      started: number;
      last: number;
      done_before: number;
      done: number;
      command: string;
      gpus: number | null;
    }[]
  ).map(
    (r): RunRecord => ({
      id: r.id,
      started: r.started,
      last: r.last,
      doneBefore: r.done_before,
      done: r.done,
      command: r.command,
      gpus: r.gpus,
    }),
  );
  return { samples, runs };
}
