// The seam between the supervisor (readiness, restarts, events, teardown) and the three ways of
// running vLLM. A driver starts one engine at a time and knows how to stop what it started.
import type { EngineRecord, LaunchKind } from "./types.js";

/** One engine to run: which GPUs, which host port, under which name. */
export interface EngineSlot {
  index: number;
  /** vbatch-<job>-<i> */
  name: string;
  gpus: string[];
  port: number;
}

export interface StartContext {
  /** Every line the engine (or its deploy tool) prints, unredacted; the supervisor redacts. */
  onLine(line: string): void;
  /** Aborted when the launch is stopping. */
  signal: AbortSignal;
}

/** An engine the driver has started (it may not be ready yet). */
export interface StartedEngine {
  url: string;
  /** Settles when the engine is gone, with a human reason ("exited with code 1"). */
  exited: Promise<string>;
  /** Graceful stop, then forced after graceMs; idempotent. */
  stop(graceMs: number): Promise<void>;
  /** Stop watching it and leave it running (--keep). */
  detach(): void;
  /** How to reach and stop it by hand. */
  keepInstruction(): string;
  /** What the state file needs to find it again. */
  record(): Omit<EngineRecord, "name" | "url" | "gpus">;
  /** Where its full log is, when there is one on this machine. */
  logPath?: string | undefined;
  maxInFlight?: number | undefined;
  loadBalanced?: boolean | undefined;
}

export interface Driver {
  readonly kind: LaunchKind;
  start(slot: EngineSlot, ctx: StartContext): Promise<StartedEngine>;
  /** Synchronous last resort at process exit: force-stop everything started or being started. */
  stopAllNow(): void;
}
