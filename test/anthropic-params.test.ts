// Anthropic Message Batch params, checked by what the engine actually received, through `run` and
// through `vbatch serve` with the real @anthropic-ai/sdk: every key of MessageCreateParams is
// carried into the body vLLM gets (thinking, a prefilled answer) or refused with its line, and a
// key the Messages API does not know is refused the way that API refuses it.
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, it } from "vitest";
import { runBatch } from "../src/job/run-batch.js";
import { startServer } from "../src/server/index.js";
import { simReasoningText, simReplyText } from "../src/sim/index.js";
import { bodyWith, captureBodies } from "./helpers/capture.js";
import { runCli } from "./helpers/cli.js";
import { readJsonl, tempDir, writeJsonl } from "./helpers/files.js";
import { useSims } from "./helpers/sims.js";
import { waitFor } from "./helpers/wait.js";

const dir = tempDir();
const sim = useSims({ prefillMs: 0, stepMs: 0, maxModelLen: 8192 });
const fast = { retryBaseMs: 1, retryMaxMs: 5, fsync: false, maxAttempts: 1 };
const user = (content: unknown) => ({ role: "user", content });
const row = (id: string, params: Record<string, unknown>) => ({
  custom_id: id,
  params: { model: "sim-model", max_tokens: 64, ...params },
});

describe("Anthropic params, as vLLM receives them (vbatch run)", () => {
  it("maps thinking to the template switch and budget, continues a prefill, and says so in the result", async () => {
    const cap = captureBodies();
    const s = await sim(cap.options);
    const input = writeJsonl(join(dir, "think.jsonl"), [
      row("think", {
        max_tokens: 4096,
        system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
        thinking: { type: "enabled", budget_tokens: 2048 },
        metadata: { user_id: "u-1" },
        messages: [user("think row")],
      }),
      row("off", { thinking: { type: "disabled" }, messages: [user("off row")] }),
      row("prefill", {
        temperature: 0.2,
        top_k: 40,
        stop_sequences: ["\n\n"],
        output_config: { effort: "low" },
        messages: [
          user("prefill row"),
          { role: "assistant", content: [{ type: "text", text: "The answer is (" }] },
        ],
      }),
    ]);
    const output = join(dir, "think.out.jsonl");
    const summary = await runBatch({ input, output, endpoints: [s.url], ...fast });
    expect(summary).toMatchObject({ succeeded: 3, failed: 0 });
    const think = bodyWith(cap.received, "think row").body;
    expect(think).toEqual({
      model: "sim-model",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "think row" },
      ],
      max_tokens: 4096,
      chat_template_kwargs: { enable_thinking: true },
      thinking_token_budget: 2048,
    });
    expect(bodyWith(cap.received, "off row").body).toEqual({
      model: "sim-model",
      messages: [{ role: "user", content: "off row" }],
      max_tokens: 64,
      chat_template_kwargs: { enable_thinking: false },
    });
    const prefill = bodyWith(cap.received, "prefill row").body;
    expect(prefill).toEqual({
      model: "sim-model",
      messages: [
        { role: "user", content: "prefill row" },
        { role: "assistant", content: "The answer is (" },
      ],
      max_tokens: 64,
      temperature: 0.2,
      top_k: 40,
      stop: ["\n\n"],
      reasoning_effort: "low",
      continue_final_message: true,
      add_generation_prompt: false,
    });
    const out = new Map(readJsonl(output).map((l) => [l.custom_id, l.result.message]));
    expect(out.get("think").content).toEqual([
      { type: "thinking", thinking: simReasoningText(think.messages), signature: "" },
      { type: "text", text: simReplyText(think), citations: null },
    ]);
    expect(out.get("off").content.map((b: { type: string }) => b.type)).toEqual(["text"]);
    // Only the continuation, as the Messages API returns it.
    expect(out.get("prefill").content).toEqual([
      { type: "text", text: simReplyText(prefill), citations: null },
    ]);
  });

  it("refuses unknown keys as the Messages API does, and what has no vLLM equivalent, by line", async () => {
    const m = [user("x")];
    const input = writeJsonl(join(dir, "refused.jsonl"), [
      row("ok", { messages: m }),
      row("extra", { messages: m, frobnicate: true }),
      { custom_id: "np", params: "not an object" },
      row("omit", {
        max_tokens: 4096,
        messages: m,
        thinking: { type: "enabled", budget_tokens: 2048, display: "omitted" },
      }),
      row("budget", { messages: m, thinking: { type: "enabled", budget_tokens: 100 } }),
      row("box", { messages: m, container: "container_1" }),
      row("block", { messages: [user([{ type: "text", text: "x", colour: "red" }])] }),
      row("redacted", {
        messages: [
          user("q"),
          { role: "assistant", content: [{ type: "redacted_thinking", data: "…" }] },
          user("r"),
        ],
      }),
    ]);
    const out = join(dir, "refused.out.jsonl");
    const r = await runCli(["run", input, "-o", out, "-e", "http://127.0.0.1:9"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vbatch: error: .*refused\.jsonl: 7 invalid lines/m);
    expect(r.stderr).toContain("line 2: params.frobnicate: Extra inputs are not permitted");
    expect(r.stderr).toContain("line 3: params: must be an object");
    expect(r.stderr).not.toContain("params.params");
    expect(r.stderr).toMatch(/line 4: params\.thinking\.display: "omitted"/);
    expect(r.stderr).toMatch(/line 5: params\.thinking\.budget_tokens: must be an integer >= 1024/);
    expect(r.stderr).toMatch(/line 6: params\.container: code execution containers/);
    expect(r.stderr).toContain("line 7: params.messages.0.content.0.colour: Extra inputs are not permitted");
    expect(r.stderr).toMatch(/line 8: params\.messages\.1\.content\.0: redacted thinking/);

    // Under --skip-invalid each refused line is an invalid_request_error, as Anthropic types it.
    const s = await sim();
    const skipped = await runBatch({ input, output: out, endpoints: [s.url], skipInvalid: true, ...fast });
    expect(skipped).toMatchObject({ succeeded: 1 });
    const errors = readJsonl(skipped.errors);
    expect(errors).toHaveLength(7);
    for (const e of errors) {
      expect(e.result).toMatchObject({
        type: "errored",
        error: { type: "error", error: { type: "invalid_request_error" } },
      });
    }
    expect(errors.find((e) => e.custom_id === "extra").result.error.error.message).toBe(
      "line 2: params.frobnicate: Extra inputs are not permitted",
    );
  });
});

