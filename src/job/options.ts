// Everything `runBatch` takes, documented where it is declared. The CLI maps flags onto this
// type one to one; tests and `vbatch serve` call runBatch with it directly.
import type { Logger } from "pino";
import type { FormatName } from "../formats/types.js";
import type { FileOps } from "../io/file-ops.js";
import type { TransportKind } from "../pool/engine.js";
import type { RunProgress } from "../progress/progress.js";
import type { ProviderOptions } from "../provider/options.js";
import type { OverflowOptions } from "../provider/overflow.js";
import type { Shard } from "../shard/shard.js";
import type { DedupeMode } from "./dedupe.js";

/** The error given to rows a stopped run closes out (see `finalizePending`). */
export interface PendingFinal {
  code: string;
  message: string;
}

/** What a launcher knows about an engine that its URL does not say. */
export interface EngineHint {
  /** Most requests worth keeping in flight at this URL (e.g. Modal: max_containers x max_inputs). */
  maxInFlight?: number | undefined;
  /** The URL load-balances autoscaled replicas: steer by latency, not by one replica's /metrics. */
  loadBalanced?: boolean | undefined;
}

/** Engines that come and go during a run (a launcher): the runner adds, drops and re-admits them. */
export interface EngineSource {
  on(event: "ready", cb: (e: { url: string } & EngineHint) => void): void;
  on(event: "lost", cb: (e: { url: string }, reason: string) => void): void;
}

