// vLLM's error bodies with vLLM's own wording, in both shapes clients meet in the wild: nested
// {"error":{...}} since v0.10.1 and the flat {"object":"error",...} of older servers.

import type { SimErrorFormat } from "./types.js";

export interface ErrorInfo {
  message: string;
  type: string;
  param: string | null;
  code: number;
}

export function errorBody(format: SimErrorFormat, info: ErrorInfo): string {
  if (format === "old") {
    // Older servers never set param (test/fixtures/transcripts/vllm-error-404-old.txt).
    return JSON.stringify({
      object: "error",
      message: info.message,
      type: info.type,
      param: null,
      code: info.code,
    });
  }
  return JSON.stringify({
    error: { message: info.message, type: info.type, param: info.param, code: info.code },
  });
}

/** VLLMValidationError.__str__ appends "(parameter=..., value=...)" and the server sends str(exc). */
function validation(message: string, parameter: string, value: number): ErrorInfo {
  return {
    message: `${message} (parameter=${parameter}, value=${value})`,
    type: "BadRequestError",
    param: parameter,
    code: 400,
  };
}

// OpenAIServing._check_model (vllm/entrypoints/openai/engine/serving.py)
export function modelNotFound(model: string): ErrorInfo {
  return {
    message: `The model \`${model}\` does not exist.`,
    type: "NotFoundError",
    param: "model",
    code: 404,
  };
}

// OpenAIServing._validate_input: completion-like requests may use at most max_model_len - 1 prompt tokens.
export function promptTooLong(maxModelLen: number, promptTokens: number): ErrorInfo {
  return validation(
    `This model's maximum context length is ${maxModelLen} tokens. However, your request has ` +
      `${promptTokens} input tokens. Please reduce the length of the input messages.`,
    "input_tokens",
    promptTokens,
  );
}

// OpenAIServing._validate_input: prompt + max_tokens over the context.
export function maxTokensTooLarge(maxModelLen: number, promptTokens: number, maxTokens: number): ErrorInfo {
  return validation(
    `'max_tokens' or 'max_completion_tokens' is too large: ${maxTokens}. This model's maximum context ` +
      `length is ${maxModelLen} tokens and your request has ${promptTokens} input tokens ` +
      `(${maxTokens} > ${maxModelLen} - ${promptTokens}).`,
    "max_tokens",
    maxTokens,
  );
}

// OpenAIServing._validate_input for embedding requests, which may fill the whole context.
export function embeddingInputTooLong(maxModelLen: number, inputTokens: number): ErrorInfo {
  return validation(
    `This model's maximum context length is ${maxModelLen} tokens. However, you requested ` +
      `${inputTokens} tokens in the input for embedding generation. Please reduce the length of the input.`,
    "input_tokens",
    inputTokens,
  );
}

/**
 * The api_server's RequestValidationError handler: FastAPI/pydantic errors become 400 with the
 * HTTP phrase as type and the pydantic error list rendered the Python way.
 */
function requestValidation(detail: string, param: string): ErrorInfo {
  return { message: `1 validation error:\n  ${detail}`, type: "Bad Request", param, code: 400 };
}

export function invalidJson(position: number, reason: string): ErrorInfo {
  return requestValidation(
    `{'type': 'json_invalid', 'loc': ('body', ${position}), 'msg': 'JSON decode error', 'input': {}, ` +
      `'ctx': {'error': '${reason}'}}`,
    `body.${position}`,
  );
}

export function notAnObject(): ErrorInfo {
  return requestValidation(
    "{'type': 'model_attributes_type', 'loc': ('body',), 'msg': 'Input should be a valid dictionary or " +
      "object to extract fields from'}",
    "body",
  );
}

export function fieldMissing(field: string): ErrorInfo {
  return requestValidation(
    `{'type': 'missing', 'loc': ('body', '${field}'), 'msg': 'Field required'}`,
    `body.${field}`,
  );
}

export function fieldInvalid(field: string, msg: string): ErrorInfo {
  return requestValidation(
    `{'type': 'value_error', 'loc': ('body', '${field}'), 'msg': '${msg}'}`,
    `body.${field}`,
  );
}

export function badRequest(message: string, param: string | null = null): ErrorInfo {
  return { message, type: "BadRequestError", param, code: 400 };
}

// GenerationError / create_error_response for engine failures.
export function internalError(): ErrorInfo {
  return { message: "Internal server error", type: "InternalServerError", param: null, code: 500 };
}

// vLLM itself never rate-limits; this stands for the gateway or autoscaler in front of it.
export function rateLimited(): ErrorInfo {
  return {
    message: "Too many requests (simulated rate limit)",
    type: "RateLimitError",
    param: null,
    code: 429,
  };
}

/** FastAPI's default body for unknown routes and wrong methods. */
export const NOT_FOUND_BODY = '{"detail":"Not Found"}';
export const METHOD_NOT_ALLOWED_BODY = '{"detail":"Method Not Allowed"}';

// A request that fails in the engine, for tests of one poisonous row: vLLM answers a generation
// that ends with finish_reason "error" with 500 (GenerationError) and a NotImplementedError with
// 501 (OpenAIServing.create_error_response, vllm/entrypoints/openai/engine/serving.py).
export function requestFailure(status: 500 | 501): ErrorInfo {
  return status === 500
    ? { message: "Internal server error", type: "InternalServerError", param: null, code: 500 }
    : {
        message: "Encoder-decoder prompt not supported for beam search",
        type: "NotImplementedError",
        param: null,
        code: 501,
      };
}
