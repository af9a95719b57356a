// The shape of one batch request line and its validation. Every rule here runs before a single
// request is sent, so a typo on line 90,000 does not waste the 89,999 answers before it. A row
// carries its body twice: parsed, for the checks, and as text, for sending: an OpenAI line's
// body is sent as the bytes the user wrote, never re-serialised.
import { isUtf8 } from "node:buffer";
import { anthropicToChat, TranslateError } from "../anthropic/request.js";
import { isPlainObject } from "../util/object.js";
import { memberSpan, nestedDeeperThan, prependMembers, unsafeNumber, withMember } from "./json-scan.js";
import type { InputLine } from "./lines.js";

export const SUPPORTED_URLS = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings"] as const;
export type BatchUrl = (typeof SUPPORTED_URLS)[number];

/** Longest custom_id accepted (OpenAI allows 512 characters). */
export const MAX_CUSTOM_ID_LENGTH = 512;

/**
 * Deepest nesting of arrays and objects a line may have. Real requests nest well under 20 levels
 * (a JSON schema in response_format a little more). vLLM's routes take the body through
 * FastAPI/Starlette, which parse it with Python's json module, and that stops at the
 * interpreter's recursion limit (about a thousand levels by default). A limit here keeps hostile
 * lines away from every recursive step after validation (JSON.stringify overflows near 5,000).
 */
export const MAX_JSON_DEPTH = 256;

/** OpenAI Batch lines, or Anthropic Message Batch lines ({custom_id, params}) sent as chat. */
export type RowFormat = "openai" | "anthropic";

export interface BatchRow {
  customId: string;
  url: BatchUrl;
  /** The body parsed, for checks. Never serialised again for an OpenAI line. */
  body: Record<string, unknown>;
  /** The body as sent: the line's own text for OpenAI lines, the translation for Anthropic ones. */
  bodyText: string;
  format: RowFormat;
}

export type ParseResult =
  | { ok: true; row: BatchRow }
  | { ok: false; message: string; customId?: string | undefined };

export { isPlainObject };

/** Validates one input line, bytes first (UTF-8), then its JSON and fields. */
export function parseLine(line: InputLine): ParseResult {
  if (!isUtf8(line.raw)) return { ok: false, message: "line is not valid UTF-8" };
  return parseRow(line.text);
}

/** Parses and validates one input line's text (duplicates are found by the journal). */
export function parseRow(text: string): ParseResult {
  if (nestedDeeperThan(text, MAX_JSON_DEPTH)) {
    return {
      ok: false,
      message: `JSON nested deeper than ${MAX_JSON_DEPTH} levels`,
      customId: topLevelString(text, "custom_id"),
    };
  }
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
    return anthropicRow(customId, value.params, text);
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
}

function anthropicRow(customId: string, params: unknown, text: string): ParseResult {
  // A translation builds a new body, so numbers pass through JSON.parse and JSON.stringify:
  // refuse the ones that would change on the way rather than send something else.
  const lossy = unsafeNumber(text);
  if (lossy !== null) {
    return {
      ok: false,
      message: `params holds the number ${lossy.slice(0, 40)}, which cannot be carried exactly through the translation to a chat request`,
      customId,
    };
  }
  try {
    const body = anthropicToChat(params);
    return {
      ok: true,
      row: {
        customId,
        url: "/v1/chat/completions",
        body,
        bodyText: JSON.stringify(body),
        format: "anthropic",
      },
    };
  } catch (err) {
    if (err instanceof TranslateError) return { ok: false, message: `params.${err.message}`, customId };
    throw err;
  }
}

/** A top-level string member of a line that will not be parsed whole, if it has one. */
function topLevelString(text: string, key: string): string | undefined {
  try {
    const span = memberSpan(text, key);
    const value: unknown = span ? JSON.parse(text.slice(span[0], span[1])) : undefined;
    return typeof value === "string" && value.length > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The body to send: `bodyText` with the model and priority put in when the row has none, and its
 * model renamed when `modelMap` names it. Every other byte stays as written.
 */
export function bodyWithDefaults(
  row: Pick<BatchRow, "body" | "bodyText">,
  defaults: {
    model?: string | undefined;
    priority?: number | undefined;
    modelMap?: ReadonlyMap<string, string> | undefined;
  },
): string {
  const model = row.body.model;
  const renamed = typeof model === "string" ? defaults.modelMap?.get(model) : undefined;
  const text =
    renamed === undefined ? row.bodyText : withMember(row.bodyText, "model", JSON.stringify(renamed));
  const add: [string, string][] = [];
  if (row.body.model === undefined && defaults.model !== undefined) {
    add.push(["model", JSON.stringify(defaults.model)]);
  }
  if (row.body.priority === undefined && defaults.priority !== undefined) {
    add.push(["priority", String(defaults.priority)]);
  }
  return prependMembers(text, add);
}
