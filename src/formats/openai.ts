// OpenAI Batch lines: {custom_id, method: "POST", url, body}. The body is sent as the bytes the
// user wrote (a row-level priority is spliced in); the output line is the runner's own.
import { memberSpan, prependMembers } from "../input/json-scan.js";
import { type BatchUrl, SUPPORTED_URLS } from "../input/urls.js";
import { isPlainObject } from "../util/object.js";
import type { BatchFormat, ParseResult } from "./types.js";

export const openaiFormat: BatchFormat = {
  name: "openai",
  label: "OpenAI",
  idField: "custom_id",
  matches: (v) => v.url !== undefined || v.body !== undefined || v.method !== undefined,
  parse(value, text, customId): ParseResult {
    const method = value.method;
    if (method !== "POST") {
      return {
        ok: false,
        message: `unsupported method ${JSON.stringify(method ?? null)} (only "POST")`,
        customId,
      };
    }
    const url = value.url;
    if (typeof url !== "string" || !(SUPPORTED_URLS as readonly string[]).includes(url)) {
      return {
        ok: false,
        message: `unsupported url ${JSON.stringify(url ?? null)} (one of ${SUPPORTED_URLS.join(", ")})`,
        customId,
      };
    }
    const body = value.body;
    if (!isPlainObject(body)) return { ok: false, message: "body must be a JSON object", customId };
    if (body.stream === true) {
      return {
        ok: false,
        message: "body.stream must not be true in a batch (answers are collected whole)",
        customId,
      };
    }
    if (body.model !== undefined && (typeof body.model !== "string" || body.model.length === 0)) {
      return { ok: false, message: "body.model must be a non-empty string", customId };
    }
    const span = memberSpan(text, "body") as [number, number];
    let bodyText = text.slice(span[0], span[1]);
    // A per-row scheduling priority may sit beside the body; vLLM takes it in the body.
    const priority = value.priority;
    if (priority !== undefined) {
      if (typeof priority !== "number" || !Number.isSafeInteger(priority)) {
        return { ok: false, message: "priority must be an integer (lower runs first)", customId };
      }
      if (body.priority === undefined) {
        body.priority = priority;
        bodyText = prependMembers(bodyText, [["priority", String(priority)]]);
      }
    }
    return { ok: true, row: { customId, url: url as BatchUrl, body, bodyText, format: "openai" } };
  },
  outputLine: (line) => line,
  failure: (v) => {
    if (typeof v.custom_id !== "string") return null;
    const codes: string[] = [];
    const response = isPlainObject(v.response) ? v.response : null;
    if (typeof response?.status_code === "number" && response.status_code !== 200) {
      codes.push(String(response.status_code));
    }
    if (isPlainObject(v.error) && typeof v.error.code === "string") codes.push(v.error.code);
    return codes.length > 0 || v.error !== undefined ? { id: v.custom_id, codes } : null;
  },
};
