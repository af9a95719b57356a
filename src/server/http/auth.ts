// API key check: Bearer or x-api-key, compared in constant time (hashes of equal length), so the
// answer time says nothing about how much of a key matched. Keys are never logged.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

export class KeyRing {
  private readonly digests: Buffer[];

  constructor(keys: string[]) {
    this.digests = keys.map(digest);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** "ok", or why not: no key presented, or a wrong one. */
  check(headers: IncomingHttpHeaders): "ok" | "missing" | "invalid" {
    if (!this.enabled) return "ok";
    const presented: string[] = [];
    const auth = headers.authorization;
    if (typeof auth === "string") {
      const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
      if (m?.[1]) presented.push(m[1].trim());
    }
    const x = headers["x-api-key"];
    if (typeof x === "string" && x.length > 0) presented.push(x.trim());
    if (presented.length === 0) return "missing";
    return presented.some((key) => this.matches(key)) ? "ok" : "invalid";
  }

  /** True when `key` is one of the keys (the login form's check). */
  matches(key: string): boolean {
    const d = digest(key);
    // Compare against every key, without stopping early.
    let match = false;
    for (const k of this.digests) if (timingSafeEqual(d, k)) match = true;
    return match;
  }
}

function digest(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}
