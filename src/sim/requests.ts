// Reads a parsed completion / chat / embedding body the way vLLM validates it (fields, served model,
// context length) and sizes the work it asks for; kept free of HTTP so the rules read in one place.

import {
  badRequest,
  type ErrorInfo,
  embeddingInputTooLong,
  fieldInvalid,
  fieldMissing,
  maxTokensTooLarge,
  modelNotFound,
  promptTooLong,
} from "./errors.js";
import type { SimConfig } from "./options.js";
import {
  chatReplyText,
  completionReplyText,
  type FinishReason,
  type Generated,
  simReasoningText,
} from "./replies.js";
import { requestedSchema, sampleFromSchema } from "./structured.js";
import {
  chatTokenCount,
  chatTokenIds,
  inputTokenCount,
  type PromptInput,
  splitInputs,
  templateOptions,
  textTokenIds,
} from "./tokens.js";

type Body = Record<string, unknown>;

/** What one request costs the engine and what its answer will say. */
export interface Work extends Generated {
  /** how long the request holds a slot */
  durationMs: number;
  /** KV-cache tokens it holds while running */
  kvTokens: number;
  /** embedding inputs; null for generation, score and rerank */
  inputs: PromptInput[] | null;
  /** score and rerank: each compared pair of texts */
  pairs?: [string, string][];
  /** rerank: how many results to return (0: all) */
  topN?: number;
  /** generation prompts the engine prefills (through its prefix cache); null for pooling */
  prefill?: Prefill | null;
}

/** A generation's prompts: their lengths now, their token ids only when the cache asks. */
export interface Prefill {
  lengths: number[];
  ids: () => number[][];
}

export function isErrorInfo(v: unknown): v is ErrorInfo {
  return typeof v === "object" && v !== null && "code" in v;
}

/** An integer field: null when absent, an ErrorInfo when not a positive integer. */
function positiveInt(body: Body, name: string): number | null | ErrorInfo {
  const v = body[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== "number" || !Number.isInteger(v)) {
    return fieldInvalid(name, "Input should be a valid integer");
  }
  if (v < 1) return badRequest(`${name} must be at least 1, got ${v}.`, name);
  return v;
}

/** vLLM answers 404 for a model it does not serve; an absent model means the served one. */
export function checkModel(cfg: SimConfig, body: Body): ErrorInfo | null {
  const model = body.model;
  if (model !== undefined && model !== null && model !== cfg.model) return modelNotFound(String(model));
  // vLLM's engine refuses priorities unless started with --scheduling-policy priority.
  if (typeof body.priority === "number" && body.priority !== 0 && cfg.schedulingPolicy !== "priority") {
    return badRequest(`Got priority ${body.priority} but Priority scheduling is not enabled.`);
  }
  return null;
}

/** vLLM's _validate_input for completion-like requests. */
function checkLength(cfg: SimConfig, promptTokens: number, maxTokens: number | null): ErrorInfo | null {
  const max = cfg.maxModelLen;
  if (promptTokens >= max) return promptTooLong(max, promptTokens);
  if (maxTokens !== null && promptTokens + maxTokens > max) {
    return maxTokensTooLarge(max, promptTokens, maxTokens);
  }
  return null;
}

/** `perChoice` is what was generated: `wanted` unless max_tokens or the context cut it short. */
function generation(
  cfg: SimConfig,
  text: string,
  promptTokens: number,
  perChoice: number,
  wanted: number,
  choices: number,
): Work {
  const finishReason: FinishReason = perChoice < wanted ? "length" : "stop";
  return {
    durationMs: cfg.prefillMs + perChoice * cfg.stepMs,
    kvTokens: promptTokens + perChoice * choices,
    text,
    finishReason,
    choices,
    promptTokens,
    completionTokens: perChoice * choices,
    inputs: null,
  };
}

const NO_STREAM = "vbatch sim does not implement stream=true";