export interface RunOptions {
  /** Input path (.jsonl or .jsonl.gz), or "-" for stdin. */
  input: string;
  /** Output file for successful rows. */
  output: string;
  /** Errors file for rows that failed for good. @default "<output name>.errors.jsonl" beside the output */
  errors?: string | undefined;
  /** Journal (checkpoint) path. @default "<output name>.vbatch.db" beside the output */
  journal?: string | undefined;
  /** Engine base URLs (with or without /v1). */
  endpoints: string[];
  /**
   * Send the rows to a provider's batch API (OpenAI's or Anthropic's) instead of engines: chunked,
   * every file and batch id in the journal, resumable like an engine job (docs/providers.md).
   */
  provider?: ProviderOptions | undefined;
  /**
   * With engines: move just enough rows to a provider's batch API (OpenAI's) when the engines,
   * at their measured rate, cannot finish by `deadline` (docs/providers.md#overflow-by-deadline).
   */
  overflow?: (OverflowOptions & { provider: ProviderOptions }) | undefined;
  /** Per-engine hints, by endpoint URL (as given). */
  engineHints?: Record<string, EngineHint> | undefined;
  /** Engines joining and leaving while the job runs; they use `endpoints` as the starting pool. */
  engineSource?: EngineSource | undefined;
  /** GPUs the launched engines hold now, for the report's cost; absent when engines were given. */
  launchedGpus?: (() => number | null) | undefined;
  /** Model for rows whose body has none. @default the engine's only model */
  model?: string | undefined;
  /** Renames models on the way out: a row naming a key is sent to the model its value names. */
  modelMap?: Record<string, string> | undefined;
  /** API key sent to the engines. @default $VBATCH_ENGINE_API_KEY, else none */
  apiKey?: string | undefined;
  /** Fixed in-flight limit per engine; undefined means adaptive. */
  concurrency?: number | undefined;
  /** Attempts per row before it is recorded as failed. @default 5 */
  maxAttempts?: number;
  /** Per-request timeout in ms. @default 600000 */
  requestTimeoutMs?: number;
  /** Backoff before the first retry in ms (doubles per attempt, with jitter). @default 500 */
  retryBaseMs?: number;
  /** Longest backoff in ms. @default 30000 */
  retryMaxMs?: number;
  /** How long to wait for an engine to come back when every engine is down, in ms. @default 600000 */
  engineWaitMs?: number;
  /** Requests per second across all engines, if set (Bottleneck). */
  maxRequestsPerSecond?: number | undefined;
  /** Send single-input embedding rows of one model together, as one request with an input array. @default true */
  coalesce?: boolean;
  /**
   * Keep rows that share a prompt prefix together: sent close in time (in prefix-key order, when
   * rows share prefixes and the input is a plain file) and to the engine that took their prefix
   * first while it has room, so its prefix cache holds the prefix. @default true
   */
  prefixAffinity?: boolean;
  /**
   * When every row sets max_tokens and they vary (the largest at least twice the smallest), send
   * the longest rows first, so the job does not end waiting on a long row started last. Rows that
   * share prefixes keep the prefix order instead. @default true
   */
  lengthOrder?: boolean;
  /**
   * Process only the rows whose custom_id hashes to shard `index` of `count`, so several
   * orchestrators can split one input without talking to each other (merge with `vbatch merge`).
   */
  shard?: Shard | undefined;
  /**
   * Send identical requests (same url and body) once and share the answer: "auto" only where the
   * answer is deterministic (embeddings, temperature 0, a fixed seed). Decided when the job
   * starts; a resumed job keeps its first choice. @default "auto"
   */
  dedupe?: DedupeMode;
  /**
   * The batch file's format: OpenAI (custom_id, url, body), Anthropic (custom_id, params), Gemini
   * (key, request) or Bedrock (recordId, modelInput). Output lines are in the same family's
   * shape. @default the first valid line's (every line must share it)
   */
  format?: FormatName | undefined;
  /** Job metadata: kept in the journal, the summary and every request id. */
  tags?: Record<string, string> | undefined;
  /** vLLM `priority` for rows that set none (lower runs first; needs --scheduling-policy priority). */
  priority?: number | undefined;
  /** Serve the runner's Prometheus metrics on this port (0: any free port). */
  metricsPort?: number | undefined;
  /** Host for the metrics server. @default "127.0.0.1" */
  metricsHost?: string;
  /** Called once the metrics server listens, with its URL. */
  onMetricsUrl?: ((url: string) => void) | undefined;
  /**
   * Check replies to rows that ask for JSON (response_format json_schema/json_object, or
   * structured_outputs.json): a reply that does not parse or fails the schema is asked again up
   * to `jsonRetries` times, then recorded as failed with error.code "invalid_json". @default false
   */
  validateJson?: boolean;
  /** @default 2 */
  jsonRetries?: number;
  /**
   * Longest input line accepted, in bytes; a longer one is invalid (named by its line, never held
   * in memory). A resumed job keeps the limit it was validated with. @default 64 MiB
   */
  maxLineBytes?: number | undefined;
  /** Route invalid lines to the errors file instead of refusing the input. @default false */
  skipInvalid?: boolean;
  /** Discard the journal and outputs of an earlier run and start over. @default false */
  restart?: boolean;
  /** How to talk to engines: "http" (lean undici transport) or "sdk" (the openai SDK). @default "http" */
  transport?: TransportKind;
  /** Stop taking new rows when this signal aborts; in-flight rows get `drainMs` to finish. */
  signal?: AbortSignal | undefined;
  /**
   * When set and the run is stopped by `signal`, every row still pending is written to the errors
   * file with this error (e.g. `batch_expired`), so the job ends with every row final. A function
   * is asked when the run stops, so the reason for stopping can be decided late.
   * @default undefined: pending rows stay pending and a later run resumes them
   */
  finalizePending?: PendingFinal | (() => PendingFinal | undefined) | undefined;
  /** Time in-flight rows get to finish after `signal` aborts. @default 5000 */
  drainMs?: number;
  /** How often finished rows are committed, in ms. @default 200 */
  commitIntervalMs?: number;
  /** fsync output files at each commit. @default true */
  fsync?: boolean;
  /** Commit as soon as this many finished rows are buffered (or every commitIntervalMs). @default 2000 */
  commitRows?: number | undefined;
  /**
   * The file operations of the output files and the journal's commits. For tests, which fail one
   * of them on purpose (see src/io/faults.ts). @default node:fs
   */
  fileOps?: FileOps | undefined;
  /** Called about once a second, and once at the end. */
  onProgress?: ((p: RunProgress) => void) | undefined;
  /** Progress interval in ms. @default 1000 */
  progressIntervalMs?: number;
  logger?: Logger | undefined;
}

export interface ResolvedPaths {
  input: string;
  output: string;
  errors: string;
  journal: string;
  /** Where stdin is copied so it can be read twice. */
  stdinSpool: string;
}
