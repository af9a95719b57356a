// Per-batch dedupe: identical deterministic requests go out once; every row still gets its own
// line with the shared answer, across resume too.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBatch } from "../src/index.js";
import { type SimServer, simReplyText, startSim } from "../src/sim/index.js";
import { idCounts, readJsonl, tempDir, writeJsonl } from "./helpers/files.js";

const dir = tempDir();
let s: SimServer;
beforeAll(async () => {
  s = await startSim({ prefillMs: 0, stepMs: 1, outputTokens: 4 });
});
afterAll(async () => {
  await s.close();
});
const fast = { retryBaseMs: 5, retryMaxMs: 50, fsync: false };

/** 4 copies of each of `distinct` prompts, interleaved. */
function repeated(distinct: number, body: Record<string, unknown> = { temperature: 0 }) {
  const rows = [];
  for (let copy = 0; copy < 4; copy++) {
    for (let i = 0; i < distinct; i++) {
      rows.push({
        custom_id: `r-${copy}-${i}`,
        method: "POST",
        url: "/v1/chat/completions",
        body: {
          model: "sim-model",
          messages: [{ role: "user", content: `prompt ${i}` }],
          max_tokens: 4,
          ...body,
        },
      });
    }
  }
  return rows;
}

describe("dedupe", () => {
  it("sends a quarter of the requests for 4x repeated temperature-0 prompts; every row gets its answer", async () => {
    const input = writeJsonl(join(dir, "d1.jsonl"), repeated(50));
    const output = join(dir, "d1.out.jsonl");
    const summary = await runBatch({ input, output, endpoints: [s.url], ...fast });
    expect(summary).toMatchObject({ succeeded: 200, requests: 50, deduped: 150 });
    const out = readJsonl(output);
    expect(idCounts(output).size).toBe(200);
    for (const line of out) {
      const i = Number(line.custom_id.split("-")[2]);
      expect(line.response.body.choices[0].message.content).toBe(
        simReplyText({ messages: [{ role: "user", content: `prompt ${i}` }] }),
      );
    }
  });

  it("leaves sampling at temperature > 0 alone in auto, and dedupes it with on", async () => {
    const rows = repeated(10, { temperature: 0.8 });
    const auto = await runBatch({
      input: writeJsonl(join(dir, "d2.jsonl"), rows),
      output: join(dir, "d2.out.jsonl"),
      endpoints: [s.url],
      ...fast,
    });
    expect(auto).toMatchObject({ requests: 40, deduped: 0 });
    const on = await runBatch({
      input: writeJsonl(join(dir, "d3.jsonl"), rows),
      output: join(dir, "d3.out.jsonl"),
      endpoints: [s.url],
      dedupe: "on",
      ...fast,
    });
    expect(on).toMatchObject({ succeeded: 40, requests: 10, deduped: 30 });
  });

  it("keeps sharing answers across a resume", async () => {
    const input = writeJsonl(join(dir, "d4.jsonl"), repeated(300));
    const output = join(dir, "d4.out.jsonl");
    const controller = new AbortController();
    const first = await runBatch({
      input,
      output,
      endpoints: [s.url],
      concurrency: 4,
      signal: controller.signal,
      progressIntervalMs: 10,
      onProgress: (p) => {
        if (p.succeeded >= 100) controller.abort();
      },
      ...fast,
    });
    expect(first.interrupted).toBe(true);
    const second = await runBatch({ input, output, endpoints: [s.url], ...fast });
    expect(second.succeeded).toBe(1200);
    expect(first.requests + second.requests).toBe(300);
    const counts = idCounts(output);
    expect(counts.size).toBe(1200);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
  });
});
