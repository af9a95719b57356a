// vbatch retry: after an outage, the rows in the errors file are sent again and what succeeds
// moves into the output, each row still exactly once across the two files.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { retryFailed, runBatch } from "../src/index.js";
import { runCli } from "./helpers/cli.js";
import { chatRow, idCounts, readJsonl, tempDir, writeChatInput, writeJsonl } from "./helpers/files.js";
import { useSims } from "./helpers/sims.js";

const dir = tempDir();
let n = 0;
const job = () => {
  n++;
  return { input: join(dir, `rt-${n}.jsonl`), output: join(dir, `rt-${n}.out.jsonl`) };
};
const sim = useSims({ prefillMs: 0, stepMs: 0 });
const fast = { retryBaseMs: 1, retryMaxMs: 2, fsync: false, maxAttempts: 2 };

function exactlyOnce(total: number, ...files: string[]) {
  const counts = idCounts(...files);
  expect(counts.size).toBe(total);
  expect([...counts.values()].every((c) => c === 1)).toBe(true);
}

describe("retry", () => {
  it("completes a job after an outage: failed rows move from errors to output", async () => {
    const s = await sim({ faults: { errorRate: 0.3 } });
    const j = job();
    writeChatInput(j.input, 300);
    const first = await runBatch({ ...j, endpoints: [s.url], ...fast });
    expect(first.failed).toBeGreaterThan(0);
    s.setFaults({});
    const again = await retryFailed({ ...j, endpoints: [s.url], ...fast });
    expect(again.reopened).toBe(first.failed);
    expect(again).toMatchObject({ succeeded: 300, failed: 0, requests: first.failed });
    exactlyOnce(300, j.output, again.errors);
    expect(readJsonl(j.output)).toHaveLength(300);
  });

  it("--codes picks which failures to send again", async () => {
    const s = await sim({ maxModelLen: 64 });
    const j = job();
    writeJsonl(j.input, [
      chatRow(0, { model: "sim-model" }),
      chatRow(1, { model: "sim-model", maxTokens: 5000 }),
      chatRow(2, { model: "nope" }),
    ]);
    const first = await runBatch({ ...j, endpoints: [s.url], ...fast });
    expect(first.failed).toBe(2);
    const again = await retryFailed({ ...j, endpoints: [s.url], codes: ["404"], ...fast });
    expect(again.reopened).toBe(1);
    expect(again.requests).toBe(1);
    const errs = readJsonl(again.errors);
    expect(errs.map((e) => e.custom_id).sort()).toEqual(["row-1", "row-2"]);
    exactlyOnce(3, j.output, again.errors);
  });

  it("vbatch retry <output> reads the input from the journal", async () => {
    const s = await sim({ faults: { errorRate: 1 } });
    const j = job();
    writeChatInput(j.input, 20);
    const r1 = await runCli(["run", j.input, "-o", j.output, "-e", s.url, "--max-attempts", "1"]);
    expect(r1.code).toBe(0);
    s.setFaults({});
    const r2 = await runCli(["retry", j.output, "-e", s.url, "--json"]);
    expect(r2.code).toBe(0);
    expect(JSON.parse(r2.stdout)).toMatchObject({ succeeded: 20, failed: 0, reopened: 20 });
    expect(r2.stderr).toContain("20 rows taken from the errors file");
    expect(readFileSync(j.output, "utf8").split("\n").filter(Boolean)).toHaveLength(20);
  });

  it("a refused or failed retry leaves every file as it was", async () => {
    const s = await sim({ faults: { errorRate: 1 } });
    const j = job();
    writeChatInput(j.input, 40);
    const r1 = await runCli(["run", j.input, "-o", j.output, "-e", s.url, "--max-attempts", "1"]);
    expect(r1.code).toBe(0);
    const errors = join(dir, `rt-${n}.out.errors.jsonl`);
    const before = { errors: readFileSync(errors), output: readFileSync(j.output) };
    const unchanged = () => {
      expect(readFileSync(errors).equals(before.errors)).toBe(true);
      expect(readFileSync(j.output).equals(before.output)).toBe(true);
    };
    for (const flag of [["--shard", "0/2"], ["--restart"], ["--skip-invalid"]]) {
      const r = await runCli(["retry", j.output, "-e", s.url, ...flag]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${flag[0]} does not apply to retry`);
      unchanged();
    }
    const noEngine = await runCli(["retry", j.output, "-e", "http://127.0.0.1:9", "--engine-wait", "0"]);
    expect(noEngine.code).toBe(1);
    expect(noEngine.stderr).toMatch(/no engine reachable/);
    unchanged();
    // And the job still retries once an engine is there.
    s.setFaults({});
    const ok = await runCli(["retry", j.output, "-e", s.url, "--json"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ succeeded: 40, reopened: 40 });
  });

  it("warns when --codes matches no line, naming the codes the errors file holds", async () => {
    const s = await sim({ faults: { errorRate: 1 } });
    const j = job();
    writeChatInput(j.input, 5);
    await runCli(["run", j.input, "-o", j.output, "-e", s.url, "--max-attempts", "1"]);
    s.setFaults({});
    const r = await runCli(["retry", j.output, "-e", s.url, "--codes", "429"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("--codes 429 matched no line of the errors file; it holds 500 (5)");
    expect(s.stats().received).toBe(5); // only the first run's requests
  });
});
