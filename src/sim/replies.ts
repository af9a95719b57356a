// The simulator's answers: deterministic functions of the request, so a test can tell that every row
// got its own reply, serialized in the OpenAI shapes vLLM returns.

import { createHash } from "node:crypto";
import { mulberry32 } from "./faults.js";

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

/** The usage block of a chat or completion answer. */
export function usage(r: Generated) {
  return {
    prompt_tokens: r.promptTokens,
    total_tokens: r.promptTokens + r.completionTokens,
    completion_tokens: r.completionTokens,
    prompt_tokens_details: null,
  };
}
