// Gemini requests are protobuf JSON: a parser takes a field under its lowerCamelCase name or its
// original snake_case one (Google's own batch example writes `generation_config`). Reading both,
// and refusing a field that is neither known nor carried over, as Gemini itself refuses it.
import { isPlainObject } from "../../util/object.js";

export type Obj = Record<string, unknown>;

export class GeminiError extends Error {}

function snake(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The value of `camel` (or its snake_case spelling) in `o`; both at once is an error. */
export function field(o: Obj, camel: string, path: string): unknown {
  const s = snake(camel);
  if (o[camel] !== undefined && s !== camel && o[s] !== undefined) {
    throw new GeminiError(`${path}: both ${camel} and ${s} are set`);
  }
  return o[camel] !== undefined ? o[camel] : o[s];
}

/** Refuses every key of `o` that is not one of `known` (either spelling). */
export function onlyKnown(
  o: Obj,
  known: readonly string[],
  path: string,
  why: Record<string, string> = {},
): void {
  const names = new Set(known.flatMap((k) => [k, snake(k)]));
  for (const k of Object.keys(o)) {
    if (names.has(k)) continue;
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
