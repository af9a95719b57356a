// Gemini batch lines, checked by what the engine actually received: every field of a
// GenerateContentRequest is carried exactly into the body vLLM gets, or its line is refused. The
// shapes follow @google/genai 2.32.0 (Schema, Part, GenerationConfig, LogprobsResult).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { geminiResult } from "../src/formats/gemini/response.js";
import { runBatch } from "../src/job/run-batch.js";
import { simReplyText } from "../src/sim/index.js";
import { bodyWith, captureBodies } from "./helpers/capture.js";
import { runCli } from "./helpers/cli.js";
import { readJsonl, tempDir, writeJsonl } from "./helpers/files.js";
import { useSims } from "./helpers/sims.js";

const dir = tempDir();
const sim = useSims({ prefillMs: 0, stepMs: 0 });
const fast = { retryBaseMs: 1, retryMaxMs: 5, fsync: false, maxAttempts: 1 };
const ask = (text: string) => ({ contents: [{ role: "user", parts: [{ text }] }] });

describe("Gemini requests, as vLLM receives them", () => {
  it("carries a snake_case response_schema whole: any_of, int64 limits as numbers, property order", async () => {
    const cap = captureBodies();
    const s = await sim(cap.options);
    const input = writeJsonl(join(dir, "schema.jsonl"), [
      {
        key: "s",
        request: {
          ...ask("schema row"),
          generation_config: {
            response_mime_type: "application/json",
            response_schema: {
              type: "OBJECT",
              property_ordering: ["b", "a"],
              properties: {
                a: { type: "STRING", min_length: "2", max_length: "8", pattern: "^[a-z]+$" },
                b: {
                  type: "ARRAY",
                  items: { type: "INTEGER", enum: ["1", "2"] },
                  min_items: 1,
                  max_items: "3",
                },
                c: { any_of: [{ type: "STRING" }, { type: "NUMBER", minimum: "0.5" }], nullable: true },
                d: {
                  type: "OBJECT",
                  properties: { x: { type: "BOOLEAN", title: "X" } },
                  min_properties: "1",
                  max_properties: 2,
                },
              },
              required: ["a"],
            },
          },
        },
      },
    ]);
    const summary = await runBatch({
      input,
      output: join(dir, "schema.out.jsonl"),
      endpoints: [s.url],
      ...fast,
    });
    expect(summary).toMatchObject({ succeeded: 1, failed: 0 });
    const schema = {
      type: "object",
      required: ["a"],
      properties: {
        b: { type: "array", minItems: 1, maxItems: 3, items: { type: "integer", enum: [1, 2] } },
        a: { type: "string", pattern: "^[a-z]+$", minLength: 2, maxLength: 8 },
        c: { anyOf: [{ type: "string" }, { type: "number", minimum: 0.5 }, { type: "null" }] },
        d: {
          type: "object",
          minProperties: 1,
          maxProperties: 2,
          properties: { x: { type: "boolean", title: "X" } },
        },
      },
    };
    const [got] = cap.received;
    expect(got?.body).toEqual({
      model: "sim-model",
      messages: [{ role: "user", content: "schema row" }],
      response_format: { type: "json_schema", json_schema: { name: "response", schema } },
    });
    // The order Gemini would generate properties in is the order vLLM gets them in.
    const sent = got?.body as { response_format: { json_schema: { schema: { properties: object } } } };
    expect(Object.keys(sent.response_format.json_schema.schema.properties)).toEqual(["b", "a", "c", "d"]);
  });

  it("continues a last model turn, carries earlier thoughts as reasoning, and returns logprobs", async () => {
    const cap = captureBodies();
    const s = await sim(cap.options);
    const input = writeJsonl(join(dir, "turns.jsonl"), [
      {
        key: "prefill",
        request: {
          contents: [
            { role: "user", parts: [{ text: "first question" }] },
            { role: "model", parts: [{ text: "weighing it", thought: true }, { text: "first answer" }] },
            { role: "user", parts: [{ text: "name a fruit" }] },
            { role: "model", parts: [{ text: "Apple and" }] },
          ],
        },
      },
      {
        key: "top",
        request: { ...ask("logprobs row"), generationConfig: { responseLogprobs: true, logprobs: 2 } },
      },
      { key: "chosen", request: { ...ask("chosen row"), generationConfig: { responseLogprobs: true } } },
    ]);
    const output = join(dir, "turns.out.jsonl");
    const summary = await runBatch({ input, output, endpoints: [s.url], ...fast });
    expect(summary).toMatchObject({ succeeded: 3, failed: 0 });
    const prefill = bodyWith(cap.received, "Apple and").body;
    expect(prefill).toEqual({
      model: "sim-model",
      messages: [
        { role: "user", content: "first question" },
        { role: "assistant", content: "first answer", reasoning: "weighing it" },
        { role: "user", content: "name a fruit" },
        { role: "assistant", content: "Apple and" },
      ],
      continue_final_message: true,
      add_generation_prompt: false,
    });
    expect(bodyWith(cap.received, "logprobs row").body).toMatchObject({ logprobs: true, top_logprobs: 2 });
    expect(bodyWith(cap.received, "chosen row").body).toMatchObject({ logprobs: true });
    expect(bodyWith(cap.received, "chosen row").body.top_logprobs).toBeUndefined();

    const out = new Map(readJsonl(output).map((l) => [l.key, l.response.candidates[0]]));
    // The answer is the continuation alone, as vLLM returns it.
    expect(out.get("prefill").content.parts).toEqual([{ text: simReplyText(prefill) }]);
    const top = out.get("top");
    const text = top.content.parts[0].text as string;
    const chosen = top.logprobsResult.chosenCandidates as { token: string; logProbability: number }[];
    expect(chosen.map((c) => c.token).join("")).toBe(text);
    expect(top.logprobsResult.topCandidates).toHaveLength(chosen.length);
    for (const [i, step] of top.logprobsResult.topCandidates.entries()) {
      expect(step.candidates).toHaveLength(2);
      expect(step.candidates[0]).toEqual(chosen[i]);
    }
    const sum = chosen.reduce((n, c) => n + c.logProbability, 0);
    expect(top.logprobsResult.logProbabilitySum).toBeCloseTo(sum, 10);
    expect(top.avgLogprobs).toBeCloseTo(sum / chosen.length, 10);
    const only = out.get("chosen");
    expect(Object.keys(only.logprobsResult)).toEqual(["chosenCandidates", "logProbabilitySum"]);
    expect(only.avgLogprobs).toBeLessThan(0);
    // Without responseLogprobs there is nothing to report.
    expect(out.get("prefill").logprobsResult).toBeUndefined();
  });

  it("returns a thinking model's reasoning as a thought part before the answer", () => {
    const body = {
      model: "m",
      choices: [{ index: 0, message: { content: "Paris", reasoning: "Capital of France." } }],
    };
    const line = { custom_id: "k", response: { status_code: 200, request_id: "r", body }, error: null };
    expect(geminiResult(line).response).toMatchObject({
      candidates: [
        {
          content: {
            role: "model",
            parts: [{ text: "Capital of France.", thought: true }, { text: "Paris" }],
          },
        },
      ],
    });
  });

  it("refuses what Gemini's Schema and Part do not have, or vLLM cannot do, naming each line", async () => {
    const input = writeJsonl(join(dir, "refused.jsonl"), [
      { key: "ok", request: ask("fine") },
      {
        key: "ap",
        request: {
          ...ask("x"),
          generationConfig: {
            responseMimeType: "application/json",
            responseSchema: { type: "OBJECT", properties: {}, additionalProperties: false },
          },
        },
      },
      {
        key: "const",
        request: {
          ...ask("x"),
          generationConfig: {
            responseMimeType: "application/json",
            responseSchema: { type: "STRING", const: "a" },
          },
        },
      },
      {
        key: "frac",
        request: {
          ...ask("x"),
          generationConfig: {
            responseMimeType: "application/json",
            responseSchema: { type: "ARRAY", items: { type: "STRING" }, max_items: "3.5" },
          },
        },
      },
      {
        key: "res",
        request: {
          contents: [
            {
              parts: [
                {
                  inlineData: { mimeType: "image/png", data: "iVBORw0" },
                  mediaResolution: { level: "MEDIA_RESOLUTION_LOW" },
                },
              ],
            },
          ],
        },
      },
      {
        key: "vid",
        request: { contents: [{ parts: [{ text: "clip", videoMetadata: { startOffset: "1s" } }] }] },
      },
      {
        key: "th",
        request: { contents: [{ role: "user", parts: [{ text: "my thought", thought: true }] }] },
      },
      { key: "lp", request: { ...ask("x"), generationConfig: { logprobs: 3 } } },
    ]);
    const r = await runCli(["run", input, "-o", join(dir, "refused.out.jsonl"), "-e", "http://127.0.0.1:9"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vbatch: error: .*refused\.jsonl: 7 invalid lines/m);
    expect(r.stderr).toMatch(
      /line 2: request\.generationConfig\.responseSchema\.additionalProperties: is not a field of Gemini's Schema/,
    );
    expect(r.stderr).toMatch(
      /line 3: request\.generationConfig\.responseSchema\.const: is not a field of Gemini's Schema/,
    );
    expect(r.stderr).toMatch(
      /line 4: request\.generationConfig\.responseSchema\.max_items must be an integer/,
    );
    expect(r.stderr).toMatch(
      /line 5: request\.contents\.0\.parts\.0\.mediaResolution: vLLM has no per-part media resolution/,
    );
    expect(r.stderr).toMatch(/line 6: request\.contents\.0\.parts\.0\.videoMetadata: only inline images/);
    expect(r.stderr).toMatch(
      /line 7: request\.contents\.0\.parts\.0\.thought: a thought from the user has no vLLM equivalent/,
    );
    expect(r.stderr).toMatch(/line 8: request\.generationConfig\.logprobs needs responseLogprobs: true/);
  });
});
