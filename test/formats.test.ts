// The other providers' batch files, run on the simulator: Gemini ({key, request}) and Bedrock
// ({recordId, modelInput} for Claude, Nova and Llama bodies). Every row comes back once, in the
// provider's own result shape, with its own answer; what a format cannot carry over is refused
// at validation with its line number.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bedrockToOpenAI } from "../src/formats/bedrock/request.js";
import { geminiToChat } from "../src/formats/gemini/request.js";
import { runBatch } from "../src/job/run-batch.js";
import { simReplyText } from "../src/sim/index.js";
import { runCli } from "./helpers/cli.js";
import { readJsonl, tempDir, writeJsonl } from "./helpers/files.js";
import { useSims } from "./helpers/sims.js";

const dir = tempDir();
let n = 0;
const job = (name: string) => {
  n++;
  return { input: join(dir, `${name}-${n}.jsonl`), output: join(dir, `${name}-${n}.out.jsonl`) };
};
const sim = useSims({ prefillMs: 0, stepMs: 0 });
const fast = { retryBaseMs: 1, retryMaxMs: 5, fsync: false, maxAttempts: 2 };

const geminiLine = (key: string, request: Record<string, unknown>) => ({ key, request });
const ask = (text: string) => ({ contents: [{ role: "user", parts: [{ text }] }] });

