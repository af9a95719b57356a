// The simulator's answers: deterministic functions of the request, so a test can tell that every row
// got its own reply, serialized in the OpenAI shapes vLLM returns.

import { createHash } from "node:crypto";
import { mulberry32 } from "./faults.js";
import { simLogprobs } from "./logprobs.js";

export function hash16(text: string): string {
  return createHash("sha1").update(text).digest("hex").slice(0, 16);
}

function field(body: unknown, name: string): unknown {
  return body !== null && typeof body === "object" ? (body as Record<string, unknown>)[name] : undefined;
}

/** JSON.stringify of undefined is undefined; hash that as an empty string. */
function stringify(value: unknown): string {
  return JSON.stringify(value) ?? "";
}

export function chatReplyText(messages: unknown): string {
  return `sim:${hash16(stringify(messages))}`;
}

/** The reasoning the sim returns when a request turns a thinking model's thinking on. */
export function simReasoningText(messages: unknown): string {
  return `sim-thought:${hash16(stringify(messages))}`;
}

export function completionReplyText(prompt: unknown): string {
  return `sim:${hash16(stringify(prompt))}`;
}

/** The reply content the sim gives for a parsed request body (chat when it has `messages`). */
export function simReplyText(body: unknown): string {
  const messages = field(body, "messages");
  return messages !== undefined ? chatReplyText(messages) : completionReplyText(field(body, "prompt"));
}

/** A unit-length vector (vLLM normalizes embeddings by default) seeded by the input itself. */
export function simEmbedding(input: unknown, dim: number): number[] {
  const seed = Number.parseInt(hash16(stringify(input)).slice(0, 8), 16);
  const random = mulberry32(seed);
  const v = new Array<number>(dim);
  let norm = 0;
  for (let i = 0; i < dim; i++) {
    const x = random() * 2 - 1;
    v[i] = x;
    norm += x * x;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < dim; i++) v[i] = (v[i] ?? 0) / norm;
  return v;
}

export type FinishReason = "stop" | "length";

/** What a generation request produced, whatever the endpoint. */
export interface Generated {
  text: string;
  finishReason: FinishReason;
  /** number of choices: prompts x n */
  choices: number;
  promptTokens: number;
  /** over all choices */
  completionTokens: number;
  /** Chat: the reasoning a thinking model returns beside its answer (null when not thinking). */
  reasoning?: string | null;
  /** Chat: how many top alternatives each token's logprobs list (null: no logprobs asked). */
  topLogprobs?: number | null;
}

function usage(r: Generated) {
  return {
    prompt_tokens: r.promptTokens,
    total_tokens: r.promptTokens + r.completionTokens,
    completion_tokens: r.completionTokens,
    prompt_tokens_details: null,
  };
}

/** `id` is the request id; vLLM names the reply chatcmpl-<id>. */
export function chatCompletionBody(id: string, r: Generated, model: string, created: number): string {
  const choices = new Array(r.choices);
  for (let i = 0; i < r.choices; i++) {
    choices[i] = {
      index: i,
      // vLLM's ChatMessage names the reasoning `reasoning` (older releases: reasoning_content).
      message: {
        role: "assistant",
        content: r.text,
        refusal: null,
        annotations: null,
        audio: null,
        function_call: null,
        tool_calls: [],
        reasoning: r.reasoning ?? null,
      },
      logprobs:
        r.topLogprobs === null || r.topLogprobs === undefined ? null : simLogprobs(r.text, r.topLogprobs),
      finish_reason: r.finishReason,
      stop_reason: null,
    };
  }
  return JSON.stringify({
    id: `chatcmpl-${id}`,
    object: "chat.completion",
    created,
    model,
    choices,
    usage: usage(r),
    prompt_logprobs: null,
  });
}

export function completionBody(id: string, r: Generated, model: string, created: number): string {
  const choices = new Array(r.choices);
  for (let i = 0; i < r.choices; i++) {
    choices[i] = { index: i, text: r.text, logprobs: null, finish_reason: r.finishReason, stop_reason: null };
  }
  return JSON.stringify({
    id: `cmpl-${id}`,
    object: "text_completion",
    created,
    model,
    choices,
    usage: usage(r),
  });
}

export function embeddingBody(
  id: string,
  created: number,
  model: string,
  inputs: readonly unknown[],
  dim: number,
  promptTokens: number,
): string {
  const data = new Array(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    data[i] = { index: i, object: "embedding", embedding: simEmbedding(inputs[i], dim) };
  }
  return JSON.stringify({
    id: `embd-${id}`,
    object: "list",
    created,
    model,
    data,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens, completion_tokens: 0 },
  });
}

export function modelsBody(model: string, maxModelLen: number, created: number): string {
  return JSON.stringify({
    object: "list",
    data: [
      {
        id: model,
        object: "model",
        created,
        owned_by: "vllm",
        root: model,
        parent: null,
        max_model_len: maxModelLen,
        permission: [
          {
            id: `modelperm-${hash16(model)}`,
            object: "model_permission",
            created,
            allow_create_engine: false,
            allow_sampling: true,
            allow_logprobs: true,
            allow_search_indices: false,
            allow_view: true,
            allow_fine_tuning: false,
            organization: "*",
            group: null,
            is_blocking: false,
          },
        ],
      },
    ],
  });
}

export function tokenizeBody(tokens: number[], maxModelLen: number): string {
  return JSON.stringify({ count: tokens.length, max_model_len: maxModelLen, tokens, token_strs: null });
}
