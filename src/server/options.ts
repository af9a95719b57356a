// Everything `startServer` takes, documented where it is declared and resolved once, so the
// CLI and tests share one set of defaults.
import { isIPv4, isIPv6 } from "node:net";
import { resolve } from "node:path";
import type { Logger } from "pino";
import { VbatchError } from "../errors.js";
import type { RunOptions } from "../job/options.js";
import { isControlChar } from "../util/control-chars.js";

/** runBatch settings passed through to every batch. */
export type BatchRunSettings = Pick<
  RunOptions,
  | "maxAttempts"
  | "requestTimeoutMs"
  | "retryBaseMs"
  | "retryMaxMs"
  | "maxRequestsPerSecond"
  | "transport"
  | "drainMs"
  | "commitIntervalMs"
  | "fsync"
  | "progressIntervalMs"
>;

export interface ServerOptions {
  /** Engine base URLs (with or without /v1). */
  endpoints: string[];
  /** State database and files live here. @default "./vbatch-data" */
  dataDir?: string;
  /** @default "127.0.0.1" */
  host?: string;
  /** 0 picks a free port. @default 8080 */
  port?: number;
  /**
   * Keys clients must present (Bearer or x-api-key); trimmed, and a blank one is refused. Required
   * unless bound to loopback. @default none
   */
  apiKeys?: string[];
  /** Model for rows naming a model no engine serves (and rows naming none). @default the engines' only model */
  model?: string | undefined;
  /** Key sent to the engines. @default $VBATCH_ENGINE_API_KEY */
  engineApiKey?: string | undefined;
  /** Batches running at once; the rest wait in creation order. @default 2 */
  maxConcurrentBatches?: number;
  /** Fixed in-flight limit per engine for each running batch. @default adaptive (runBatch's own) */
  concurrency?: number | undefined;
  /** Largest upload. @default 200 MiB (OpenAI's limit) */
  maxFileBytes?: number;
  /** Most requests in one batch. @default 100000 (Anthropic's limit; OpenAI's is 50000) */
  maxBatchRows?: number;
  /** Largest JSON body, except an Anthropic batch create, which may be up to maxFileBytes. @default 1 MiB */
  maxJsonBytes?: number;
  /**
   * Time a client gets to send one whole request, headers and body (an upload included), before it
   * is answered 408 and its connection closed. Not the engines' timeout (that is run.requestTimeoutMs).
   * @default 600000 (10 minutes: a 200 MiB upload at 350 KB/s)
   */
  requestTimeoutMs?: number;
  /** Files, results and ended batches are deleted this long after they were made. @default 30 days */
  retentionMs?: number;
  /** How often expired files and batches are swept. @default min(retentionMs, 1 hour) */
  sweepIntervalMs?: number;
  /** Wait between attempts while no engine answers. @default 5000 */
  engineRetryMs?: number;
  /** Base of `results_url`. @default http://<Host header of the request> */
  publicUrl?: string | undefined;
  /** Passed to runBatch for every batch. */
  run?: BatchRunSettings;
  logger?: Logger | undefined;
  /**
   * Called once this server has stopped because another process took its data dir over (after
   * its lock file was deleted): the caller should end with the error (exit 1).
   */
  onLost?: ((err: VbatchError) => void) | undefined;
}

export type ResolvedServerOptions = Required<
  Omit<ServerOptions, "model" | "engineApiKey" | "concurrency" | "publicUrl" | "logger" | "onLost">
> &
  Pick<ServerOptions, "model" | "engineApiKey" | "concurrency" | "publicUrl" | "logger" | "onLost">;

const DAY_MS = 86_400_000;
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS };

/** "30d", "12h", "90m", "5s", "250ms" to milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * (UNITS[m[2] as string] as number);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/** An IPv6 address as typed in a URL ("[::1]") to the bare form listen() takes. */
export function unbracket(host: string): string {
  const m = /^\[([^[\]]*)\]$/.exec(host);
  return m ? (m[1] as string) : host;
}