describe("Gemini batch files", () => {
  it("answers every request once as {key, response: GenerateContentResponse}", async () => {
    const s = await sim();
    const j = job("gemini");
    const rows = [
      // camelCase, as the REST reference writes it
      geminiLine("a", {
        ...ask("Why is the sky blue?"),
        systemInstruction: { parts: [{ text: "Answer in one line." }] },
        generationConfig: { maxOutputTokens: 8, temperature: 0.2, stopSequences: ["\n"] },
      }),
      // snake_case, as Google's own batch example writes it
      geminiLine("b", {
        ...ask("Describe photosynthesis."),
        generation_config: { temperature: 0.7, max_output_tokens: 8 },
      }),
      geminiLine("c", {
        ...ask("List two cookies."),
        generationConfig: {
          responseMimeType: "application/json",
          responseSchema: {
            type: "OBJECT",
            properties: { names: { type: "ARRAY", items: { type: "STRING" } } },
            required: ["names"],
          },
        },
      }),
      geminiLine("d", { ...ask("Hi"), model: "models/not-served" }),
    ];
    writeJsonl(j.input, rows);
    const summary = await runBatch({ ...j, endpoints: [s.url], model: "sim-model", ...fast });
    expect(summary).toMatchObject({ total: 4, succeeded: 3, failed: 1 });
    const out = readJsonl(j.output);
    expect(out.map((l) => l.key).sort()).toEqual(["a", "b", "c"]);
    for (const l of out) {
      expect(Object.keys(l)).toEqual(["key", "response"]);
      const r = l.response;
      expect(r.candidates[0].content.role).toBe("model");
      expect(r.candidates[0].finishReason).toMatch(/^(STOP|MAX_TOKENS)$/);
      expect(r.usageMetadata.totalTokenCount).toBe(
        r.usageMetadata.promptTokenCount + r.usageMetadata.candidatesTokenCount,
      );
      expect(r.modelVersion).toBe("sim-model");
      const text = r.candidates[0].content.parts[0].text;
      const sent = geminiToChat(rows.find((x) => x.key === l.key)?.request);
      if (l.key === "c") expect(Array.isArray(JSON.parse(text).names)).toBe(true);
      else expect(text).toBe(simReplyText(sent));
    }
    const [failed] = readJsonl(summary.errors);
    expect(failed).toEqual({
      key: "d",
      error: { code: 5, message: "The model `not-served` does not exist." },
    });
  });

  it("refuses what it cannot carry over, naming the line", async () => {
    const j = job("gemini-bad");
    writeJsonl(j.input, [
      geminiLine("ok", ask("fine")),
      geminiLine("s", {
        ...ask("x"),
        safetySettings: [{ category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_LOW_AND_ABOVE" }],
      }),
      geminiLine("f", {
        contents: [{ parts: [{ fileData: { fileUri: "gs://b/x.pdf", mimeType: "application/pdf" } }] }],
      }),
      geminiLine("t", { ...ask("x"), generationConfig: { thinkingConfig: { thinkingBudget: 0 } } }),
      geminiLine("u", { ...ask("x"), sampling: 1 }),
      geminiLine("c", { ...ask("x"), cachedContent: "cachedContents/abc" }),
      { key: "k", request: "not an object" },
    ]);
    const r = await runCli(["run", j.input, "-o", j.output, "-e", "http://127.0.0.1:9"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("6 invalid lines");
    expect(r.stderr).toMatch(
      /line 2: request\.safetySettings\.0: threshold "BLOCK_LOW_AND_ABOVE" asks Gemini to block/,
    );
    expect(r.stderr).toMatch(
      /line 3: request\.contents\.0\.parts\.0\.fileData: files in Gemini's file store/,
    );
    expect(r.stderr).toMatch(/line 4: request\.generationConfig\.thinkingConfig: a thinking budget/);
    expect(r.stderr).toMatch(/line 5: request\.sampling is not a field vbatch knows/);
    expect(r.stderr).toMatch(/line 6: request\.cachedContent: Gemini's context cache/);
    expect(r.stderr).toMatch(/line 7: request must be an object/);
    // Blocking nothing is something vLLM can do.
    expect(() =>
      geminiToChat({ ...ask("x"), safetySettings: [{ category: "C", threshold: "BLOCK_NONE" }] }),
    ).not.toThrow();
  });
});

const claude = (text: string) => ({
  anthropic_version: "bedrock-2023-05-31",
  max_tokens: 8,
  system: "Be brief.",
  messages: [{ role: "user", content: [{ type: "text", text }] }],
});
const nova = (text: string) => ({
  schemaVersion: "messages-v1",
  system: [{ text: "Be brief." }],
  messages: [{ role: "user", content: [{ text }] }],
  inferenceConfig: { maxTokens: 8, temperature: 0.3, topP: 0.9 },
});
const llama = (prompt: string) => ({ prompt, max_gen_len: 8, temperature: 0.5, top_p: 0.9 });

describe("Bedrock batch files", () => {
  it("answers Claude, Nova and Llama records in their own shapes, repeating modelInput byte for byte", async () => {
    const s = await sim();
    const j = job("bedrock");
    // Written by hand so modelInput has spacing JSON.stringify would not reproduce.
    const rawClaude = JSON.stringify(claude("Why is the sky blue?")).replace(/,/g, ", ");
    const lines = [
      `{"recordId": "CALL0000001", "modelInput": ${rawClaude}}`,
      JSON.stringify({ recordId: "CALL0000002", modelInput: nova("Name a colour.") }),
      JSON.stringify({ recordId: "CALL0000003", modelInput: llama("Once upon a time") }),
      JSON.stringify({ recordId: "CALL0000004", modelInput: { ...llama("x"), max_gen_len: 100_000 } }),
    ];
    writeFileSync(j.input, `${lines.join("\n")}\n`);
    const summary = await runBatch({ ...j, endpoints: [s.url], ...fast });
    expect(summary).toMatchObject({ total: 4, succeeded: 3, failed: 1 });
    const out = new Map(readJsonl(j.output).map((l) => [l.recordId, l]));
    const text = readFileSync(j.output, "utf8");
    expect(text).toContain(`"modelInput":${rawClaude}`);

    const c = out.get("CALL0000001");
    expect(c.modelOutput).toMatchObject({
      type: "message",
      role: "assistant",
      stop_reason: expect.any(String),
    });
    expect(c.modelOutput.content[0].text).toBe(
      simReplyText(bedrockToOpenAI(claude("Why is the sky blue?")).body),
    );
    expect(Object.keys(c.modelOutput.usage)).toEqual(["input_tokens", "output_tokens"]);

    const v = out.get("CALL0000002");
    expect(v.modelOutput.output.message.role).toBe("assistant");
    expect(v.modelOutput.output.message.content[0].text).toBe(
      simReplyText(bedrockToOpenAI(nova("Name a colour.")).body),
    );
    expect(v.modelOutput.stopReason).toMatch(/^(end_turn|max_tokens)$/);
    const u = v.modelOutput.usage;
    expect(u.totalTokens).toBe(u.inputTokens + u.outputTokens);

    const l = out.get("CALL0000003");
    expect(l.modelOutput.generation).toBe(simReplyText({ prompt: "Once upon a time" }));
    expect(l.modelOutput).toMatchObject({ stop_reason: expect.stringMatching(/^(stop|length)$/) });
    expect(l.modelOutput.prompt_token_count).toBeGreaterThan(0);

    // A failure: Bedrock's error object replaces modelOutput.
    const [failed] = readJsonl(summary.errors);
    expect(failed.recordId).toBe("CALL0000004");
    expect(failed.modelInput).toEqual({ ...llama("x"), max_gen_len: 100_000 });
    expect(failed.modelOutput).toBeUndefined();
    expect(failed.error).toMatchObject({
      errorCode: 400,
      errorMessage: expect.stringMatching(/maximum context length/),
    });
  });

  it("refuses bodies it cannot carry over, and records without a recordId, naming the line", async () => {
    const j = job("bedrock-bad");
    writeJsonl(j.input, [
      { recordId: "ok", modelInput: llama("fine") },
      { modelInput: llama("no id") },
      { recordId: "t", modelInput: { inputText: "Titan body" } },
      { recordId: "v", modelInput: { ...claude("x"), anthropic_version: "2023-06-01" } },
      { recordId: "n", modelInput: { ...nova("x"), toolConfig: { tools: [] } } },
      { recordId: "b", modelInput: { ...claude("x"), anthropic_beta: ["computer-use-2025-01-24"] } },
    ]);
    const r = await runCli(["run", j.input, "-o", j.output, "-e", "http://127.0.0.1:9"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("5 invalid lines");
    expect(r.stderr).toMatch(/line 2: missing recordId/);
    expect(r.stderr).toMatch(/line 3: modelInput is not a body vbatch can carry over/);
    expect(r.stderr).toMatch(/line 4: modelInput anthropic_version must be "bedrock-2023-05-31"/);
    expect(r.stderr).toMatch(/line 5: modelInput toolConfig: tool use is not carried over/);
    expect(r.stderr).toMatch(/line 6: modelInput anthropic_beta/);
  });
});

describe("one format a file", () => {
  it("names a line of another format, and --format reads every line as one", async () => {
    const j = job("mixed");
    writeJsonl(j.input, [
      { key: "g", request: ask("x") },
      { recordId: "b", modelInput: llama("x") },
      { custom_id: "o", method: "POST", url: "/v1/chat/completions", body: { messages: [] } },
    ]);
    const r = await runCli(["run", j.input, "-o", j.output, "-e", "http://127.0.0.1:9"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/line 2: a Bedrock request in a file of Gemini requests/);
    expect(r.stderr).toMatch(
      /line 3: a OpenAI request in a file of Gemini requests|line 3: an OpenAI request/,
    );
    const forced = await runCli(["validate", j.input, "--format", "bedrock"]);
    expect(forced.code).toBe(2);
    expect(forced.stderr).toMatch(/line 1: missing recordId/);
    const bad = await runCli(["validate", j.input, "--format", "vertex"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--format/);
  });

  it("merge reads Gemini and Bedrock results by their own ids", async () => {
    const s = await sim();
    const j = job("merge-gemini");
    writeJsonl(
      j.input,
      Array.from({ length: 6 }, (_, i) => geminiLine(`k${i}`, ask(`question ${i}`))),
    );
    for (const shard of ["0/2", "1/2"]) {
      const r = await runCli([
        "run",
        j.input,
        "-o",
        `${j.output}.${shard.replace("/", "of")}.jsonl`,
        "-e",
        s.url,
        "--shard",
        shard,
      ]);
      expect(r.code, r.stderr).toBe(0);
    }
    const merged = join(dir, `merged-${n}.jsonl`);
    const m = await runCli([
      "merge",
      `${j.output}.0of2.jsonl`,
      `${j.output}.1of2.jsonl`,
      "-o",
      merged,
      "--input",
      j.input,
      "--order",
      "input",
    ]);
    expect(m.code, m.stderr).toBe(0);
    expect(readJsonl(merged).map((l) => l.key)).toEqual(["k0", "k1", "k2", "k3", "k4", "k5"]);
  });
});

describe("the endpoints vLLM serves beyond chat", () => {
  it("/v1/responses: answers in the Responses shape, tokens counted from input_tokens/output_tokens", async () => {
    const s = await sim();
    const j = job("responses");
    writeJsonl(
      j.input,
      Array.from({ length: 5 }, (_, i) => ({
        custom_id: `r${i}`,
        method: "POST",
        url: "/v1/responses",
        body: { model: "sim-model", input: `question ${i}`, instructions: "Be brief.", max_output_tokens: 6 },
      })),
    );
    const summary = await runBatch({ ...j, endpoints: [s.url], ...fast });
    expect(summary).toMatchObject({ succeeded: 5, failed: 0 });
    const out = readJsonl(j.output);
    for (const l of out) {
      const body = l.response.body;
      expect(body.object).toBe("response");
      expect(body.output[0].content[0].type).toBe("output_text");
      expect(body.usage.output_tokens).toBeGreaterThan(0);
    }
    const sum = (k: string) => out.reduce((n, l) => n + l.response.body.usage[k], 0);
    expect(summary.promptTokens).toBe(sum("input_tokens"));
    expect(summary.completionTokens).toBe(sum("output_tokens"));
  });

  it("/v1/score, /score, /v1/rerank, /rerank and /v2/rerank pass through, never coalesced", async () => {
    const s = await sim({ trackRequests: true });
    const j = job("pooling");
    const rows = [
      {
        custom_id: "s1",
        method: "POST",
        url: "/v1/score",
        body: { model: "sim-model", text_1: "cat", text_2: ["a cat", "a car"] },
      },
      {
        custom_id: "s2",
        method: "POST",
        url: "/score",
        body: { model: "sim-model", text_1: "dog", text_2: "a dog" },
      },
      {
        custom_id: "r1",
        method: "POST",
        url: "/v1/rerank",
        body: { model: "sim-model", query: "q", documents: ["x", "y", "z"], top_n: 2 },
      },
      {
        custom_id: "r2",
        method: "POST",
        url: "/rerank",
        body: { model: "sim-model", query: "q2", documents: ["x"] },
      },
      {
        custom_id: "r3",
        method: "POST",
        url: "/v2/rerank",
        body: { model: "sim-model", query: "q3", documents: ["x", "y"] },
      },
    ];
    writeJsonl(j.input, rows);
    const summary = await runBatch({ ...j, endpoints: [s.url], ...fast });
    expect(summary).toMatchObject({ succeeded: 5, failed: 0, requests: 5 });
    const out = new Map(readJsonl(j.output).map((l) => [l.custom_id, l.response.body]));
    expect(out.get("s1").data.map((d: { object: string }) => d.object)).toEqual(["score", "score"]);
    expect(out.get("r1").results).toHaveLength(2);
    expect(out.get("r3").results[0]).toMatchObject({ document: { text: expect.any(String) } });
    expect(summary.promptTokens).toBeGreaterThan(0);
  });
});
