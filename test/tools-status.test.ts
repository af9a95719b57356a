// vbatch status: a finished job and a job in progress (runBatch writing its journal while status
// reads it read-only), found by output, by journal, or as the only journal in a directory.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runBatch } from "../src/index.js";
import { type SimServer, startSim } from "../src/sim/index.js";
import { jobStatus, type StatusReport } from "../src/tools/status/index.js";
import { lastActivityMs } from "../src/tools/status/last-activity.js";
import { runCli } from "./helpers/cli.js";
import { chatRow, tempDir, writeChatInput, writeJsonl } from "./helpers/files.js";

const dir = tempDir();
let n = 0;
const job = () => {
  n++;
  const d = join(dir, `job-${n}`);
  mkdirSync(d);
  return { dir: d, input: join(d, "in.jsonl"), output: join(d, "out.jsonl") };
};
const sims: SimServer[] = [];
afterEach(() => {
  // kill, not close: the slow rows of the in-progress test would take hours to finish
  for (const s of sims.splice(0)) s.kill();
});
async function sim(opts: Parameters<typeof startSim>[0] = {}): Promise<SimServer> {
  const s = await startSim({ prefillMs: 0, stepMs: 0, ...opts });
  sims.push(s);
  return s;
}

async function pollStatus(output: string, until: (r: StatusReport) => boolean): Promise<StatusReport> {
  for (;;) {
    try {
      const r = await jobStatus({ output });
      if (until(r)) return r;
    } catch {
      // the journal does not exist yet
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("jobStatus", () => {
  it("reports a finished job as complete with its counts and average rate", async () => {
    const s = await sim();
    const j = job();
    writeJsonl(j.input, [
      ...Array.from({ length: 20 }, (_, i) => chatRow(i, { model: "sim-model" })),
      "{bad",
    ]);
    const summary = await runBatch({ ...j, endpoints: [s.url], fsync: false, skipInvalid: true });
    const r = await jobStatus({ output: j.output, sampleMs: 500 });
    expect(r).toMatchObject({
      state: "complete",
      validated: true,
      total: 20,
      succeeded: 20,
      failed: 0,
      pending: 0,
      invalid: 1,
      percent: 100,
      completionTokens: summary.completionTokens,
      promptTokens: summary.promptTokens,
      output: j.output,
      errors: join(j.dir, "out.errors.jsonl"),
      journal: join(j.dir, "out.vbatch.db"),
      input: j.input,
      shard: null,
      etaSec: null,
    });
    expect(r.rate?.basis).toBe("average");
    expect(r.rate?.rowsPerSec).toBeGreaterThan(0);
    // found again as the only journal in its directory, and by naming the journal
    expect((await jobStatus({ cwd: j.dir })).journal).toBe(r.journal);
    expect((await jobStatus({ journal: r.journal })).output).toBe(j.output);
  });

  it("reads a job in progress (running), then after it is stopped (stopped)", async () => {
    // 5 rows finish at once; 3 would take 100,000 tokens x 50 ms each, so the job stays in progress.
    const s = await sim({ stepMs: 50, outputTokens: 100_000, maxModelLen: 200_000 });
    const j = job();
    writeJsonl(j.input, [
      ...Array.from({ length: 5 }, (_, i) => chatRow(i, { model: "sim-model", maxTokens: 1 })),
      ...Array.from({ length: 3 }, (_, i) => chatRow(100 + i, { model: "sim-model", maxTokens: 100_000 })),
    ]);
    const controller = new AbortController();
    const running = runBatch({
      ...j,
      endpoints: [s.url],
      fsync: false,
      commitIntervalMs: 20,
      signal: controller.signal,
      drainMs: 50,
    });
    try {
      const r = await pollStatus(j.output, (x) => x.validated && x.succeeded === 5);
      expect(r).toMatchObject({
        state: "running",
        runningBy: expect.stringContaining(`pid ${process.pid} on `),
        total: 8,
        succeeded: 5,
        pending: 3,
        failed: 0,
      });
      expect(r.percent).toBeCloseTo(62.5, 6);
      const sampled = await jobStatus({ output: j.output, sampleMs: 100 });
      expect(sampled.state).toBe("running");
      expect(sampled.rate?.basis).toBe("sampled");
      expect(sampled.rate?.rowsPerSec).toBe(0); // nothing finishes while the slow rows run
    } finally {
      controller.abort();
    }
    const summary = await running;
    expect(summary.interrupted).toBe(true);
    const after = await jobStatus({ output: j.output });
    expect(after).toMatchObject({
      state: "stopped",
      runningBy: null,
      succeeded: 5,
      pending: 3,
      etaSec: null,
    });
  });

  it("without an argument: several journals are listed, none is an error", async () => {
    const d = join(dir, "many");
    mkdirSync(d);
    await expect(jobStatus({ cwd: d })).rejects.toMatchObject({
      code: "usage",
      message: expect.stringMatching(/no \*\.vbatch\.db journal/),
    });
    writeFileSync(join(d, "a.vbatch.db"), "");
    writeFileSync(join(d, "b.vbatch.db"), "");
    await expect(jobStatus({ cwd: d })).rejects.toMatchObject({
      code: "usage",
      details: ["a.vbatch.db", "b.vbatch.db"],
    });
    await expect(jobStatus({ output: join(d, "nothing.jsonl") })).rejects.toThrow(/no journal for/);
    await expect(jobStatus({ output: join(d, "a.vbatch.db") })).rejects.toThrow(
      /not a readable vbatch journal/,
    );
  });
});

describe("liveness", () => {
  it("ignores absent files and empty -wal files when dating the last activity", () => {
    const d = join(dir, "activity");
    mkdirSync(d);
    writeFileSync(join(d, "j.db-wal"), "");
    expect(lastActivityMs([join(d, "absent"), join(d, "j.db-wal"), null])).toBeNull();
    writeFileSync(join(d, "out.jsonl"), "x");
    expect(lastActivityMs([join(d, "out.jsonl")])).toBeGreaterThan(0);
  });
});

describe("vbatch status (CLI)", () => {
  it("prints a finished job; exit 2 listing journals when several are here", async () => {
    const s = await sim();
    const j = job();
    writeChatInput(j.input, 10);
    await runBatch({ ...j, endpoints: [s.url], fsync: false });
    const human = await runCli(["status"], { cwd: j.dir });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/state\s+complete/);
    expect(human.stdout).toMatch(/10\/10 done \(100\.0%\): 10 ok, 0 failed, 0 pending/);
    const json = await runCli(["status", j.output, "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ state: "complete", succeeded: 10 });
    writeFileSync(join(j.dir, "other.vbatch.db"), "");
    const several = await runCli(["status"], { cwd: j.dir });
    expect(several.code).toBe(2);
    expect(several.stderr).toMatch(/2 journals in .*; pass one/);
    expect(several.stderr).toMatch(/other\.vbatch\.db/);
    expect(several.stderr).toMatch(/out\.vbatch\.db/);
  });

  it("--json says which shard a job runs, so a merge step can tell which shard is missing", async () => {
    const s = await sim();
    const j = job();
    writeChatInput(j.input, 10);
    await runBatch({ ...j, endpoints: [s.url], fsync: false, shard: { index: 1, count: 3 } });
    const json = await runCli(["status", j.output, "--json", "--sample", "0"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ state: "complete", shard: "1/3" });
  });
});
