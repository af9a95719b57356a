// One line of an OpenAI batch output or error file, read as a self-hosted run's answer: the body
// is cut out of the line as the provider's raw text (never parsed and written again), the rest is
// read with JSON.parse. Shape: {id, custom_id, response: {status_code, request_id, body} | null,
// error: {code, message} | null} (OpenAI's batch output format; vbatch writes the same).
import { memberSpan } from "../../input/json-scan.js";
import type { ResultLine } from "../api.js";

interface Parsed {
  custom_id?: unknown;
  response?: { status_code?: unknown; request_id?: unknown } | null;
  error?: { code?: unknown; message?: unknown } | null;
}

export function parseOutputLine(text: string): ResultLine {
  const p = JSON.parse(text) as Parsed;
  const customId = typeof p.custom_id === "string" ? p.custom_id : "";
  const r = p.response;
  let body: string | null = null;
  if (r) {
    const span = memberSpan(text, "response");
    const response = span ? text.slice(span[0], span[1]) : "";
    const b = memberSpan(response, "body");
    body = b ? response.slice(b[0], b[1]) : null;
  }
  const e = p.error;
  return {
    customId,
    status: r && typeof r.status_code === "number" ? r.status_code : null,
    requestId: r && typeof r.request_id === "string" ? r.request_id : "",
    body,
    error: e ? { code: String(e.code ?? "error"), message: String(e.message ?? "") } : null,
  };
}
