// The shape of one batch request line and its validation. Every rule here runs before a single
// request is sent, so a typo on line 90,000 does not waste the 89,999 answers before it.

import { anthropicToChat, TranslateError } from "../anthropic/request.js";
import { isPlainObject } from "../util/object.js";

export const SUPPORTED_URLS = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings"] as const;
export type BatchUrl = (typeof SUPPORTED_URLS)[number];

/** Longest custom_id accepted (OpenAI allows 512 characters). */
export const MAX_CUSTOM_ID_LENGTH = 512;

/** OpenAI Batch lines, or Anthropic Message Batch lines ({custom_id, params}) sent as chat. */
export type RowFormat = "openai" | "anthropic";

export interface BatchRow {
  customId: string;
  url: BatchUrl;
  body: Record<string, unknown>;
  format: RowFormat;
}

export type ParseResult =
  | { ok: true; row: BatchRow }
  | { ok: false; message: string; customId?: string | undefined };

export { isPlainObject };

/** Parses and validates one input line (duplicates are found by the journal). */
export function parseRow(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `malformed JSON (${(err as Error).message})` };
  }
  if (!isPlainObject(value)) return { ok: false, message: "line is not a JSON object" };
  const customId = value.custom_id;
  if (customId === undefined || customId === null) return { ok: false, message: "missing custom_id" };
  if (typeof customId !== "string" || customId.length === 0) {
    return { ok: false, message: "custom_id must be a non-empty string" };
  }
  if (customId.length > MAX_CUSTOM_ID_LENGTH) {
    return { ok: false, message: `custom_id longer than ${MAX_CUSTOM_ID_LENGTH} characters`, customId };
  }
  if (value.params !== undefined && value.url === undefined && value.body === undefined) {
    try {
      const body = anthropicToChat(value.params);
      return { ok: true, row: { customId, url: "/v1/chat/completions", body, format: "anthropic" } };
    } catch (err) {
      if (err instanceof TranslateError) return { ok: false, message: `params.${err.message}`, customId };
      throw err;
    }
  }
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
  // A per-row scheduling priority may sit beside the body; vLLM takes it in the body.
  const priority = value.priority;
  if (priority !== undefined) {
    if (typeof priority !== "number" || !Number.isInteger(priority)) {
      return { ok: false, message: "priority must be an integer (lower runs first)", customId };
    }
    if (body.priority === undefined) body.priority = priority;
  }
  return { ok: true, row: { customId, url: url as BatchUrl, body, format: "openai" } };
}
