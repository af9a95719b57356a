// OpenAI-batch output and error lines -> Gemini batch result lines: {key, response} with a
// GenerateContentResponse for an answer, {key, error} with a google.rpc.Status (a gRPC code and a
// message) for a failure. The result file's lines are matched to requests by key.
import { isPlainObject } from "../../util/object.js";
import { batchOutcome, chatUsage, errorMessage } from "../openai-reply.js";
import type { FailureLine } from "../types.js";
import type { Obj } from "./fields.js";
import { geminiLogprobs } from "./logprobs.js";

const FINISH: Record<string, string> = {
  stop: "STOP",
  length: "MAX_TOKENS",
  content_filter: "SAFETY",
  tool_calls: "STOP",
  function_call: "STOP",
};

/** google.rpc.Code for an HTTP status, as Google maps them. */
function grpcCode(status: number): number {
  if (status === 400 || status === 413 || status === 422) return 3; // INVALID_ARGUMENT
  if (status === 401) return 16; // UNAUTHENTICATED
  if (status === 403) return 7; // PERMISSION_DENIED
  if (status === 404) return 5; // NOT_FOUND
  if (status === 408 || status === 504) return 4; // DEADLINE_EXCEEDED
  if (status === 409) return 10; // ABORTED
  if (status === 429) return 8; // RESOURCE_EXHAUSTED
  if (status === 501) return 12; // UNIMPLEMENTED
  if (status === 503) return 14; // UNAVAILABLE
  return 13; // INTERNAL
}

/** google.rpc.Code names by number (googleapis/googleapis google/rpc/code.proto). */
const CODE_NAMES = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
];

/** For failures without an HTTP answer, by vbatch's error code. */
const CODE_FOR: Record<string, number> = {
  request_timeout: 4,
  connection_error: 14,
  invalid_request: 3,
  invalid_json: 13,
  invalid_response: 13,
  batch_expired: 4,
  batch_cancelled: 1, // CANCELLED
};

function candidates(chat: Obj): Obj[] {
  const choices = Array.isArray(chat.choices) ? chat.choices.filter(isPlainObject) : [];
  return choices.map((c, i) => {
    const msg = isPlainObject(c.message) ? c.message : {};
    const out: Obj[] = [];
    // A thinking model's reasoning (vLLM's `reasoning`, earlier `reasoning_content`) is a thought part.
    const reasoning = typeof msg.reasoning === "string" ? msg.reasoning : msg.reasoning_content;
    if (typeof reasoning === "string" && reasoning !== "") out.push({ text: reasoning, thought: true });
    if (typeof msg.content === "string") out.push({ text: msg.content });
    for (const call of Array.isArray(msg.tool_calls) ? msg.tool_calls.filter(isPlainObject) : []) {
      const fn = isPlainObject(call.function) ? call.function : {};
      let args: unknown = {};
      try {
        args = typeof fn.arguments === "string" && fn.arguments !== "" ? JSON.parse(fn.arguments) : {};
      } catch {
        args = { arguments: fn.arguments };
      }
      out.push({ functionCall: { name: fn.name, args } });
    }
    const finish = typeof c.finish_reason === "string" ? (FINISH[c.finish_reason] ?? "OTHER") : "STOP";
    return {
      content: { role: "model", parts: out.length > 0 ? out : [{ text: "" }] },
      finishReason: finish,
      index: typeof c.index === "number" ? c.index : i,
      ...geminiLogprobs(c),
    };
  });
}

/** A chat completion as a GenerateContentResponse. */
function chatToGenerateContent(chat: unknown): Obj {
  const c = isPlainObject(chat) ? chat : {};
  const { prompt, completion } = chatUsage(c);
  return {
    candidates: candidates(c),
    usageMetadata: {
      promptTokenCount: prompt,
      candidatesTokenCount: completion,
      totalTokenCount: prompt + completion,
    },
    modelVersion: typeof c.model === "string" ? c.model : "",
    responseId: typeof c.id === "string" ? c.id : "",
  };
}

/** One Gemini result line (without the newline) for one parsed OpenAI-batch line. */
export function geminiResult(line: Obj): Obj {
  const key = line.custom_id ?? null;
  const { response, error, succeeded, status } = batchOutcome(line);
  if (succeeded) return { key, response: chatToGenerateContent(response?.body) };
  if (status !== undefined) {
    const message =
      error && typeof error.message === "string"
        ? error.message
        : errorMessage(response?.body, `the engine answered ${status}`);
    return { key, error: { code: grpcCode(status), message } };
  }
  const code = error && typeof error.code === "string" ? (CODE_FOR[error.code] ?? 13) : 13;
  const message = error && typeof error.message === "string" ? error.message : "the request failed";
  return { key, error: { code, message } };
}

/** A {key, error: Status} result line: its key and its code, as a number and by name. */
export function geminiFailure(line: Obj): FailureLine | null {
  if (typeof line.key !== "string" || !isPlainObject(line.error)) return null;
  const code = line.error.code;
  if (typeof code !== "number") return { id: line.key, codes: [] };
  const name = CODE_NAMES[code];
  return { id: line.key, codes: name ? [String(code), name] : [String(code)] };
}
