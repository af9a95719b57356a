// A browser's way in without the key in its URL: the login form posts the key once, and a valid
// key gets a random session token in an HttpOnly, SameSite=Strict cookie (never the key itself).
// Sessions live in memory: a restarted server asks for the key again. A session only reads:
// it opens the pages and GET routes, never a route that changes anything.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

export const COOKIE = "vbatch_session";
/** A session lasts this long after the login. */
const TTL_MS = 12 * 3600 * 1000;
/** Sessions kept at most (the oldest goes first). */
const MAX_SESSIONS = 1000;

export class Sessions {
  private readonly tokens = new Map<string, number>();

  /** A new session; returns its cookie header value. */
  create(secure: boolean): string {
    const token = randomBytes(32).toString("base64url");
    if (this.tokens.size >= MAX_SESSIONS) {
      const oldest = this.tokens.keys().next().value;
      if (oldest !== undefined) this.tokens.delete(oldest);
    }
    this.tokens.set(token, Date.now() + TTL_MS);
    return cookie(token, TTL_MS / 1000, secure);
  }

  /** True when the request carries a live session's cookie. */
  valid(headers: IncomingHttpHeaders): boolean {
    const token = tokenOf(headers);
    if (token === null) return false;
    const a = Buffer.from(token);
    for (const [t, expires] of this.tokens) {
      const b = Buffer.from(t);
      if (a.length === b.length && timingSafeEqual(a, b)) {
        if (expires > Date.now()) return true;
        this.tokens.delete(t);
        return false;
      }
    }
    return false;
  }

  /** Ends the request's session; returns the cookie header that clears it. */
  end(headers: IncomingHttpHeaders, secure: boolean): string {
    const token = tokenOf(headers);
    if (token !== null) this.tokens.delete(token);
    return cookie("", 0, secure);
  }
}

function cookie(value: string, maxAgeSec: number, secure: boolean): string {
  return `${COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSec}${secure ? "; Secure" : ""}`;
}

function tokenOf(headers: IncomingHttpHeaders): string | null {
  const raw = headers.cookie;
  if (typeof raw !== "string") return null;
  for (const part of raw.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === COOKIE) {
      const token = v.join("=");
      return /^[\w-]{20,100}$/.test(token) ? token : null;
    }
  }
  return null;
}
