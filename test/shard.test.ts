// --shard i/N: N orchestrators split one input by custom_id with no coordination; together they
// answer exactly what one unsharded run answers.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mergeOutputs, runBatch } from "../src/index.js";
import { type SimServer, startSim } from "../src/sim/index.js";
import { readJsonl, tempDir, writeChatInput, writeJsonl } from "./helpers/files.js";

const dir = tempDir();
let s: SimServer;
beforeAll(async () => {
  s = await startSim({ prefillMs: 0, stepMs: 0 });
});
afterAll(async () => {
  await s.close();
});
const fast = { retryBaseMs: 5, retryMaxMs: 50, fsync: false };
const answers = (file: string) =>
  new Map(readJsonl(file).map((l) => [l.custom_id, l.response.body.choices[0].message.content]));

describe("--shard", () => {
  it("shards 0/3, 1/3 and 2/3 together equal the unsharded run", async () => {
    const input = writeChatInput(join(dir, "in.jsonl"), 900);
    const whole = await runBatch({ input, output: join(dir, "whole.jsonl"), endpoints: [s.url], ...fast });
    expect(whole.succeeded).toBe(900);
    const merged = new Map<string, string>();
    for (let i = 0; i < 3; i++) {
      const output = join(dir, `shard-${i}.jsonl`);
      const summary = await runBatch({
        input,
        output,
        endpoints: [s.url],
        shard: { index: i, count: 3 },
        ...fast,
      });
      expect(summary.total).toBeGreaterThan(200);
      expect(summary.total).toBeLessThan(400);
      for (const [id, reply] of answers(output)) {
        expect(merged.has(id)).toBe(false);
        merged.set(id, reply);
      }
    }
    expect(merged).toEqual(answers(join(dir, "whole.jsonl")));
    // vbatch merge joins the shards back, in input order, proving each row appears once.
    const report = await mergeOutputs({
      outputs: [0, 1, 2].map((i) => join(dir, `shard-${i}.jsonl`)),
      output: join(dir, "merged.jsonl"),
      input,
      order: "input",
    });
    expect(report.succeeded).toBe(900);
    const mergedLines = readJsonl(join(dir, "merged.jsonl"));
    expect(mergedLines.map((l) => l.custom_id)).toEqual(Array.from({ length: 900 }, (_, i) => `row-${i}`));
    expect(answers(join(dir, "merged.jsonl"))).toEqual(answers(join(dir, "whole.jsonl")));
  });

  it("refuses to resume a journal with a different --shard", async () => {
    const input = writeChatInput(join(dir, "in2.jsonl"), 30);
    const output = join(dir, "s2.jsonl");
    await runBatch({ input, output, endpoints: [s.url], shard: { index: 0, count: 2 }, ...fast });
    await expect(
      runBatch({ input, output, endpoints: [s.url], shard: { index: 1, count: 2 }, ...fast }),
    ).rejects.toMatchObject({ code: "usage" });
  });

  it("puts each invalid line in exactly one shard", async () => {
    const input = writeJsonl(join(dir, "in3.jsonl"), ["{bad", "{worse", '{"custom_id":"x","method":"GET"}']);
    let errors = 0;
    for (let i = 0; i < 2; i++) {
      const summary = await runBatch({
        input,
        output: join(dir, `s3-${i}.jsonl`),
        endpoints: [s.url],
        shard: { index: i, count: 2 },
        skipInvalid: true,
        ...fast,
      });
      errors += summary.invalid;
    }
    expect(errors).toBe(3);
  });
});
