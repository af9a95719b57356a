// OpenAI-batch output and error lines -> Bedrock batch output records: {recordId, modelInput,
// modelOutput} in the model family's own response shape, or {recordId, modelInput, error:
// {errorCode, errorMessage}} ("An error object replaces the modelOutput field", Bedrock's docs).
// modelInput is repeated byte for byte as the record had it.
import { chatToMessage } from "../../anthropic/reply.js";
import { isPlainObject } from "../../util/object.js";
import { batchOutcome, chatUsage, errorMessage, firstChoice } from "../openai-reply.js";
import type { FailureLine } from "../types.js";
import type { BedrockShape } from "./request.js";

type Obj = Record<string, unknown>;

const NOVA_STOP: Record<string, string> = {
  stop: "end_turn",
  length: "max_tokens",
  content_filter: "content_filtered",
};

/**
 * Claude on Bedrock answers a Message without the API's container, diagnostics and usage extras
 * (Bedrock's Claude Messages response: id, model, type, role, content, stop_reason, stop_sequence,
 * usage {input_tokens, output_tokens}); its tool_use blocks carry no caller.
 */
function claudeOutput(m: Obj): Obj {
  const u = isPlainObject(m.usage) ? m.usage : {};
  const content = (Array.isArray(m.content) ? m.content : []).map((block: Obj) => {
    const { caller: _caller, ...rest } = block;
    return rest;
  });
  return {
    id: m.id,
    type: m.type,
    role: m.role,
    model: m.model,
    content,
    stop_reason: m.stop_reason,
    stop_sequence: m.stop_sequence,
    usage: { input_tokens: u.input_tokens, output_tokens: u.output_tokens },
  };
}

/** An OpenAI answer body as the model family's modelOutput. */
export function modelOutput(shape: BedrockShape, body: unknown): Obj {
  const b = isPlainObject(body) ? body : {};
  if (shape === "anthropic") return claudeOutput(chatToMessage(b));
  const choice = firstChoice(b);
  const finish = typeof choice.finish_reason === "string" ? choice.finish_reason : "stop";
  const { prompt, completion } = chatUsage(b);
  if (shape === "nova") {
    const msg = isPlainObject(choice.message) ? choice.message : {};
    return {
      output: {
        message: {
          role: "assistant",
          content: [{ text: typeof msg.content === "string" ? msg.content : "" }],
        },
      },
      stopReason: NOVA_STOP[finish] ?? "end_turn",
      usage: { inputTokens: prompt, outputTokens: completion, totalTokens: prompt + completion },
    };
  }
  return {
    generation: typeof choice.text === "string" ? choice.text : "",
    prompt_token_count: prompt,
    generation_token_count: completion,
    stop_reason: finish === "length" ? "length" : "stop",
  };
}

/** Non-HTTP failures get the status an HTTP failure of the same kind would have. */
const STATUS_FOR: Record<string, number> = {
  request_timeout: 408,
  connection_error: 503,
  invalid_request: 400,
  invalid_json: 500,
  invalid_response: 500,
  batch_expired: 408,
  batch_cancelled: 400,
};

/** The output record (JSON text, newline included) for one parsed OpenAI-batch line. */
export function bedrockRecord(
  line: Obj,
  shape: BedrockShape | undefined,
  modelInput: string | undefined,
): string {
  const head = `{"recordId":${JSON.stringify(line.custom_id ?? null)},"modelInput":${modelInput ?? "null"}`;
  const { response, error, succeeded, status } = batchOutcome(line);
  if (succeeded && shape) {
    return `${head},"modelOutput":${JSON.stringify(modelOutput(shape, response?.body))}}\n`;
  }
  let errorCode = 500;
  let errorMessageText = error && typeof error.message === "string" ? error.message : "the request failed";
  if (status !== undefined) {
    errorCode = status;
    if (!(error && typeof error.message === "string")) {
      errorMessageText = errorMessage(response?.body, `the engine answered ${status}`);
    }
  } else if (error && typeof error.code === "string") errorCode = STATUS_FOR[error.code] ?? 500;
  return `${head},"error":${JSON.stringify({ errorCode, errorMessage: errorMessageText })}}\n`;
}

/** A {recordId, error: {errorCode, errorMessage}} record: its id and its errorCode. */
export function bedrockFailure(line: Obj): FailureLine | null {
  if (typeof line.recordId !== "string" || !isPlainObject(line.error)) return null;
  const code = line.error.errorCode;
  return { id: line.recordId, codes: code === undefined || code === null ? [] : [String(code)] };
}
