// Gemini's responseSchema is an OpenAPI-style Schema (type "OBJECT", "nullable", "propertyOrdering")
// where vLLM's structured output takes JSON Schema: the same constraints, written the other way.
import { isPlainObject } from "../../util/object.js";
import { GeminiError, type Obj } from "./fields.js";

const TYPES: Record<string, string> = {
  STRING: "string",
  NUMBER: "number",
  INTEGER: "integer",
  BOOLEAN: "boolean",
  ARRAY: "array",
  OBJECT: "object",
  NULL: "null",
};

const COPIED = [
  "description",
  "enum",
  "format",
  "minimum",
  "maximum",
  "minItems",
  "maxItems",
  "minLength",
  "maxLength",
  "pattern",
  "minProperties",
  "maxProperties",
  "required",
  "title",
  "default",
  "example",
] as const;

/** A Gemini Schema as JSON Schema. */
export function toJsonSchema(s: unknown, path = "responseSchema"): Obj {
  if (!isPlainObject(s)) throw new GeminiError(`${path} must be an object`);
  const out: Obj = {};
  if (s.type !== undefined) {
    const t = typeof s.type === "string" ? TYPES[s.type.toUpperCase()] : undefined;
    if (!t) throw new GeminiError(`${path}.type ${JSON.stringify(s.type)} is not a Gemini schema type`);
    out.type = s.nullable === true && t !== "null" ? [t, "null"] : t;
  }
  for (const k of COPIED) if (s[k] !== undefined) out[k] = s[k];
  if (isPlainObject(s.properties)) {
    const props: Obj = {};
    for (const [name, sub] of Object.entries(s.properties))
      props[name] = toJsonSchema(sub, `${path}.properties.${name}`);
    out.properties = props;
  }
  if (s.items !== undefined) out.items = toJsonSchema(s.items, `${path}.items`);
  if (Array.isArray(s.anyOf)) out.anyOf = s.anyOf.map((x, i) => toJsonSchema(x, `${path}.anyOf.${i}`));
  return out;
}
