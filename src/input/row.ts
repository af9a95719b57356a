// One line of a batch file and its validation. Every rule here runs before a single request is
// sent, so a typo on line 90,000 does not waste the 89,999 answers before it. The checks every
// format shares (UTF-8, nesting, JSON, an id) are here; each format (src/formats) reads the rest
// and builds the request. An OpenAI line's body is sent as the bytes the user wrote.
import { isUtf8 } from "node:buffer";
import { articled, detectFormat, formatNamed, ID_FIELDS } from "../formats/index.js";
import type { BatchRow, FormatName, ParseResult } from "../formats/types.js";
import { isPlainObject } from "../util/object.js";
import { memberSpan, nestedDeeperThan, prependMembers, withMember } from "./json-scan.js";
import { type InputLine, tooLongMessage } from "./lines.js";

export type { BatchRow, ParseResult } from "../formats/types.js";
export { type BatchUrl, SUPPORTED_URLS } from "./urls.js";

/** Longest row id accepted (OpenAI allows 512 characters for custom_id). */
export const MAX_CUSTOM_ID_LENGTH = 512;

/**
 * Deepest nesting of arrays and objects a line may have. Real requests nest well under 20 levels
 * (a JSON schema in response_format a little more). vLLM's routes take the body through
 * FastAPI/Starlette, which parse it with Python's json module, and that stops at the
 * interpreter's recursion limit (about a thousand levels by default). A limit here keeps hostile
 * lines away from every recursive step after validation (JSON.stringify overflows near 5,000).
 */
export const MAX_JSON_DEPTH = 256;

export { isPlainObject };

/**
 * Validates one input line, bytes first (UTF-8), then its JSON and fields. `proven`: these bytes
 * are known to be ones that passed validation (their fingerprint matched), so the scans that
 * only guard against hostile bytes (UTF-8, nesting) are not run again.
 */
export function parseLine(line: InputLine, format?: FormatName, proven = false): ParseResult {
  if (line.tooLong) {
    // Nothing of the line was kept, so its custom_id cannot be known: its errors line has none.
    const message = `${tooLongMessage(line.tooLong)}; its custom_id is not read from a line this long`;
    return { ok: false, message };
  }
  if (!proven && !isUtf8(line.raw)) return { ok: false, message: "line is not valid UTF-8" };
  return parseRow(line.text, format, proven);
}

/**
 * Parses and validates one line's text (duplicates are found by the journal). `format` reads the
 * line as that format; without it the line's own fields say which it is.
 */
export function parseRow(text: string, format?: FormatName, proven = false): ParseResult {
  if (!proven && nestedDeeperThan(text, MAX_JSON_DEPTH)) {
    return {
      ok: false,
      message: `JSON nested deeper than ${MAX_JSON_DEPTH} levels`,
      customId: firstTopLevelString(text, ID_FIELDS),
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `malformed JSON (${(err as Error).message})` };
  }
  if (!isPlainObject(value)) return { ok: false, message: "line is not a JSON object" };
  const f = format ? formatNamed(format) : detectFormat(value);
  const id = value[f.idField];
  if (id === undefined || id === null) return { ok: false, message: `missing ${f.idField}` };
  if (typeof id !== "string" || id.length === 0) {
    return { ok: false, message: `${f.idField} must be a non-empty string` };
  }
  if (id.length > MAX_CUSTOM_ID_LENGTH) {
    return {
      ok: false,
      message: `${f.idField} longer than ${MAX_CUSTOM_ID_LENGTH} characters`,
      customId: id,
    };
  }
  if (format && !f.matches(value)) {
    return { ok: false, message: `not ${articled(f.label)} batch line`, customId: id };
  }
  return f.parse(value, text, id);
}

/** The first of `keys` that is a top-level string member of a line not parsed whole, if any. */
function firstTopLevelString(text: string, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    try {
      const span = memberSpan(text, key);
      const value: unknown = span ? JSON.parse(text.slice(span[0], span[1])) : undefined;
      if (typeof value === "string" && value.length > 0) return value;
    } catch {
      // not a string here; try the next
    }
  }
  return undefined;
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
