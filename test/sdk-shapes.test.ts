// The result shapes vbatch writes, held to the installed SDKs' own types: what chatToMessage and
// the Anthropic result lines produce must satisfy @anthropic-ai/sdk's Message and
// MessageBatchIndividualResponse, and the simulator's /v1/responses body openai's Response. The
// values are written into a TypeScript file as literals and compiled with `satisfies`, so a field
// the SDK makes required (or a field it does not have) fails here the day the SDK is upgraded.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { chatToMessage, resultFor } from "../src/anthropic/reply.js";
import { useSims } from "./helpers/sims.js";

const ROOT = join(import.meta.dirname, "..");
// Inside the checkout, so the file resolves the SDKs from its node_modules.
const cacheDir = join(ROOT, "node_modules", ".cache");
mkdirSync(cacheDir, { recursive: true });
const dir = mkdtempSync(join(cacheDir, "vbatch-sdk-shapes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sim = useSims({ prefillMs: 0, stepMs: 0 });

async function compile(source: string): Promise<{ ok: boolean; output: string }> {
  const file = join(dir, `check-${Date.now()}.ts`);
  writeFileSync(file, source);
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  const args = ["--noEmit", "--strict", "--skipLibCheck", "--module", "nodenext", "--target", "es2022", file];
  try {
    await promisify(execFile)(process.execPath, [tsc, ...args], { cwd: ROOT });
    return { ok: true, output: "" };
  } catch (err) {
    return { ok: false, output: String((err as { stdout?: string }).stdout ?? err) };
  }
}

const literal = (v: unknown) => JSON.stringify(v, null, 2);

/** A chat completion with everything an answer can hold: reasoning, text and a tool call. */
const chat = {
  id: "chatcmpl-abc",
  object: "chat.completion",
  model: "sim-model",
  choices: [
    {
      index: 0,
      message: {
        role: "assistant",
        content: "It is sunny.",
        reasoning: "Check the weather first.",
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } },
        ],
      },
      finish_reason: "tool_calls",
      stop_reason: null,
    },
  ],
  usage: { prompt_tokens: 9, completion_tokens: 5, total_tokens: 14 },
};

describe("result shapes against the SDKs' types", () => {
  it("Anthropic Messages and batch result lines satisfy @anthropic-ai/sdk, /v1/responses satisfies openai", async () => {
    const s = await sim();
    const res = await fetch(`${s.url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "sim-model", input: "hello", max_output_tokens: 4 }),
    });
    const response: unknown = await res.json();
    const ok = { custom_id: "a", response: { status_code: 200, request_id: "r", body: chat }, error: null };
    const refused = {
      custom_id: "b",
      response: null,
      error: { code: "invalid_request", message: "line 2: x" },
    };
    const failed = { custom_id: "c", response: { status_code: 500, request_id: "r", body: {} }, error: null };
    const expired = { custom_id: "d", response: null, error: { code: "batch_expired", message: "x" } };
    // The check must be able to fail: a Message without a required field is an error tsc expects.
    const { diagnostics: _d, ...incomplete } = chatToMessage(chat);
    const source = `import type Anthropic from "@anthropic-ai/sdk";
import type OpenAI from "openai";
type Line = Anthropic.Messages.Batches.MessageBatchIndividualResponse;
export const message = ${literal(chatToMessage(chat))} satisfies Anthropic.Messages.Message;
export const lines = ${literal([ok, refused, failed, expired].map(resultFor))} satisfies Line[];
// The SDK computes output_text from output when it parses a response (lib/ResponsesParser).
export const response = ${literal(response)} satisfies Omit<OpenAI.Responses.Response, "output_text">;
// @ts-expect-error diagnostics is required (on one line: tsc reports it where satisfies stands)
export const incomplete = ${JSON.stringify(incomplete)} satisfies Anthropic.Messages.Message;
`;
    expect(await compile(source)).toEqual({ ok: true, output: "" });
  });
});
