// Which rows ask for structured (JSON) replies, in the request shapes vLLM accepts today, and which
// still use the guided_* fields that vLLM removed (it now ignores them silently).
import { isPlainObject as isObject } from "./row.js";

/** The schema a request asks its reply to follow: an object schema, `true` for any JSON, or null. */
export function requestedSchema(body: Record<string, unknown>): Record<string, unknown> | true | null {
  const rf = body.response_format;
  if (isObject(rf)) {
    if (rf.type === "json_object") return true;
    if (rf.type === "json_schema" && isObject(rf.json_schema) && isObject(rf.json_schema.schema)) {
      return rf.json_schema.schema;
    }
  }
  const so = body.structured_outputs;
  if (isObject(so) && isObject(so.json)) return so.json;
  return null;
}

/** Request fields vLLM removed in favour of response_format / structured_outputs. */
export const REMOVED_GUIDED_FIELDS = [
  "guided_json",
  "guided_regex",
  "guided_choice",
  "guided_grammar",
] as const;

export function usesRemovedGuidedFields(body: Record<string, unknown>): boolean {
  return REMOVED_GUIDED_FIELDS.some((k) => body[k] !== undefined);
}
