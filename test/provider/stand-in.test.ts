// --provider openai against the provider stand-in: what a real Batch API does that `vbatch serve`
// does not (a slow validating, queue-limit refusals, batches that fail whole or expire, result
// files that are gone or answer 5xx, rows that fail), and every row still ends in exactly one of
// the output and errors files, once.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunOptions } from "../../src/job/options.js";
import { runBatch } from "../../src/job/run-batch.js";
import { Journal } from "../../src/journal/journal.js";
import { readJsonl, tempDir, writeChatInput } from "../helpers/files.js";
import { type StandIn, type StandInScript, startStandIn } from "../helpers/provider-stand-in.js";

const dir = tempDir("vbatch-stand-in-");
let n = 0;
const fresh = (name: string) => join(dir, `${name}-${++n}`);

const stands: StandIn[] = [];
afterEach(async () => {
  await Promise.all(stands.splice(0).map((s) => s.close()));
});

async function run(
  rows: number,
  script: StandInScript,
  o: Partial<RunOptions> & { chunkRows?: number } = {},
) {
  const stand = await startStandIn(script);
  stands.push(stand);
  const input = writeChatInput(`${fresh("in")}.jsonl`, rows, { model: "gpt-4o-mini" });
  const output = `${fresh("out")}.jsonl`;
  const summary = await runBatch({
    input,
    output,
    endpoints: [],
    fsync: false,
    ...o,
    provider: {
      name: "openai",
      url: stand.url,
      apiKey: "k",
      chunkRows: o.chunkRows ?? 10,
      pollIntervalMs: 5,
      pollMaxMs: 20,
    },
  });
  const errors = output.replace(/\.jsonl$/, ".errors.jsonl");
  const journal = new Journal(output.replace(/\.jsonl$/, ".vbatch.db"), { readonly: true });
  const chunks = journal.batches().chunks();
  journal.close();
  return { stand, summary, out: readJsonl(output), err: readJsonl(errors), chunks };
}

/** Every row in exactly one of the two files, once. */
function everyRowOnce(out: { custom_id: string }[], err: { custom_id: string }[], rows: number): void {
  const ids = [...out, ...err].map((l) => l.custom_id).sort();
  expect(ids).toEqual(Array.from({ length: rows }, (_, i) => `row-${i}`).sort());
}

describe("--provider openai against the provider stand-in", () => {
  it("waits out a slow validating, 429s on create and a 5xx on download", async () => {
    const { stand, summary, out, err } = await run(20, {
      validatingPolls: 3,
      refuseCreates: 2,
      downloadErrors: 1,
    });
    expect(summary).toMatchObject({ succeeded: 20, failed: 0, interrupted: false });
    everyRowOnce(out, err, 20);
    expect(stand.batches).toHaveLength(2);
    expect(out[0].response.body.choices[0].message.content).toMatch(/^answer to row-/);
    expect(summary.promptTokens).toBe(100);
    // The provider's counts and tokens, at the dated table's batch price for gpt-4o-mini.
    expect(summary.provider).toMatchObject({
      name: "openai",
      batches: 2,
      statuses: { completed: 2 },
      requestCounts: { total: 20, completed: 20, failed: 0 },
      promptTokens: 100,
      completionTokens: 60,
      price: { inputPerMillion: 0.075, outputPerMillion: 0.3 },
      warnings: [],
    });
    expect(summary.provider?.cost).toBeCloseTo((100 * 0.075 + 60 * 0.3) / 1e6, 12);
  });

  it("resubmits the rows of a batch failed whole for its queue limit, without counting an attempt", async () => {
    const { stand, summary, out, err, chunks } = await run(
      10,
      { failBatch: { 1: "token_limit_exceeded" } },
      { maxAttempts: 1 },
    );
    expect(summary).toMatchObject({ succeeded: 10, failed: 0 });
    everyRowOnce(out, err, 10);
    expect(stand.batches.map((b) => b.status)).toEqual(["failed", "completed"]);
    expect(chunks.map((c) => c.note === null)).toEqual([false, true]);
  });

  it("fails the rows of a batch that fails whole once they used --max-attempts", async () => {
    const { stand, summary, out, err } = await run(
      6,
      { failBatch: { 1: "invalid_request", 2: "invalid_request" } },
      { maxAttempts: 2 },
    );
    expect(summary).toMatchObject({ succeeded: 0, failed: 6 });
    everyRowOnce(out, err, 6);
    expect(stand.batches).toHaveLength(2);
    expect(err[0]).toMatchObject({ response: null, error: { code: "invalid_request" } });
  });

  it("keeps an expired batch's answers and resubmits the rest", async () => {
    const { stand, summary, out, err } = await run(10, { expireBatch: { 1: 3 } });
    expect(summary).toMatchObject({ succeeded: 10, failed: 0 });
    everyRowOnce(out, err, 10);
    expect(stand.batches.map((b) => [b.status, b.rows.length])).toEqual([
      ["expired", 10],
      ["completed", 7],
    ]);
  });

  it("sends again the rows whose results were gone after retention", async () => {
    const { stand, summary, out, err, chunks } = await run(5, { goneBatch: { 1: true } });
    expect(summary).toMatchObject({ succeeded: 5, failed: 0 });
    everyRowOnce(out, err, 5);
    expect(stand.batches).toHaveLength(2);
    expect(chunks[0]?.note).toMatch(/gone/);
  });

  it("retries rows that failed with 5xx in a later chunk; a 400 and an exhausted 500 go to errors", async () => {
    const rowStatus = (id: string, k: number) =>
      id === "row-3" && k === 1 ? 500 : id === "row-4" ? 400 : id === "row-5" ? 503 : 200;
    const { stand, summary, out, err } = await run(8, { rowStatus }, { maxAttempts: 2 });
    everyRowOnce(out, err, 8);
    expect(summary).toMatchObject({ succeeded: 6, failed: 2 });
    expect(err.map((l) => [l.custom_id, l.response.status_code]).sort()).toEqual([
      ["row-4", 400],
      ["row-5", 503],
    ]);
    expect(stand.batches.map((b) => b.rows.map((r) => r.custom_id))).toEqual([
      Array.from({ length: 8 }, (_, i) => `row-${i}`),
      ["row-3", "row-5"],
    ]);
  });
});
