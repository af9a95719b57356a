// Structured outputs in the sim: a reply that satisfies the request's JSON schema (vLLM's
// response_format json_schema / json_object, or structured_outputs.json), and a deterministic
// share of broken JSON for testing the runner's --validate-json.

import { isPlainObject as isObject } from "../input/row.js";

export { requestedSchema } from "../input/structured.js";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A value that satisfies common JSON Schema keywords; strings carry `seed` so replies differ. */
export function sampleFromSchema(schema: unknown, seed: string, depth = 0): Json {
  if (!isObject(schema) || depth > 8) return seed;
  if ("const" in schema) return schema.const as Json;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0] as Json;
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "object": {
      const out: Record<string, Json> = {};
      const props = isObject(schema.properties) ? schema.properties : {};
      for (const [k, v] of Object.entries(props)) out[k] = sampleFromSchema(v, seed, depth + 1);
      return out;
    }
    case "array": {
      const n = typeof schema.minItems === "number" ? Math.max(1, schema.minItems) : 1;
      return Array.from({ length: n }, () => sampleFromSchema(schema.items, seed, depth + 1));
    }
    case "integer":
      return typeof schema.minimum === "number" ? Math.ceil(schema.minimum) : 1;
    case "number":
      return typeof schema.minimum === "number" ? schema.minimum : 0.5;
    case "boolean":
      return true;
    case "null":
      return null;
    default:
      return seed;
  }
}

/** Decides which structured replies come back broken: exactly `rate` of them, evenly spread. */
export class BadJsonPlan {
  private seen = 0;
  constructor(private readonly rate: number) {}
  next(): boolean {
    if (this.rate <= 0) return false;
    this.seen++;
    return Math.floor(this.seen * this.rate) > Math.floor((this.seen - 1) * this.rate);
  }
}
