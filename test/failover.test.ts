// Several engines at once: routing across them, an engine dying mid-run, every engine down for
// a while, and giving up after --engine-wait with a resumable journal.
import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { runBatch } from "../src/index.js";
import type { SimServer } from "../src/sim/index.js";
import { chatRow, idCounts, readJsonl, tempDir, writeChatInput, writeJsonl } from "./helpers/files.js";
import { useSims } from "./helpers/sims.js";

const dir = tempDir();
let n = 0;
const job = () => {
  n++;
  return { input: join(dir, `fo-${n}.jsonl`), output: join(dir, `fo-${n}.out.jsonl`) };
};
const sim = useSims({ prefillMs: 0, stepMs: 1, outputTokens: 4 });
const fast = { retryBaseMs: 5, retryMaxMs: 50, fsync: false };

function exactlyOnce(total: number, ...files: string[]): void {
  const counts = idCounts(...files);
  expect(counts.size).toBe(total);
  expect([...counts.values()].every((c) => c === 1)).toBe(true);
}

describe("several engines", () => {
  it("spreads rows over every engine, more to the one that frees room faster", async () => {
    // The same limit on both; one engine answers ten times slower and holds two at a time, so
    // routing by free room must send it far fewer rows, however fast the machine is.
    const slow = await sim({ maxNumSeqs: 2, stepMs: 20 });
    const fastEngine = await sim({ maxNumSeqs: 64, stepMs: 2 });
    const j = job();
    writeChatInput(j.input, 1500);
    const summary = await runBatch({ ...j, endpoints: [slow.url, fastEngine.url], concurrency: 16, ...fast });
    expect(summary.succeeded).toBe(1500);
    expect(slow.stats().completed).toBeGreaterThan(0);
    expect(fastEngine.stats().completed).toBeGreaterThan(slow.stats().completed * 3);
  });

  it("one of three engines dies mid-run and another restarts: every row ends exactly once", async () => {
    const a = await sim({ maxNumSeqs: 16, stepMs: 2, outputTokens: 8 });
    const b = await sim({ maxNumSeqs: 16, stepMs: 2, outputTokens: 8 });
    const c = await sim({ maxNumSeqs: 16, stepMs: 2, outputTokens: 8 });
    const j = job();
    const total = 5000;
    writeChatInput(j.input, total);
    let killed = false;
    let restarted: Promise<SimServer> | undefined;
    const summary = await runBatch({
      ...j,
      endpoints: [a.url, b.url, c.url],
      progressIntervalMs: 20,
      onProgress: (p) => {
        if (!killed && p.succeeded > 600) {
          killed = true;
          a.kill();
          b.kill();
        }
        if (killed && !restarted && p.succeeded > 1200) {
          // b comes back, then c dies: the rest can only finish on the restarted b.
          restarted = sim({ maxNumSeqs: 16, stepMs: 2, outputTokens: 8, port: b.port });
          restarted.then(() => c.kill());
        }
      },
      ...fast,
    });
    expect(summary).toMatchObject({ succeeded: total, failed: 0 });
    exactlyOnce(total, j.output);
    expect(restarted).toBeDefined();
    expect((await (restarted as Promise<SimServer>)).stats().completed).toBeGreaterThan(0);
  });

  it("waits while every engine is down, then finishes on the one that comes back", async () => {
    const a = await sim({ maxNumSeqs: 8 });
    const port = a.port;
    const j = job();
    writeChatInput(j.input, 600);
    let phase = 0;
    let back: Promise<SimServer> | undefined;
    const summary = await runBatch({
      ...j,
      endpoints: [a.url],
      progressIntervalMs: 20,
      onProgress: (p) => {
        if (phase === 0 && p.succeeded > 100) {
          phase = 1;
          a.kill();
          setTimeout(() => {
            back = sim({ maxNumSeqs: 8, port });
          }, 300);
        }
      },
      ...fast,
    });
    expect(summary).toMatchObject({ succeeded: 600, failed: 0 });
    exactlyOnce(600, j.output);
    expect((await (back as Promise<SimServer>)).stats().completed).toBeGreaterThan(0);
  });

  it("gives up after engineWaitMs with exit code 1, and the journal resumes later", async () => {
    const a = await sim({ maxNumSeqs: 4, stepMs: 2 });
    const j = job();
    writeChatInput(j.input, 400);
    let killed = false;
    await expect(
      runBatch({
        ...j,
        endpoints: [a.url],
        engineWaitMs: 200,
        progressIntervalMs: 20,
        onProgress: (p) => {
          if (!killed && p.succeeded > 20) {
            killed = true;
            a.kill();
          }
        },
        ...fast,
      }),
    ).rejects.toMatchObject({ code: "engine_unavailable", exitCode: 1 });
    const b = await sim({ maxNumSeqs: 16 });
    const summary = await runBatch({ ...j, endpoints: [b.url], ...fast });
    expect(summary.succeeded).toBe(400);
    expect(summary.resumed).toBeGreaterThan(0);
    exactlyOnce(400, j.output);
  });
});

describe("rows that fail in the engine", () => {
  /** Rows 0-2 fail in the engine with `status` on every attempt; the rest are ordinary. */
  function poisoned(path: string, status: number, total = 200): void {
    const rows = Array.from({ length: total }, (_, i) => {
      const r = chatRow(i, { model: "sim-model" });
      if (i < 3) (r.body as Record<string, unknown>).sim_fail = status;
      return r;
    });
    writeJsonl(path, rows);
  }

  it("a row that always answers 500 is retried, then fails alone: no engine leaves the pool", async () => {
    const a = await sim();
    const b = await sim();
    const j = job();
    poisoned(j.input, 500);
    const warnings: string[] = [];
    const logger = pino({ level: "warn" }, { write: (l: string) => warnings.push(JSON.parse(l).msg) });
    const summary = await runBatch({ ...j, endpoints: [a.url, b.url], maxAttempts: 6, logger, ...fast });
    expect(summary).toMatchObject({ succeeded: 197, failed: 3 });
    // Six attempts for each poisonous row, one for each other row.
    expect(summary.requests).toBe(197 + 3 * 6);
    expect(warnings.filter((m) => /taken out of the pool|every engine is down/.test(m))).toEqual([]);
    const errors = readJsonl(summary.errors);
    expect(errors.map((e) => e.response.status_code)).toEqual([500, 500, 500]);
    expect(a.stats().received + b.stats().received).toBe(summary.requests);
  });

  it("a 501 (vLLM's NotImplementedError) is final after one attempt", async () => {
    const s = await sim();
    const j = job();
    poisoned(j.input, 501, 20);
    const summary = await runBatch({ ...j, endpoints: [s.url], maxAttempts: 5, ...fast });
    expect(summary).toMatchObject({ succeeded: 17, failed: 3, requests: 20, retries: 0 });
    const [first] = readJsonl(summary.errors);
    expect(first.response.status_code).toBe(501);
    expect(first.response.body.error.type).toBe("NotImplementedError");
  });
});