/** `wanted`: the tokens this request would generate uncapped (see lengths.ts). */
export function chatWork(cfg: SimConfig, body: Body, wanted: number): Work | ErrorInfo {
  const messages = body.messages;
  if (messages === undefined) return fieldMissing("messages");
  if (!Array.isArray(messages)) return fieldInvalid("messages", "Input should be a valid list");
  if (body.stream === true) return badRequest(NO_STREAM, "stream");
  const n = positiveInt(body, "n");
  if (isErrorInfo(n)) return n;
  // vLLM: `request.max_completion_tokens or request.max_tokens`
  const maxCompletion = positiveInt(body, "max_completion_tokens");
  if (isErrorInfo(maxCompletion)) return maxCompletion;
  const maxTokens = maxCompletion ?? positiveInt(body, "max_tokens");
  if (isErrorInfo(maxTokens)) return maxTokens;
  const modelError = checkModel(cfg, body);
  if (modelError) return modelError;
  const template = templateOptions(body);
  if (template.continueFinalMessage && body.add_generation_prompt === true) {
    return badRequest("Cannot set both `continue_final_message` and `add_generation_prompt` to True.");
  }
  const top = topLogprobs(body);
  if (isErrorInfo(top)) return top;
  const promptTokens = chatTokenCount(messages, template);
  const lengthError = checkLength(cfg, promptTokens, maxTokens);
  if (lengthError) return lengthError;
  const perChoice = Math.min(wanted, maxTokens ?? Number.MAX_SAFE_INTEGER, cfg.maxModelLen - promptTokens);
  const text = structuredText(cfg, body, chatReplyText(messages));
  const work = generation(cfg, text, promptTokens, perChoice, wanted, n ?? 1);
  work.prefill = { lengths: [promptTokens], ids: () => [chatTokenIds(messages, template)] };
  work.topLogprobs = top;
  work.reasoning = template.thinkingOn ? simReasoningText(messages) : null;
  return work;
}

/** vLLM's check_logprobs: top_logprobs needs logprobs; null when no logprobs are asked for. */
function topLogprobs(body: Body): number | null | ErrorInfo {
  const asked = body.top_logprobs ?? 0;
  // -1 asks for the whole vocabulary; the sim's stand-in vocabulary is one token wide.
  const top = asked === -1 ? 1 : asked;
  if (typeof top !== "number" || !Number.isInteger(top) || top < 0) {
    return badRequest("`top_logprobs` must be a positive value or -1.", "top_logprobs");
  }
  if (body.logprobs !== true) {
    return top > 0
      ? badRequest("when using `top_logprobs`, `logprobs` must be set to true.", "top_logprobs")
      : null;
  }
  return top;
}

/** The reply text for a request that asks for JSON, else `plain`. */
function structuredText(cfg: SimConfig, body: Body, plain: string): string {
  const schema = requestedSchema(body);
  if (schema === null) return plain;
  const text = JSON.stringify(schema === true ? { reply: plain } : sampleFromSchema(schema, plain));
  // A broken reply, the way a model cut off by max_tokens breaks it.
  return cfg.badJson.next() ? text.slice(0, Math.max(1, text.length - 2)) : text;
}

/** `wanted`: the tokens this request would generate uncapped (see lengths.ts). */
export function completionWork(cfg: SimConfig, body: Body, wanted: number): Work | ErrorInfo {
  const prompt = body.prompt;
  if (prompt === undefined || prompt === null) {
    return badRequest("Either prompt or prompt_embeds must be provided and non-empty.", "prompt");
  }
  const prompts = splitInputs(prompt);
  if (prompts === null) return fieldInvalid("prompt", "Input should be a valid string or list");
  if (body.stream === true) return badRequest(NO_STREAM, "stream");
  const n = positiveInt(body, "n");
  if (isErrorInfo(n)) return n;
  const given = positiveInt(body, "max_tokens");
  if (isErrorInfo(given)) return given;
  const modelError = checkModel(cfg, body);
  if (modelError) return modelError;
  // CompletionRequest.max_tokens defaults to 16 in vLLM
  const maxTokens = given ?? 16;
  let promptTokens = 0;
  let longest = 0;
  for (const p of prompts) {
    const t = inputTokenCount(p);
    const lengthError = checkLength(cfg, t, maxTokens);
    if (lengthError) return lengthError;
    promptTokens += t;
    if (t > longest) longest = t;
  }
  const perChoice = Math.min(wanted, maxTokens, cfg.maxModelLen - longest);
  const choices = prompts.length * (n ?? 1);
  const work = generation(cfg, completionReplyText(prompt), promptTokens, perChoice, wanted, choices);
  work.prefill = {
    lengths: prompts.map(inputTokenCount),
    ids: () => prompts.map((p) => (typeof p === "string" ? textTokenIds(p) : p)),
  };
  return work;
}

export function embeddingWork(cfg: SimConfig, body: Body): Work | ErrorInfo {
  const input = body.input;
  if (input === undefined) return fieldMissing("input");
  const inputs = splitInputs(input);
  if (inputs === null) return fieldInvalid("input", "Input should be a valid string or list");
  const modelError = checkModel(cfg, body);
  if (modelError) return modelError;
  let promptTokens = 0;
  for (const item of inputs) {
    const t = inputTokenCount(item);
    // embeddings may fill the whole context: nothing is generated
    if (t > cfg.maxModelLen) return embeddingInputTooLong(cfg.maxModelLen, t);
    promptTokens += t;
  }
  return {
    durationMs: cfg.prefillMs,
    kvTokens: promptTokens,
    text: "",
    finishReason: "stop",
    choices: inputs.length,
    promptTokens,
    completionTokens: 0,
    inputs,
  };
}
