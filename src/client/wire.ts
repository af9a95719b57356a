// What a transport returns: the engine's answer as raw text plus the two headers the runner
// needs. Transports never retry; the runner owns retries (see docs/architecture.md).

export interface WireRequest {
  /** Path under the endpoint, e.g. "/v1/chat/completions". */
  path: string;
  /** JSON request body as text. */
  body: string;
  /** Value for the x-request-id header, so engine logs and output lines share an id. */
  requestId: string;
  signal?: AbortSignal | undefined;
}

export interface WireResponse {
  status: number;
  /** Raw response body text. */
  body: string;
  /** The engine's x-request-id, or the one we sent. */
  requestId: string;
  /** Milliseconds the server asked us to wait (retry-after-ms or retry-after), if any. */
  retryAfterMs: number | null;
}

export type TransportFailureKind = "connection" | "timeout" | "aborted";

/** A request that got no HTTP answer. */
export class TransportFailure extends Error {
  readonly kind: TransportFailureKind;
  constructor(kind: TransportFailureKind, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "TransportFailure";
    this.kind = kind;
  }
}

export interface Transport {
  send(req: WireRequest): Promise<WireResponse>;
  /** GET a path, parsed as JSON (engine discovery, /v1/models). */
  getJson(path: string, timeoutMs?: number): Promise<{ status: number; json: unknown }>;
  /** GET a path as text (/metrics, /health). */
  getText(path: string, timeoutMs?: number): Promise<{ status: number; text: string }>;
  close(): Promise<void>;
}

export interface TransportOptions {
  /** Endpoint base without /v1, e.g. http://127.0.0.1:8000 */
  base: string;
  apiKey?: string | undefined;
  /** Per-request timeout in ms. */
  timeoutMs: number;
  /** Keep-alive sockets to open to this engine at most. */
  connections: number;
}

/** Parses retry-after-ms / retry-after (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(ms: string | undefined, seconds: string | undefined): number | null {
  if (ms !== undefined) {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return n;
  }
  if (seconds !== undefined) {
    const n = Number(seconds);
    if (Number.isFinite(n) && n >= 0) return n * 1000;
    const date = Date.parse(seconds);
    if (!Number.isNaN(date)) return Math.max(0, date - Date.now());
  }
  return null;
}
