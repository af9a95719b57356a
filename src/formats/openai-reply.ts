// Reading what the runner produced for a row, for the formats that reshape it: an OpenAI batch
// output or error line, and the chat completion inside it.
import { isPlainObject } from "../util/object.js";

type Obj = Record<string, unknown>;

/** A parsed OpenAI batch line, split into what every result format needs. */
export interface BatchOutcome {
  /** `response`, when the line has one (an engine answered, with any status). */
  response: Obj | null;
  error: Obj | null;
  /** An answer to shape: status 200 and no error. */
  succeeded: boolean;
  /** The engine's HTTP status, when it answered. */
  status: number | undefined;
}

export function batchOutcome(line: Obj): BatchOutcome {
  const response = isPlainObject(line.response) ? line.response : null;
  const error = isPlainObject(line.error) ? line.error : null;
  const status = typeof response?.status_code === "number" ? response.status_code : undefined;
  return { response, error, succeeded: response !== null && response.status_code === 200 && !error, status };
}

/** The message of an error body in OpenAI's ({error: {message}}) or the flat shape, else `fallback`. */
export function errorMessage(body: unknown, fallback: string): string {
  if (isPlainObject(body)) {
    if (isPlainObject(body.error) && typeof body.error.message === "string") return body.error.message;
    if (typeof body.message === "string") return body.message;
  }
  return fallback;
}

/** The first choice of a chat or text completion ({} when there is none). */
export function firstChoice(body: Obj): Obj {
  return Array.isArray(body.choices) && isPlainObject(body.choices[0]) ? body.choices[0] : {};
}

/** A completion's prompt and completion token counts (0 when absent). */
export function chatUsage(body: Obj): { prompt: number; completion: number } {
  const u = isPlainObject(body.usage) ? body.usage : {};
  return {
    prompt: typeof u.prompt_tokens === "number" ? u.prompt_tokens : 0,
    completion: typeof u.completion_tokens === "number" ? u.completion_tokens : 0,
  };
}
