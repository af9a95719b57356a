// Structured outputs: rows asking for JSON pass through; with validateJson a reply that fails its
// schema is asked again, then recorded as invalid_json.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBatch } from "../src/index.js";
import { readJsonl, tempDir, writeJsonl } from "./helpers/files.js";
import { useSims } from "./helpers/sims.js";

const dir = tempDir();
let n = 0;
const sim = useSims({ prefillMs: 0, stepMs: 0 });
const schema = {
  type: "object",
  properties: { label: { type: "string", enum: ["spam", "ham"] }, score: { type: "number" } },
  required: ["label", "score"],
};
function rows(count: number, extra: Record<string, unknown> = {}) {
  return Array.from({ length: count }, (_, i) => ({
    custom_id: `j-${i}`,
    method: "POST",
    url: "/v1/chat/completions",
    body: {
      model: "sim-model",
      messages: [{ role: "user", content: `classify ${i}` }],
      response_format: { type: "json_schema", json_schema: { name: "label", schema } },
      ...extra,
    },
  }));
}
const job = (r: unknown[]) => {
  n++;
  return { input: writeJsonl(join(dir, `j${n}.jsonl`), r), output: join(dir, `j${n}.out.jsonl`) };
};
const fast = { retryBaseMs: 5, retryMaxMs: 50, fsync: false };

describe("structured outputs", () => {
  it("passes JSON-schema rows through and checks every reply", async () => {
    const s = await sim();
    const j = job(rows(20));
    const summary = await runBatch({ ...j, endpoints: [s.url], validateJson: true, ...fast });
    expect(summary).toMatchObject({ succeeded: 20, failed: 0, requests: 20 });
    for (const line of readJsonl(j.output)) {
      expect(JSON.parse(line.response.body.choices[0].message.content)).toMatchObject({ label: "spam" });
    }
  });

  it("asks again for a reply that is not valid JSON, and it then succeeds", async () => {
    const s = await sim({ badJsonRate: 0.25 });
    const j = job(rows(40));
    const summary = await runBatch({ ...j, endpoints: [s.url], validateJson: true, jsonRetries: 3, ...fast });
    expect(summary).toMatchObject({ succeeded: 40, failed: 0 });
    expect(summary.requests).toBeGreaterThan(40);
  });

  it("records invalid_json once the retries are used up", async () => {
    const s = await sim({ badJsonRate: 1 });
    const j = job(rows(3));
    const summary = await runBatch({ ...j, endpoints: [s.url], validateJson: true, jsonRetries: 2, ...fast });
    expect(summary).toMatchObject({ succeeded: 0, failed: 3, requests: 9 });
    for (const e of readJsonl(summary.errors)) {
      expect(e.error.code).toBe("invalid_json");
      expect(e.response.status_code).toBe(200);
    }
  });

  it("without validateJson, a broken reply is written as it came", async () => {
    const s = await sim({ badJsonRate: 1 });
    const j = job(rows(2));
    const summary = await runBatch({ ...j, endpoints: [s.url], ...fast });
    expect(summary).toMatchObject({ succeeded: 2, requests: 2 });
  });

  it("warns about the removed guided_json fields", async () => {
    const s = await sim();
    const j = job(rows(2, { guided_json: schema }));
    const warnings: string[] = [];
    const { pino } = await import("pino");
    const logger = pino(
      { level: "warn" },
      {
        write: (line: string) => {
          warnings.push(line);
        },
      },
    );
    await runBatch({ ...j, endpoints: [s.url], logger, ...fast });
    expect(warnings.join("")).toMatch(/guided_json.*ignores since v0.12/);
  });
});
