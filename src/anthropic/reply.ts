// OpenAI-batch output and error lines -> Anthropic batch result lines. A chat completion becomes a
// Message (text, tool_use, stop reason, usage); a failure becomes an `errored` result with
// Anthropic's error type for its status; rows closed out by expiry become `expired`.
import { batchOutcome, chatUsage, errorMessage, firstChoice } from "../formats/openai-reply.js";
import { isPlainObject } from "../util/object.js";

type Obj = Record<string, unknown>;

const STOP_REASONS: Record<string, string> = {
  stop: "end_turn",
  length: "max_tokens",
  tool_calls: "tool_use",
  function_call: "tool_use",
  content_filter: "refusal",
};

function toolInput(args: unknown): unknown {
  if (isPlainObject(args)) return args;
  if (typeof args !== "string" || args.trim() === "") return {};
  try {
    const v: unknown = JSON.parse(args);
    return isPlainObject(v) ? v : { value: v };
  } catch {
    // A model that wrote broken JSON: keep what it wrote rather than lose it.
    return { arguments: args };
  }
}

/** What a thinking model reasoned, under vLLM's current name or its older one. */
function reasoningOf(msg: Obj): string | null {
  const r = typeof msg.reasoning === "string" ? msg.reasoning : msg.reasoning_content;
  return typeof r === "string" && r !== "" ? r : null;
}

/**
 * A chat completion body as an Anthropic Message, with every field the SDK's `Message` and `Usage`
 * mark required (@anthropic-ai/sdk resources/messages/messages.d.ts; test/sdk-shapes.test.ts
 * compiles a result against them). vLLM reports no cache, server-tool or thinking-token counts,
 * so those are null, as the types allow.
 */
export function chatToMessage(chat: unknown): Obj {
  const c = isPlainObject(chat) ? chat : {};
  const choice = firstChoice(c);
  const msg = isPlainObject(choice.message) ? choice.message : {};
  const content: Obj[] = [];
  const reasoning = reasoningOf(msg);
  // vLLM signs nothing: the signature is empty, and a later turn sends the thinking back as text.
  if (reasoning !== null) content.push({ type: "thinking", thinking: reasoning, signature: "" });
  if (typeof msg.content === "string" && msg.content !== "") {
    content.push({ type: "text", text: msg.content, citations: null });
  }
  const calls = Array.isArray(msg.tool_calls) ? msg.tool_calls.filter(isPlainObject) : [];
  for (const call of calls) {
    const fn = isPlainObject(call.function) ? call.function : {};
    content.push({
      type: "tool_use",
      id: typeof call.id === "string" ? call.id : `toolu_${content.length}`,
      name: typeof fn.name === "string" ? fn.name : "",
      input: toolInput(fn.arguments),
      caller: { type: "direct" },
    });
  }
  const finish = typeof choice.finish_reason === "string" ? choice.finish_reason : "stop";
  let stopReason = STOP_REASONS[finish] ?? "end_turn";
  if (calls.length > 0 && stopReason === "end_turn") stopReason = "tool_use";
  // vLLM names the stop string that ended the text in choice.stop_reason (a token id is a number).
  let stopSequence: string | null = null;
  if (finish === "stop" && typeof choice.stop_reason === "string" && choice.stop_reason !== "") {
    stopReason = "stop_sequence";
    stopSequence = choice.stop_reason;
  }
  const usage = chatUsage(c);
  const id = typeof c.id === "string" ? c.id.replace(/^chatcmpl-/, "") : "";
  return {
    id: `msg_${id.replace(/[^\w]/g, "") || "vbatch"}`,
    type: "message",
    role: "assistant",
    model: typeof c.model === "string" ? c.model : "",
    content,
    stop_reason: stopReason,
    stop_sequence: stopSequence,
    stop_details: stopReason === "refusal" ? { type: "refusal", category: null, explanation: null } : null,
    usage: {
      input_tokens: usage.prompt,
      output_tokens: usage.completion,
      cache_creation_input_tokens: null,
      cache_read_input_tokens: null,
      cache_creation: null,
      server_tool_use: null,
      service_tier: "batch",
      inference_geo: null,
      output_tokens_details: null,
      speed: null,
    },
    container: null,
    diagnostics: null,
  };
}

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  408: "timeout_error",
  413: "request_too_large",
  422: "invalid_request_error",
  429: "rate_limit_error",
  503: "overloaded_error",
  504: "timeout_error",
  529: "overloaded_error",
};

/** For failures without an HTTP answer, by vbatch's error code ("invalid_request": a refused line). */
const TYPE_FOR_CODE: Record<string, string> = {
  invalid_request: "invalid_request_error",
  request_timeout: "timeout_error",
};

/** One Anthropic result line for one OpenAI-batch output or error line (parsed). */
export function resultFor(line: Obj): Obj {
  const customId = line.custom_id;
  const { response, error, succeeded, status } = batchOutcome(line);
  if (succeeded) {
    return { custom_id: customId, result: { type: "succeeded", message: chatToMessage(response?.body) } };
  }
  if (error?.code === "batch_expired") return { custom_id: customId, result: { type: "expired" } };
  if (error?.code === "batch_cancelled") return { custom_id: customId, result: { type: "canceled" } };
  let type = (typeof error?.code === "string" && TYPE_FOR_CODE[error.code]) || "api_error";
  let message = typeof error?.message === "string" ? error.message : "the request failed";
  if (status !== undefined) {
    type = ERROR_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
    message = errorMessage(response?.body, `the engine answered ${status}`);
  }
  return {
    custom_id: customId,
    result: { type: "errored", error: { type: "error", error: { type, message }, request_id: null } },
  };
}
