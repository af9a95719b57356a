// The job's time series (journal/timeline.ts): samples written by the commit cycles a real job
// makes, a resumed job's second run beside its first, the table kept bounded by thinning, and a
// journal from before the series read as an empty one.
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { runBatch } from "../src/index.js";
import { Journal } from "../src/journal/journal.js";
import { MAX_SAMPLES, TIMELINE_SCHEMA, TimelineWriter } from "../src/journal/timeline.js";
import type { TimelineSample } from "../src/journal/timeline-records.js";
import { type SimServer, startSim } from "../src/sim/index.js";
import { tempDir, writeChatInput } from "./helpers/files.js";

const dir = tempDir();
const sims: SimServer[] = [];
afterEach(() => {
  for (const s of sims.splice(0)) s.kill();
});

function fakeSample(t: number, done: number): TimelineSample {
  return {
    t,
    run: { id: "r1", started: 0, doneBefore: 0, command: "test", gpus: null },
    succeeded: done,
    failed: 0,
    promptTokens: done * 10,
    completionTokens: done * 5,
    inFlight: 3,
    requests: done,
    retries: 0,
    statuses: { "200": done },
    latency: [done],
    engines: [],
  };
}

describe("the job's time series", () => {
  it("records samples and runs with the commits, and a resumed run beside the first", async () => {
    const s = await startSim({ prefillMs: 0, stepMs: 2, maxNumSeqs: 4, faults: { errorRate: 0.2 }, seed: 7 });
    sims.push(s);
    const input = writeChatInput(join(dir, "in.jsonl"), 60);
    const output = join(dir, "out.jsonl");
    const stop = new AbortController();
    const first = await runBatch({
      input,
      output,
      endpoints: [s.url],
      fsync: false,
      maxAttempts: 2,
      retryBaseMs: 1,
      retryMaxMs: 2,
      signal: stop.signal,
      progressIntervalMs: 20,
      onProgress: (p) => {
        if (p.succeeded + p.failed >= 20) stop.abort();
      },
    });
    expect(first.interrupted).toBe(true);
    const second = await runBatch({ input, output, endpoints: [s.url], fsync: false, maxAttempts: 2 });
    expect(second.interrupted).toBe(false);

    const j = new Journal(join(dir, "out.vbatch.db"), { readonly: true });
    const { samples, runs } = j.timeline();
    const failures = j.failuresByStatus();
    j.close();
    expect(runs).toHaveLength(2);
    expect(runs[0]?.doneBefore).toBe(0);
    expect(runs[1]?.doneBefore).toBe(runs[0]?.done);
    expect(runs[1]?.done).toBe(60);
    const last = samples.at(-1) as TimelineSample;
    expect(last.succeeded + last.failed).toBe(60);
    expect(last.failed).toBe(second.failed);
    expect(last.completionTokens).toBe(second.completionTokens);
    expect(last.engines[0]?.url).toBe(s.url.replace(/\/v1$/, ""));
    // Every attempt of the second run is in its statuses and its latency histogram.
    const attempts = Object.values(last.statuses).reduce((a, b) => a + b, 0);
    expect(attempts).toBe(second.requests);
    expect(last.latency.reduce((a, b) => a + b, 0)).toBe(second.requests);
    expect(Object.values(failures).reduce((a, b) => a + b, 0)).toBe(second.failed);
  });

  it("thins the samples so a long job keeps a bounded table and its latest totals", () => {
    const db = new Database(":memory:");
    db.exec(TIMELINE_SCHEMA);
    const w = new TimelineWriter(db);
    const every = w.everyMs;
    let t = 1_000_000;
    for (let i = 0; i < MAX_SAMPLES * 3; i++) {
      t += w.everyMs;
      w.record(fakeSample(t, i));
    }
    const n = (db.prepare("SELECT count(*) AS n FROM samples").get() as { n: number }).n;
    expect(n).toBeLessThan(MAX_SAMPLES);
    expect(n).toBeGreaterThan(MAX_SAMPLES / 4);
    expect(w.everyMs).toBeGreaterThan(every);
    const newest = db.prepare("SELECT data FROM samples ORDER BY t DESC LIMIT 1").get() as { data: string };
    expect((JSON.parse(newest.data) as TimelineSample).succeeded).toBe(MAX_SAMPLES * 3 - 1);
    // A writer opened later on the same table keeps the wider spacing.
    expect(new TimelineWriter(db).everyMs).toBeGreaterThan(every);
    db.close();
  });

  it("reads a journal from before the series as an empty one", () => {
    const path = join(dir, "old.vbatch.db");
    new Journal(path).close();
    const db = new Database(path);
    db.exec("DROP TABLE samples; DROP TABLE runs;");
    db.close();
    const j = new Journal(path, { readonly: true });
    expect(j.timeline()).toEqual({ samples: [], runs: [] });
    j.close();
  });
});
