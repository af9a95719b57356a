// Gemini's responseSchema is an OpenAPI-style Schema (type "OBJECT", "nullable", "propertyOrdering")
// where vLLM's structured output takes JSON Schema: the same constraints, written the other way.
// The fields are those of @google/genai's `Schema` (2.32.0, dist/genai.d.ts), read in either
// spelling like every protobuf JSON field; a field Schema does not have (additionalProperties,
// const, $ref...) is refused: responseJsonSchema takes full JSON Schema as written.
import { isPlainObject } from "../../util/object.js";
import { field, GeminiError, knownFields, type Obj, onlyKnown, spelled } from "./fields.js";

const TYPES: Record<string, string> = {
  STRING: "string",
  NUMBER: "number",
  INTEGER: "integer",
  BOOLEAN: "boolean",
  ARRAY: "array",
  OBJECT: "object",
  NULL: "null",
};

/** Copied as they are: the same keyword with the same meaning in JSON Schema. */
const COPIED = ["description", "format", "pattern", "required", "title", "default", "example"] as const;

/**
 * int64 in protobuf, so JSON writes them as strings ("maxItems": "3"; the SDK's type is string);
 * JSON Schema wants integers.
 */
const INT64 = ["minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties"] as const;

/** double in protobuf: a number, or a string protobuf JSON parsers also accept. */
const DOUBLE = ["minimum", "maximum"] as const;

const SCHEMA_FIELDS = knownFields([
  ...COPIED,
  ...INT64,
  ...DOUBLE,
  "type",
  "nullable",
  "enum",
  "items",
  "properties",
  "propertyOrdering",
  "anyOf",
]);

function int64(v: unknown, path: string): number {
  const n = typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isSafeInteger(n)) {
    throw new GeminiError(
      `${path} must be an integer (a number, or a string of digits as protobuf JSON writes int64)`,
    );
  }
  return n;
}

function double(v: unknown, path: string): number {
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isFinite(n)) throw new GeminiError(`${path} must be a number`);
  return n;
}

/** `enum` is a list of strings; for numeric types ({type: INTEGER, enum: ["101"]}) they are numbers. */
function enumValues(v: unknown, type: string | undefined, path: string): unknown[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
    throw new GeminiError(`${path} must be an array of strings`);
  }
  if (type !== "integer" && type !== "number") return v;
  return v.map((x, i) => (type === "integer" ? int64(x, `${path}.${i}`) : double(x, `${path}.${i}`)));
}

function properties(s: Obj, path: string): Obj | undefined {
  const props = field(s, "properties", path);
  const order = field(s, "propertyOrdering", path);
  if (props === undefined) {
    if (order !== undefined) throw new GeminiError(`${path}.propertyOrdering needs properties`);
    return undefined;
  }
  if (!isPlainObject(props)) throw new GeminiError(`${path}.properties must be an object`);
  const names = Object.keys(props);
  // The order is what Gemini generates properties in; vLLM generates them in `properties` order.
  if (order !== undefined) {
    if (!Array.isArray(order) || !order.every((x) => typeof x === "string" && Object.hasOwn(props, x))) {
      throw new GeminiError(`${path}.propertyOrdering must list names of properties`);
    }
    names.sort((a, b) => rank(order, a) - rank(order, b));
  }
  const out: Obj = {};
  for (const name of names) out[name] = toJsonSchema(props[name], `${path}.properties.${name}`);
  return out;
}

function rank(order: string[], name: string): number {
  const i = order.indexOf(name);
  return i === -1 ? order.length : i;
}

/** A Gemini Schema as JSON Schema. */
export function toJsonSchema(s: unknown, path = "responseSchema"): Obj {
  if (!isPlainObject(s)) throw new GeminiError(`${path} must be an object`);
  onlyKnown(s, SCHEMA_FIELDS, path, {
    additionalProperties: "is not a field of Gemini's Schema (use responseJsonSchema for full JSON Schema)",
    const: "is not a field of Gemini's Schema (use responseJsonSchema for full JSON Schema)",
  });
  const out: Obj = {};
  const rawType = field(s, "type", path);
  let type: string | undefined;
  if (rawType !== undefined) {
    type = typeof rawType === "string" ? TYPES[rawType.toUpperCase()] : undefined;
    if (!type) throw new GeminiError(`${path}.type ${JSON.stringify(rawType)} is not a Gemini schema type`);
    out.type = field(s, "nullable", path) === true && type !== "null" ? [type, "null"] : type;
  }
  for (const k of COPIED) {
    const v = field(s, k, path);
    if (v !== undefined) out[k] = v;
  }
  const values = field(s, "enum", path);
  if (values !== undefined) out.enum = enumValues(values, type, `${path}.enum`);
  for (const k of INT64) {
    const v = field(s, k, path);
    if (v !== undefined) out[k] = int64(v, `${path}.${spelled(s, k)}`);
  }
  for (const k of DOUBLE) {
    const v = field(s, k, path);
    if (v !== undefined) out[k] = double(v, `${path}.${spelled(s, k)}`);
  }
  const props = properties(s, path);
  if (props !== undefined) out.properties = props;
  const items = field(s, "items", path);
  if (items !== undefined) out.items = toJsonSchema(items, `${path}.items`);
  const anyOf = field(s, "anyOf", path);
  if (anyOf !== undefined) {
    if (!Array.isArray(anyOf)) throw new GeminiError(`${path}.anyOf must be an array`);
    out.anyOf = anyOf.map((x, i) => toJsonSchema(x, `${path}.anyOf.${i}`));
    // Nullable without a type of its own: null is one more of the alternatives.
    if (type === undefined && field(s, "nullable", path) === true)
      (out.anyOf as Obj[]).push({ type: "null" });
  }
  return out;
}
