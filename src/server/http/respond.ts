// Responses and errors in each API's own shape: OpenAI's {"error":{message,type,param,code}} and
// Anthropic's {"type":"error","error":{type,message}}, so each SDK raises its usual error classes.
import type { ServerResponse } from "node:http";

export type ApiSurface = "openai" | "anthropic";

export class HttpError extends Error {
  readonly status: number;
  readonly code: string | null;
  readonly param: string | null;

  constructor(status: number, message: string, o: { code?: string | null; param?: string | null } = {}) {
    super(message);
    this.status = status;
    this.code = o.code ?? null;
    this.param = o.param ?? null;
  }
}

export const notFound = (what: string, id: string, param = "id") =>
  new HttpError(404, `No such ${what}: '${id}'`, { param });

export const badRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new HttpError(400, message, { param, code });

function openaiType(status: number): string {
  if (status === 401) return "invalid_request_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

const ANTHROPIC_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  405: "invalid_request_error",
  409: "invalid_request_error",
  413: "request_too_large",
  429: "rate_limit_error",
  529: "overloaded_error",
};

export function errorBody(api: ApiSurface, e: HttpError, requestId: string): unknown {
  if (api === "anthropic") {
    const type = ANTHROPIC_TYPES[e.status] ?? (e.status >= 500 ? "api_error" : "invalid_request_error");
    return { type: "error", error: { type, message: e.message }, request_id: requestId };
  }
  return { error: { message: e.message, type: openaiType(e.status), param: e.param, code: e.code } };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}
