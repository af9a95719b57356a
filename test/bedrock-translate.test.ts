// Bedrock batch records, checked by what the engine actually received: Llama gets Bedrock's own
// default length, a Mistral body is refused rather than run as Llama, Claude's thinking and a
// prefilled answer reach vLLM as it needs them, and a refused record repeats its modelInput.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBatch } from "../src/job/run-batch.js";
import { simReasoningText, simReplyText } from "../src/sim/index.js";
import { bodyWith, captureBodies } from "./helpers/capture.js";
import { runCli } from "./helpers/cli.js";
import { readJsonl, tempDir, writeJsonl } from "./helpers/files.js";
import { useSims } from "./helpers/sims.js";

const dir = tempDir();
const sim = useSims({ prefillMs: 0, stepMs: 0, maxModelLen: 8192, outputTokens: 600 });
const fast = { retryBaseMs: 1, retryMaxMs: 5, fsync: false, maxAttempts: 1 };
const claude = (messages: unknown[], extra: Record<string, unknown> = {}) => ({
  anthropic_version: "bedrock-2023-05-31",
  max_tokens: 2048,
  messages,
  ...extra,
});

describe("Bedrock records, as vLLM receives them", () => {
  it("gives Llama Bedrock's default max_gen_len, and carries Claude thinking and Claude and Nova prefills", async () => {
    const cap = captureBodies();
    const s = await sim(cap.options);
    const input = writeJsonl(join(dir, "bodies.jsonl"), [
      { recordId: "L1", modelInput: { prompt: "<|begin_of_text|>llama default row" } },
      { recordId: "L2", modelInput: { prompt: "[INST] llama 2 row [/INST]", max_gen_len: 32 } },
      {
        recordId: "C1",
        modelInput: claude([{ role: "user", content: [{ type: "text", text: "claude row" }] }], {
          thinking: { type: "enabled", budget_tokens: 1024 },
        }),
      },
      {
        recordId: "C2",
        modelInput: claude([
          { role: "user", content: "claude prefill row" },
          { role: "assistant", content: "{" },
        ]),
      },
      {
        recordId: "N1",
        modelInput: {
          schemaVersion: "messages-v1",
          messages: [
            { role: "user", content: [{ text: "nova prefill row" }] },
            { role: "assistant", content: [{ text: "Once" }] },
          ],
        },
      },
    ]);
    const output = join(dir, "bodies.out.jsonl");
    const summary = await runBatch({ input, output, endpoints: [s.url], ...fast });
    expect(summary).toMatchObject({ succeeded: 5, failed: 0 });
    const llama = bodyWith(cap.received, "llama default row");
    expect(llama).toEqual({
      path: "/v1/completions",
      body: { model: "sim-model", prompt: "<|begin_of_text|>llama default row", max_tokens: 512 },
    });
    expect(bodyWith(cap.received, "llama 2 row").body).toMatchObject({ max_tokens: 32 });
    const think = bodyWith(cap.received, "claude row").body;
    expect(think).toEqual({
      model: "sim-model",
      messages: [{ role: "user", content: "claude row" }],
      max_tokens: 2048,
      chat_template_kwargs: { enable_thinking: true },
      thinking_token_budget: 1024,
    });
    const prefill = { continue_final_message: true, add_generation_prompt: false };
    expect(bodyWith(cap.received, "claude prefill row").body).toMatchObject(prefill);
    expect(bodyWith(cap.received, "nova prefill row").body).toMatchObject(prefill);

    const out = new Map(readJsonl(output).map((l) => [l.recordId, l.modelOutput]));
    // 600 tokens wanted: Bedrock's 512 is what stops it, not vLLM's 16.
    expect(out.get("L1")).toMatchObject({ generation_token_count: 512, stop_reason: "length" });
    const c1 = out.get("C1");
    expect(Object.keys(c1)).toEqual([
      "id",
      "type",
      "role",
      "model",
      "content",
      "stop_reason",
      "stop_sequence",
      "usage",
    ]);
    expect(c1.content).toEqual([
      { type: "thinking", thinking: simReasoningText(think.messages), signature: "" },
      { type: "text", text: simReplyText(think), citations: null },
    ]);
  });

  it("refuses Mistral bodies and unknown Claude keys; a refused record repeats its modelInput as written", async () => {
    const input = join(dir, "refused.jsonl");
    const spaced = `{"prompt": "<s>[INST] What is your favourite condiment? [/INST]",  "temperature": 0.5}`;
    writeFileSync(
      input,
      [
        JSON.stringify({ recordId: "ok", modelInput: { prompt: "fine", max_gen_len: 8 } }),
        `{"recordId": "M1", "modelInput": ${spaced}}`,
        JSON.stringify({ recordId: "M2", modelInput: { prompt: "Hello", max_tokens: 100, top_k: 5 } }),
        JSON.stringify({
          recordId: "C",
          modelInput: claude([{ role: "user", content: "x" }], { frobnicate: 1 }),
        }),
        `{"recordId": "broken", "modelInput": {"prompt": `,
        "",
      ].join("\n"),
    );
    const r = await runCli([
      "run",
      input,
      "-o",
      join(dir, "refused-cli.out.jsonl"),
      "-e",
      "http://127.0.0.1:9",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vbatch: error: .*refused\.jsonl: 4 invalid lines/m);
    expect(r.stderr).toMatch(
      /line 2: modelInput is a Mistral body \(an \[INST\] prompt without max_gen_len\)/,
    );
    expect(r.stderr).toMatch(/line 3: modelInput is a Mistral body \(max_tokens\)/);
    expect(r.stderr).toContain("line 4: modelInput frobnicate: Extra inputs are not permitted");

    const s = await sim();
    const output = join(dir, "refused.out.jsonl");
    const summary = await runBatch({ input, output, endpoints: [s.url], skipInvalid: true, ...fast });
    expect(summary).toMatchObject({ succeeded: 1 });
    const text = readFileSync(summary.errors, "utf8");
    expect(text).toContain(`{"recordId":"M1","modelInput":${spaced},"error":`);
    const errors = new Map(readJsonl(summary.errors).map((l) => [l.recordId, l]));
    expect(errors.get("M2").modelInput).toEqual({ prompt: "Hello", max_tokens: 100, top_k: 5 });
    expect(errors.get("C").modelInput).toMatchObject({ frobnicate: 1 });
    expect(errors.get("C").error).toEqual({
      errorCode: 400,
      errorMessage: "line 4: modelInput frobnicate: Extra inputs are not permitted",
    });
    // A line that is not JSON has no modelInput to repeat.
    expect(errors.get(null)?.modelInput ?? null).toBeNull();
    expect(errors.size).toBe(4);
  });
});
