// What the send loop (runner.ts) is given: where rows come from, where answers go, the retry
// and timing rules. Filled by the job's "send the rows" step from RunOptions.
import type { Logger } from "pino";
import type { BackoffOptions } from "../client/retry.js";
import type { ResultSink } from "../output/sink.js";
import type { Engine } from "../pool/engine.js";
import type { Router } from "../pool/router.js";
import type { RecorderOptions } from "./recorder.js";
import type { RowReaderOptions } from "./row-reader.js";

export interface RunnerOptions {
  /** Which rows to send and how to build their requests. */
  reader: RowReaderOptions;
  router: Router;
  sink: ResultSink;
  /** Start of every request id sent: "vbatch-<job>" plus the job's tags. */
  requestIdPrefix: string;
  /** Check replies to rows that ask for JSON; retry a bad one up to jsonRetries times. */
  validateJson?: boolean | undefined;
  jsonRetries?: number | undefined;
  /** Duplicate rows that share a pending row's answer (dedupe). */
  leaders?: RecorderOptions["leaders"];
  followersOf?: RecorderOptions["followersOf"];
  /** Sees every attempt's result (metrics). */
  onAttempt?: ((engine: Engine, latencyMs: number, status: number | null) => void) | undefined;
  maxAttempts: number;
  backoff: BackoffOptions;
  maxRequestsPerSecond?: number | undefined;
  signal?: AbortSignal | undefined;
  drainMs: number;
  commitIntervalMs: number;
  /** How long to wait for an engine when every engine is down, before exit 1. */
  engineWaitMs: number;
  /**
   * Asked as a row's request is about to start (once per row, then again per retry): false means
   * the row now belongs elsewhere (moved to a provider's batch by --overflow) and is dropped here;
   * true claims it for the engines, so it can no longer be moved.
   */
  take?: ((line: number) => boolean) | undefined;
  /** An engine came back into the pool (e.g. to give it a fresh adaptive limit). */
  onEngineUp?: ((engine: Engine) => void) | undefined;
  logger?: Logger | undefined;
}
