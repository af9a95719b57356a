// Anthropic batch ids and result lines. A row goes to Anthropic as vb_<job>_c<chunk>_<line>,
// which matches ^[a-zA-Z0-9_-]{1,64}$ whatever the user's custom_id is, maps back to the row
// through its line (the journal's key for it), and names the job and chunk it was sent in. A
// result line ({custom_id, result: {type: succeeded|errored|canceled|expired, ...}}) is read as
// a self-hosted run's answer, its message or error cut out as raw text.
import { memberSpan } from "../../input/json-scan.js";
import type { ResultLine } from "../api.js";

export function mappedPrefix(jobId: string, chunk: number): string {
  return `vb_${jobId}_c${chunk}_`;
}

export function mappedId(jobId: string, chunk: number, line: number): string {
  return `${mappedPrefix(jobId, chunk)}${line}`;
}

/** The row a mapped id stands for, if it is one of this job's. */
export function lineOfMapped(jobId: string, id: string): number | undefined {
  const m = /^vb_([0-9a-z]+)_c\d+_(\d+)$/.exec(id);
  return m && m[1] === jobId ? Number(m[2]) : undefined;
}

/** Anthropic's error types as the HTTP status the Messages API answers them with. */
const STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

const cut = (text: string, key: string): string | null => {
  const s = memberSpan(text, key);
  return s ? text.slice(s[0], s[1]) : null;
};

export function parseResultLine(text: string): ResultLine {
  const p = JSON.parse(text) as {
    custom_id?: unknown;
    result?: { type?: unknown; error?: { error?: { type?: unknown; message?: unknown } } };
  };
  const customId = typeof p.custom_id === "string" ? p.custom_id : "";
  const type = p.result?.type;
  const result = cut(text, "result") ?? "{}";
  if (type === "succeeded")
    return { customId, status: 200, requestId: "", body: cut(result, "message"), error: null, native: text };
  if (type === "errored") {
    const e = p.result?.error?.error;
    const code = typeof e?.type === "string" ? e.type : "api_error";
    return {
      customId,
      status: STATUS[code] ?? 500,
      requestId: "",
      body: cut(result, "error"),
      error: { code, message: typeof e?.message === "string" ? e.message : "" },
      native: text,
    };
  }
  const code = type === "canceled" || type === "expired" ? type : "unknown_result";
  return {
    customId,
    status: null,
    requestId: "",
    body: null,
    error: { code, message: `the request was ${code}` },
    native: text,
  };
}