describe("Anthropic params through vbatch serve and @anthropic-ai/sdk", () => {
  it("sends thinking and a prefill as vLLM needs them, and refuses an unknown key with the API's words", async () => {
    const cap = captureBodies();
    const s = await sim(cap.options);
    const server = await startServer({
      dataDir: join(dir, "serve-data"),
      port: 0,
      endpoints: [s.url],
      run: { progressIntervalMs: 50, fsync: false, retryBaseMs: 5, retryMaxMs: 50, drainMs: 200 },
    });
    try {
      const client = new Anthropic({ baseURL: server.url, apiKey: "unused", maxRetries: 0 });
      const batch = await client.messages.batches.create({
        requests: [
          {
            custom_id: "t",
            params: {
              model: "sim-model",
              max_tokens: 2048,
              thinking: { type: "enabled", budget_tokens: 1024 },
              messages: [
                { role: "user", content: "serve row" },
                { role: "assistant", content: "Sure:" },
              ],
            },
          },
        ],
      });
      await waitFor(
        () => client.messages.batches.retrieve(batch.id),
        (b) => b.processing_status === "ended",
      );
      const body = bodyWith(cap.received, "serve row").body;
      expect(body).toMatchObject({
        chat_template_kwargs: { enable_thinking: true },
        thinking_token_budget: 1024,
        continue_final_message: true,
        add_generation_prompt: false,
      });
      const results = [];
      for await (const r of await client.messages.batches.results(batch.id)) results.push(r);
      const message = results[0]?.result.type === "succeeded" ? results[0].result.message : null;
      expect(message?.content[0]).toEqual({
        type: "thinking",
        thinking: simReasoningText(body.messages),
        signature: "",
      });

      const bad = {
        model: "sim-model",
        max_tokens: 8,
        messages: [{ role: "user", content: "x" }],
        frobnicate: true,
      };
      await expect(
        client.messages.batches.create({ requests: [{ custom_id: "x", params: bad as never }] }),
      ).rejects.toMatchObject({
        status: 400,
        error: {
          type: "error",
          error: {
            type: "invalid_request_error",
            message: "requests.0.params.frobnicate: Extra inputs are not permitted",
          },
        },
      });
    } finally {
      await server.close();
    }
  });
});