/**
 * Whether binding `host` keeps the server on this machine: localhost, 127.0.0.0/8, and IPv6's ::1
 * in any spelling ("[::1]", "0:0:0:0:0:0:0:1") or as an IPv4-mapped 127.x ("::ffff:127.0.0.1").
 */
export function isLoopback(host: string): boolean {
  const h = unbracket(host).toLowerCase();
  if (h === "localhost") return true;
  if (isIPv4(h)) return h.startsWith("127.");
  // A zone id ("::1%lo") passes isIPv6 but not the URL parser; refused, so it needs a key.
  if (!isIPv6(h) || h.includes("%")) return false;
  // The URL parser writes every IPv6 spelling in one canonical form (mapped IPv4 as hex).
  const canonical = new URL(`http://[${h}]/`).hostname;
  return canonical === "[::1]" || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
}

/**
 * One configured key, trimmed; `where` names its source in the error (never the key itself). Control
 * characters cannot travel in an HTTP header, so a key holding one could never be presented.
 */
export function checkApiKey(key: string, where: string): string {
  const trimmed = key.trim();
  if (trimmed === "") throw new VbatchError("usage", `${where}: the API key is empty or only whitespace`);
  if ([...trimmed].some(isControlChar)) {
    throw new VbatchError("usage", `${where}: the API key contains a control character`);
  }
  return trimmed;
}

export const noKeyError = (host: string) =>
  new VbatchError(
    "usage",
    `refusing to listen on ${host} without an API key: pass --api-key-file <file> or --api-key <key>, or set VBATCH_API_KEYS (or bind 127.0.0.1)`,
  );

export function resolveServerOptions(o: ServerOptions): ResolvedServerOptions {
  const positive = (v: number | undefined, name: string, min = 1) => {
    if (v !== undefined && (!Number.isFinite(v) || v < min)) {
      throw new VbatchError("usage", `${name} must be a number >= ${min} (got ${v})`);
    }
  };
  positive(o.maxConcurrentBatches, "--max-concurrent-batches");
  positive(o.maxFileBytes, "--max-file-bytes");
  positive(o.maxBatchRows, "--max-batch-rows");
  positive(o.maxJsonBytes, "max JSON bytes", 1024);
  positive(o.retentionMs, "--retention");
  positive(o.concurrency, "--concurrency");
  positive(o.requestTimeoutMs, "requestTimeoutMs (--upload-timeout)");
  if (o.endpoints.length === 0) {
    throw new VbatchError("usage", "no engine: pass --endpoint <url> (repeatable) or --launch sim");
  }
  const host = unbracket(o.host ?? "127.0.0.1");
  const apiKeys = (o.apiKeys ?? []).map((k, i) => checkApiKey(k, `apiKeys[${i}]`));
  if (!isLoopback(host) && apiKeys.length === 0) throw noKeyError(o.host ?? host);
  const retentionMs = o.retentionMs ?? 30 * DAY_MS;
  return {
    endpoints: o.endpoints,
    dataDir: resolve(o.dataDir ?? "vbatch-data"),
    host,
    port: o.port ?? 8080,
    apiKeys,
    model: o.model,
    engineApiKey: o.engineApiKey ?? process.env.VBATCH_ENGINE_API_KEY,
    maxConcurrentBatches: o.maxConcurrentBatches ?? 2,
    concurrency: o.concurrency,
    maxFileBytes: o.maxFileBytes ?? 200 * 1024 * 1024,
    maxBatchRows: o.maxBatchRows ?? 100_000,
    maxJsonBytes: o.maxJsonBytes ?? 1024 * 1024,
    requestTimeoutMs: o.requestTimeoutMs ?? 600_000,
    retentionMs,
    sweepIntervalMs: o.sweepIntervalMs ?? Math.min(retentionMs, 3_600_000),
    engineRetryMs: o.engineRetryMs ?? 5000,
    publicUrl: o.publicUrl?.replace(/\/+$/, ""),
    run: o.run ?? {},
    logger: o.logger,
    onLost: o.onLost,
  };
}
