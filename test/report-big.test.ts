// A big job's report: a journal of 1 M rows, 64 engines and the time series at its bound (built
// here directly in SQLite, cheaply, in the journal's own schema) still gives a page, under 1 MB.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { Journal } from "../src/journal/journal.js";
import { MAX_SAMPLES } from "../src/journal/timeline.js";
import type { TimelineSample } from "../src/journal/timeline-records.js";
import { buildReport } from "../src/report/index.js";
import { tempDir } from "./helpers/files.js";

const dir = tempDir("vbatch-big-");
const ROWS = 1_000_000;
const ENGINES = 64;

function sample(i: number, run: string, started: number, t: number): TimelineSample {
  const done = Math.round((ROWS * i) / MAX_SAMPLES);
  return {
    t,
    run: { id: run, started, doneBefore: 0, command: "vbatch run", gpus: ENGINES },
    succeeded: done - Math.floor(done / 100),
    failed: Math.floor(done / 100),
    promptTokens: done * 20,
    completionTokens: done * 30,
    inFlight: 1024,
    requests: done,
    retries: Math.floor(done / 50),
    statuses: { "200": done, "500": Math.floor(done / 50), none: 3 },
    latency: [0, 0, 0, 10, done, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0],
    engines: Array.from({ length: ENGINES }, (_, e) => ({
      url: `http://gpu-${e}.cluster.internal:8000`,
      up: true,
      limit: 24,
      inFlight: 16,
      running: 8 + (e % 3),
      waiting: (i + e) % 5,
      sent: Math.round(done / ENGINES),
      succeeded: Math.round(done / ENGINES),
      failed: 0,
      prefixQueries: done * 20,
      prefixHits: done * 12,
    })),
  };
}

describe("a 1 M-row job's report", () => {
  it("is built and stays under 1 MB", () => {
    const path = join(dir, "big.vbatch.db");
    new Journal(path).close(); // the real schema
    const db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = OFF");
    db.exec(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${ROWS})
      INSERT INTO rows (line, custom_id, state, status, prompt_tokens, completion_tokens, fp)
      SELECT x, 'row-' || x, CASE WHEN x % 100 = 0 THEN 2 ELSE 1 END,
             CASE WHEN x % 100 = 0 THEN 500 ELSE 200 END, 20, 30, x FROM c`);
    db.prepare("INSERT INTO meta (key, value) VALUES ('ingested', '1'), ('created_at', ?)").run(
      new Date(0).toISOString(),
    );
    const insert = db.prepare("INSERT INTO samples (t, run, data) VALUES (?, ?, ?)");
    const t0 = 1_000_000;
    db.transaction(() => {
      for (let i = 1; i < MAX_SAMPLES; i++) {
        const run = i < MAX_SAMPLES / 2 ? "run-1" : "run-2";
        const started = run === "run-1" ? t0 : t0 + 4_000_000;
        const t = t0 + i * 4000 + (run === "run-2" ? 100_000 : 0);
        insert.run(t, run, JSON.stringify(sample(i, run, started, t)));
      }
      db.prepare(
        "INSERT INTO runs (id, started, last, done_before, done, command, gpus) VALUES (?, ?, ?, ?, ?, 'vbatch run', ?)",
      ).run("run-1", t0, t0 + 3_996_000, 0, ROWS / 2, ENGINES);
      db.prepare(
        "INSERT INTO runs (id, started, last, done_before, done, command, gpus) VALUES (?, ?, ?, ?, ?, 'vbatch run', ?)",
      ).run("run-2", t0 + 4_000_000, t0 + 8_096_000, ROWS / 2, ROWS, ENGINES);
    })();
    db.close();
    const errors = join(dir, "big.errors.jsonl");
    const line = (i: number) =>
      `${JSON.stringify({ id: `r${i}`, custom_id: `row-${i}`, response: { status_code: 500, body: { error: { message: "engine died" } } }, error: null })}\n`;
    writeFileSync(errors, Array.from({ length: 10_000 }, (_, i) => line(i * 100)).join(""));

    const started = performance.now();
    const r = buildReport({
      journal: path,
      out: join(dir, "big.html"),
      gpu: "H100",
      compare: ["gpt-5-mini"],
    });
    // Said, not asserted: the machine's speed varies.
    console.log(
      `1 M-row report: ${(r.bytes / 1024).toFixed(0)} KiB in ${Math.round(performance.now() - started)} ms`,
    );
    expect(r.bytes).toBeLessThan(1 << 20);
    expect(r.figures?.engines).toHaveLength(ENGINES);
    expect(r.figures?.runs).toHaveLength(2);
    expect(r.figures?.rows.points.length).toBeLessThanOrEqual(240);
    expect(r.figures?.prefixCache?.hits).toBeGreaterThan(0);
    // GPU hours from the launch records: 64 GPUs over both runs' wall time.
    expect(r.cost.gpuHours).toBeCloseTo((ENGINES * (3_996_000 + 4_096_000)) / 3_600_000, 6);
  });
});
