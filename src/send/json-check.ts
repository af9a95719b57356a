// --validate-json: a reply to a row that asked for JSON must parse, and match the row's schema.
// Validators are compiled once per distinct schema (Ajv), with a bound on how many are kept.
import { createRequire } from "node:module";
import type { Ajv, ValidateFunction } from "ajv";
import { isPlainObject } from "../input/row.js";

// Required when a checker is made (--validate-json), not when a run starts: Ajv is large.
const require = createRequire(import.meta.url);

const MAX_CACHED = 256;

export class JsonReplyChecker {
  private readonly ajv: Ajv = new (require("ajv") as typeof import("ajv")).Ajv({
    allErrors: false,
    strict: false,
  });
  private readonly cache = new Map<string, ValidateFunction>();

  /** null when every choice of the answer is valid JSON for `schema`, else why not. */
  check(answer: string, schema: Record<string, unknown> | true): string | null {
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer);
    } catch {
      return "the answer is not JSON";
    }
    const choices = isPlainObject(parsed) && Array.isArray(parsed.choices) ? parsed.choices : [];
    if (choices.length === 0) return "the answer has no choices";
    const validate = schema === true ? undefined : this.validator(schema);
    if (validate === null) return null; // a schema Ajv cannot compile: the engine is the judge
    for (const choice of choices) {
      if (!isPlainObject(choice)) return "a choice is not an object";
      const message = isPlainObject(choice.message) ? choice.message : undefined;
      const text = message ? message.content : choice.text;
      if (typeof text !== "string") return "a choice has no text";
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        return `reply is not valid JSON (${(err as Error).message})`;
      }
      if (validate && !validate(value)) {
        const e = validate.errors?.[0];
        return `reply does not match the schema: ${e ? `${e.instancePath || "/"} ${e.message}` : "invalid"}`;
      }
    }
    return null;
  }

  private validator(schema: Record<string, unknown>): ValidateFunction | null {
    const key = JSON.stringify(schema);
    const hit = this.cache.get(key);
    if (hit) return hit;
    let fn: ValidateFunction;
    try {
      fn = this.ajv.compile(schema);
    } catch {
      return null;
    }
    if (this.cache.size >= MAX_CACHED) {
      this.cache.clear();
      this.ajv.removeSchema();
    }
    this.cache.set(key, fn);
    return fn;
  }
}
