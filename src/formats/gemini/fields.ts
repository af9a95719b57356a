// Gemini requests are protobuf JSON: a parser takes a field under its lowerCamelCase name or its
// original snake_case one (Google's own batch example writes `generation_config`). Reading both,
// and refusing a field that is neither known nor carried over, as Gemini itself refuses it.
import { isPlainObject } from "../../util/object.js";

export type Obj = Record<string, unknown>;

export class GeminiError extends Error {}

const snakes = new Map<string, string>();

/** The snake_case spelling of a field name (the names are a fixed few, so each is worked out once). */
function snake(camel: string): string {
  let s = snakes.get(camel);
  if (s === undefined) {
    s = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    snakes.set(camel, s);
  }
  return s;
}

/** The value of `camel` (or its snake_case spelling) in `o`; both at once is an error. */
export function field(o: Obj, camel: string, path: string): unknown {
  const s = snake(camel);
  if (o[camel] !== undefined && s !== camel && o[s] !== undefined) {
    throw new GeminiError(`${path}: both ${camel} and ${s} are set`);
  }
  return o[camel] !== undefined ? o[camel] : o[s];
}

/** The spelling of `camel` that `o` uses, for messages that name the field as the user wrote it. */
export function spelled(o: Obj, camel: string): string {
  return o[camel] !== undefined ? camel : snake(camel);
}

/** The names of a message's fields in either spelling, for onlyKnown (build it once). */
export function knownFields(camel: readonly string[]): ReadonlySet<string> {
  return new Set(camel.flatMap((k) => [k, snake(k)]));
}

/** Refuses every key of `o` that is not one of `known` (see knownFields). */
export function onlyKnown(
  o: Obj,
  known: ReadonlySet<string>,
  path: string,
  why: Record<string, string> = {},
): void {
  for (const k of Object.keys(o)) {
    if (known.has(k)) continue;
    const camel = k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const reason = why[camel];
    throw new GeminiError(
      reason
        ? `${path}${path ? "." : ""}${k}: ${reason}`
        : `${path}${path ? "." : ""}${k} is not a field vbatch knows or can carry over`,
    );
  }
}

export function object(v: unknown, path: string): Obj {
  if (!isPlainObject(v)) throw new GeminiError(`${path} must be an object`);
  return v;
}
