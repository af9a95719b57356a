// Anthropic Message Batch lines ({custom_id, params}) through `run`: sent as chat completions,
// written back in Anthropic's result-line format.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBatch } from "../src/index.js";
import { type SimServer, simReplyText, startSim } from "../src/sim/index.js";
import { readJsonl, tempDir, writeJsonl } from "./helpers/files.js";

const dir = tempDir();
let s: SimServer;
beforeAll(async () => {
  s = await startSim({ prefillMs: 0, stepMs: 0, maxModelLen: 200 });
});
afterAll(async () => {
  await s.close();
});
const fast = { retryBaseMs: 5, retryMaxMs: 50, fsync: false };
const req = (i: number, extra: Record<string, unknown> = {}) => ({
  custom_id: `a-${i}`,
  params: {
    model: "sim-model",
    max_tokens: 8,
    system: "Be brief.",
    messages: [{ role: "user", content: `classify ${i}` }],
    ...extra,
  },
});

describe("Anthropic batch input", () => {
  it("round-trips: requests as chat, results as Anthropic result lines", async () => {
    const input = writeJsonl(join(dir, "a.jsonl"), [req(0), req(1), req(2, { max_tokens: 5000 })]);
    const output = join(dir, "a.out.jsonl");
    const summary = await runBatch({ input, output, endpoints: [s.url], ...fast });
    expect(summary).toMatchObject({ succeeded: 2, failed: 1 });
    const ok = readJsonl(output);
    for (const line of ok) {
      expect(line.result.type).toBe("succeeded");
      expect(line.result.message.type).toBe("message");
      expect(line.result.message.role).toBe("assistant");
      const i = Number(line.custom_id.slice(2));
      expect(line.result.message.content[0].text).toBe(
        simReplyText({
          messages: [
            { role: "system", content: "Be brief." },
            { role: "user", content: `classify ${i}` },
          ],
        }),
      );
      expect(line.result.message.usage.output_tokens).toBeGreaterThan(0);
    }
    const [err] = readJsonl(summary.errors);
    expect(err).toMatchObject({ custom_id: "a-2", result: { type: "errored" } });
    expect(err.result.error.error.type).toBe("invalid_request_error");
  });

  it("refuses a file that mixes formats, and bad params, naming the lines", async () => {
    const input = writeJsonl(join(dir, "b.jsonl"), [
      req(0),
      { custom_id: "o", method: "POST", url: "/v1/chat/completions", body: { messages: [] } },
      { custom_id: "p", params: { model: "m", messages: [] } },
    ]);
    await expect(
      runBatch({ input, output: join(dir, "b.out.jsonl"), endpoints: [s.url], ...fast }),
    ).rejects.toMatchObject({
      code: "invalid_input",
      details: expect.arrayContaining([
        expect.stringMatching(/^line 2: an OpenAI request in a file of Anthropic requests/),
        expect.stringMatching(/^line 3: params.max_tokens/),
      ]),
    });
  });
});
