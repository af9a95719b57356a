// Query parsing shared by the list endpoints: limits and cursors, validated so a bad value is a
// 400 rather than a surprise.
import { badRequest } from "../http/respond.js";
import { type IdKind, isId } from "../ids.js";

export function limitParam(query: URLSearchParams, name: string, dflt: number, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === "") return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw badRequest(`${name} must be an integer from 1 to ${max}`, name, "invalid_value");
  }
  return n;
}

/** A cursor id; an id of the wrong shape is refused rather than silently ignored. */
export function cursorParam(query: URLSearchParams, name: string, kind: IdKind): string | undefined {
  const raw = query.get(name);
  if (raw === null || raw === "") return undefined;
  if (!isId(kind, raw)) throw badRequest(`${name} is not a valid id`, name, "invalid_value");
  return raw;
}

export function toSeconds(ms: number | null): number | null {
  return ms === null ? null : Math.floor(ms / 1000);
}
