// The lean transport: undici's Pool over keep-alive sockets, request and response bodies as raw
// text. Wire-identical to what the openai SDK sends for the same row (see docs/architecture.md
// for the measurements that made this the default).
import { errors, Pool } from "undici";
import { followModalResult, isModalRedirect } from "../launch/modal/result.js";
import {
  parseRetryAfter,
  type Transport,
  TransportFailure,
  type TransportOptions,
  type WireRequest,
  type WireResponse,
} from "./wire.js";

const USER_AGENT = "vbatch";

export class HttpTransport implements Transport {
  private readonly pool: Pool;
  private readonly prefix: string;
  private readonly baseHeaders: string[];
  private readonly timeoutMs: number;
  private readonly origin: string;
  private readonly apiKey: string | undefined;
  /** Aborted by close(): stops a Modal result being polled, which is not a request of the pool. */
  private readonly closing = new AbortController();

  constructor(options: TransportOptions) {
    const url = new URL(options.base);
    this.prefix = url.pathname === "/" ? "" : url.pathname;
    this.origin = url.origin;
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs;
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 600_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: 10_000 },
    });
    this.baseHeaders = [
      "content-type",
      "application/json",
      "accept",
      "application/json",
      "user-agent",
      USER_AGENT,
    ];
    if (options.apiKey) this.baseHeaders.push("authorization", `Bearer ${options.apiKey}`);
  }

  async send(req: WireRequest): Promise<WireResponse> {
    try {
      const res = await this.pool.request({
        method: "POST",
        path: this.prefix + req.path,
        headers: [...this.baseHeaders, "x-request-id", req.requestId],
        body: req.body,
        signal: req.signal,
      });
      const body = await res.body.text();
      const h = res.headers;
      const location = headerValue(h.location);
      if (isModalRedirect(res.statusCode, location)) {
        // Modal cut the request at 150 s: the answer is fetched from where it points.
        const auth = this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : undefined;
        const signal = req.signal ? AbortSignal.any([req.signal, this.closing.signal]) : this.closing.signal;
        const r = await followModalResult(this.origin + this.prefix + req.path, location, {
          headers: auth,
          signal,
        });
        return { status: r.status, body: r.body, requestId: req.requestId, retryAfterMs: null };
      }
      return {
        status: res.statusCode,
        body,
        requestId: headerValue(h["x-request-id"]) ?? req.requestId,
        retryAfterMs:
          res.statusCode >= 400
            ? parseRetryAfter(headerValue(h["retry-after-ms"]), headerValue(h["retry-after"]))
            : null,
      };
    } catch (err) {
      throw toFailure(err);
    }
  }

  async getText(path: string, timeoutMs = 10_000): Promise<{ status: number; text: string }> {
    try {
      const res = await this.pool.request({
        method: "GET",
        path: this.prefix + path,
        headers: this.baseHeaders,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      return { status: res.statusCode, text: await res.body.text() };
    } catch (err) {
      throw toFailure(err);
    }
  }

  async getJson(path: string, timeoutMs?: number): Promise<{ status: number; json: unknown }> {
    const { status, text } = await this.getText(path, timeoutMs);
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON: callers look at status and treat null as "no usable answer"
    }
    return { status, json };
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.pool.destroy();
  }

  get requestTimeoutMs(): number {
    return this.timeoutMs;
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function toFailure(err: unknown): TransportFailure {
  if (err instanceof TransportFailure) return err;
  const e = err as Error;
  if (err instanceof errors.RequestAbortedError || e?.name === "AbortError") {
    return new TransportFailure("aborted", "request aborted", err);
  }
  if (
    err instanceof errors.HeadersTimeoutError ||
    err instanceof errors.BodyTimeoutError ||
    err instanceof errors.ConnectTimeoutError
  ) {
    return new TransportFailure("timeout", e.message, err);
  }
  const code = (err as { code?: string }).code;
  return new TransportFailure(
    "connection",
    code ? `${code}: ${e.message}` : (e?.message ?? String(err)),
    err,
  );
}
