// Public shapes of the vLLM simulator, kept apart so the CLI, the server and callers share one
// vocabulary without importing the HTTP machinery.

export interface SimFaults {
  /** share of requests answered 500 (0..1) */
  errorRate?: number;
  /** share answered 429 with Retry-After (0..1) */
  rateLimitRate?: number;
  /** seconds put in Retry-After (also sent as retry-after-ms = seconds*1000); default 1 */
  retryAfterSeconds?: number;
  /** share of requests whose socket is destroyed without an answer (0..1) */
  dropRate?: number;
}

export type SimErrorFormat = "new" | "old";

export interface SimOptions {
  /** default 127.0.0.1 */
  host?: string;
  /** default 0 (ephemeral) */
  port?: number;
  /** served model id, default "sim-model"; requests naming another model get vLLM's 404 */
  model?: string;
  /** default 4096; reported in /v1/models, enforced like vLLM */
  maxModelLen?: number;
  /** running slots (continuous batching), default 256; the rest wait FIFO */
  maxNumSeqs?: number;
  /** fixed time per request before decoding, default 5 */
  prefillMs?: number;
  /** time per output token, default 2 */
  stepMs?: number;
  /**
   * A decode step costs as much GPU time as prefilling this many prompt tokens (0: prefill is
   * free). Each prompt token not found in the prefix cache adds stepMs x maxNumSeqs / prefillRatio
   * to its request's time (see DEFAULT_PREFILL_RATIO in options.ts for the source).
   * @default 634
   */
  prefillRatio?: number;
  /**
   * Prompt tokens the prefix cache holds, in blocks of 16, least recently used evicted first
   * (0: no prefix caching, like vLLM's --no-enable-prefix-caching).
   * @default 262144
   */
  prefixCacheTokens?: number;
  /**
   * Tokens every request generates, capped by max_tokens / max_completion_tokens. An alternative
   * to `outputLen`, which varies the length per prompt.
   * @default 16
   */
  outputTokens?: number;
  /**
   * Mean tokens generated per request, each prompt's length drawn uniformly within
   * `outputLen x (1 ± outputLenSpread)` by a hash of its body (the same prompt always gets the same
   * length), then capped by max_tokens / max_completion_tokens like `outputTokens`.
   * @default unset (every request generates `outputTokens`)
   */
  outputLen?: number;
  /**
   * Half-width of the `outputLen` range as a share of the mean, 0..1 (0.5: from half to one and a
   * half times the mean). Only with `outputLen`.
   * @default 0.5
   */
  outputLenSpread?: number;
  /** default 8 */
  embeddingDim?: number;
  /** serve /metrics (default true); false answers 404 like a non-vLLM server */
  metrics?: boolean;
  /** "new" (default): {"error":{...}}; "old": flat {"object":"error",...} as before vLLM 0.10.1 */
  errorFormat?: SimErrorFormat;
  faults?: SimFaults;
  /** on receiving the Nth completion/embedding request the server dies without answering it */
  exitAfter?: number;
  /** listen only after this delay (vLLM refuses connections while loading) */
  startupDelayMs?: number;
  /** seed of the PRNG deciding faults, default 1 */
  seed?: number;
  /** keep a count of receptions per request key (see SimStats.requestsByKey) */
  trackRequests?: boolean;
  /** "fcfs" (default) refuses a non-zero `priority` with vLLM's 400; "priority" accepts it */
  schedulingPolicy?: "fcfs" | "priority";
  /** share (0..1) of replies to JSON-schema requests that come back as broken JSON */
  badJsonRate?: number;
  /** called once after exitAfter killed the server; the CLI exits the process from here */
  onExit?: () => void;
  /**
   * Called with the path and the raw body of every generation, embedding, score or rerank request,
   * as received and before any fault: lets a test assert exactly what the engine got.
   */
  onRequestBody?: (path: string, body: string) => void;
}

export interface SimStats {
  /** completion/embedding requests received (including faulted ones) */
  received: number;
  /** answered 200 */
  completed: number;
  /** "200","400","404","429","500","drop", and "abort" for requests whose client went away first */
  byStatus: Record<string, number>;
  maxRunning: number;
  maxWaiting: number;
  /** integral over time of the running-slot count (ms) */
  busySlotMs: number;
  /** performance.now() when the first request started running */
  firstStartMs: number | null;
  /** performance.now() when the last request finished */
  lastEndMs: number | null;
  /**
   * performance.timeOrigin of the simulator's process: added to firstStartMs or lastEndMs, it gives
   * epoch milliseconds, comparable with another process's clock.
   */
  timeOrigin: number;
  /**
   * Prompt tokens looked up in the prefix cache and found there since the server started (the
   * /metrics counters vllm:prefix_cache_queries_total and vllm:prefix_cache_hits_total; not reset).
   */
  prefixCacheQueries: number;
  prefixCacheHits: number;
  /** request key (16 hex of sha1 of the raw body) -> times received; only with trackRequests */
  requestsByKey?: Record<string, number>;
}

export interface SimServer {
  /** http://HOST:PORT (no /v1) */
  url: string;
  port: number;
  stats(): SimStats;
  resetStats(): void;
  /** replace the faults at runtime (an outage, then recovery) */
  setFaults(f: SimFaults): void;
  /** stop listening, close idle keep-alive sockets, let in-flight requests finish, then resolve */
  close(): Promise<void>;
  /** destroy every socket now, like a crashed engine */
  kill(): void;
}
