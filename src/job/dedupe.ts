// Per-batch dedupe: identical requests (same url and body) are sent once and the answer shared
// by every row that asked. Only where the answer is deterministic by default: sampling at a
// temperature above zero is often repeated on purpose, to get different answers.
import { createHash } from "node:crypto";
import { isDeterministicUrl } from "../input/urls.js";

export type DedupeMode = "on" | "off" | "auto";

/** True when the same request always gets the same answer (embeddings, scores, temperature 0, a seed). */
export function isDeterministic(url: string, body: Record<string, unknown>): boolean {
  return isDeterministicUrl(url) || body.temperature === 0 || typeof body.seed === "number";
}

/** A request's identity: the hash of its url and body text (the same request, the same hash). */
export function requestHash(url: string, bodyText: string): Buffer {
  return createHash("sha1").update(url).update("\n").update(bodyText).digest();
}

/** The identity of a request for dedupe (its url and body text), or null when it is not deduplicated. */
export function dedupeKey(
  mode: DedupeMode,
  url: string,
  body: Record<string, unknown>,
  bodyText: string,
): string | null {
  if (mode === "off" || (mode === "auto" && !isDeterministic(url, body))) return null;
  return requestHash(url, bodyText).toString("base64");
}
