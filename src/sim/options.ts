// Defaults and validation of SimOptions in one place, so a bad value fails at start with its name
// rather than as odd behaviour under load.

import type { OutputLengths } from "./lengths.js";
import { BLOCK_SIZE } from "./prefix-cache.js";
import { BadJsonPlan } from "./structured.js";
import type { SimErrorFormat, SimFaults, SimOptions } from "./types.js";

export interface SimConfig {
  host: string;
  port: number;
  model: string;
  maxModelLen: number;
  maxNumSeqs: number;
  prefillMs: number;
  stepMs: number;
  /** Slot time of one prompt token not found in the prefix cache (0: prefill is free). */
  prefillTokenMs: number;
  /** Blocks of 16 tokens the prefix cache holds (0: no prefix caching). */
  prefixCacheBlocks: number;
  /** Tokens each request generates before a max_tokens cap. */
  output: OutputLengths;
  embeddingDim: number;
  metrics: boolean;
  errorFormat: SimErrorFormat;
  faults: SimFaults;
  exitAfter: number | null;
  startupDelayMs: number;
  seed: number;
  trackRequests: boolean;
  schedulingPolicy: "fcfs" | "priority";
  /** Which structured (JSON) replies come back broken. */
  badJson: BadJsonPlan;
  onExit: (() => void) | null;
  onRequestBody: ((path: string, body: string) => void) | null;
}

function int(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a number >= 0, got ${String(value)}`);
  }
  return value;
}

function port(value: number | undefined): number {
  const p = int("port", value, 0, 0);
  if (p > 65535) throw new RangeError(`port must be at most 65535, got ${p}`);
  return p;
}

function outputLengths(o: SimOptions): OutputLengths {
  if (o.outputLen === undefined) {
    if (o.outputLenSpread !== undefined) throw new RangeError("outputLenSpread needs outputLen");
    return { mean: int("outputTokens", o.outputTokens, 16, 1), spread: 0 };
  }
  if (o.outputTokens !== undefined) {
    throw new RangeError("outputTokens (a fixed length) and outputLen (a mean) are alternatives: pass one");
  }
  const spread = nonNegative("outputLenSpread", o.outputLenSpread, 0.5);
  if (spread > 1) throw new RangeError(`outputLenSpread must be at most 1, got ${spread}`);
  return { mean: int("outputLen", o.outputLen, 16, 1), spread };
}

/**
 * One decode step costs as much GPU time as prefilling this many prompt tokens. From `vllm bench
 * serve` against vLLM on one request at a time (1,024 prompt tokens, 128 generated): mean TTFT
 * 83.91 ms, mean TPOT 51.95 ms, so a prompt token costs 83.91 / 1024 = 0.082 ms against a decode
 * step's 51.95 ms: 1/634 (https://forums.developer.nvidia.com/t/6x-spark-setup/354399/18).
 * See prefillTokenMs for how that becomes slot time.
 */
export const DEFAULT_PREFILL_RATIO = 634;

/** A real engine's KV cache holds some 10^5 tokens (an 8B model on one 80 GB card). */
export const DEFAULT_PREFIX_CACHE_TOKENS = 262_144;

/**
 * Slot time of one uncached prompt token. The simulator's slots run side by side, but a GPU
 * prefills one batch at a time: with a full batch of S sequences, a decode step serves S of them
 * (decode is memory-bound, its step time barely grows with S) while prefill is compute-bound and
 * costs the same per token whatever runs beside it. In slot time a prompt token therefore costs
 * S decode tokens' worth of its GPU share: stepMs x S / ratio.
 */
function prefillTokenMs(stepMs: number, slots: number, ratio: number): number {
  return ratio === 0 ? 0 : (stepMs * slots) / ratio;
}

export function resolveOptions(o: SimOptions): SimConfig {
  const errorFormat = o.errorFormat ?? "new";
  if (errorFormat !== "new" && errorFormat !== "old") {
    throw new RangeError(`errorFormat must be "new" or "old", got ${String(errorFormat)}`);
  }
  const model = o.model ?? "sim-model";
  if (typeof model !== "string" || model === "") throw new RangeError("model must be a non-empty string");
  const maxNumSeqs = int("maxNumSeqs", o.maxNumSeqs, 256, 1);
  const stepMs = nonNegative("stepMs", o.stepMs, 2);
  const ratio = nonNegative("prefillRatio", o.prefillRatio, DEFAULT_PREFILL_RATIO);
  const cacheTokens = int("prefixCacheTokens", o.prefixCacheTokens, DEFAULT_PREFIX_CACHE_TOKENS, 0);
  return {
    host: o.host ?? "127.0.0.1",
    port: port(o.port),
    model,
    maxModelLen: int("maxModelLen", o.maxModelLen, 4096, 2),
    maxNumSeqs,
    prefillMs: nonNegative("prefillMs", o.prefillMs, 5),
    stepMs,
    prefillTokenMs: prefillTokenMs(stepMs, maxNumSeqs, ratio),
    prefixCacheBlocks: Math.floor(cacheTokens / BLOCK_SIZE),
    output: outputLengths(o),
    embeddingDim: int("embeddingDim", o.embeddingDim, 8, 1),
    metrics: o.metrics ?? true,
    errorFormat,
    faults: { ...(o.faults ?? {}) },
    exitAfter: o.exitAfter === undefined ? null : int("exitAfter", o.exitAfter, 0, 1),
    startupDelayMs: nonNegative("startupDelayMs", o.startupDelayMs, 0),
    seed: int("seed", o.seed, 1, 0),
    trackRequests: o.trackRequests ?? false,
    schedulingPolicy: o.schedulingPolicy ?? "fcfs",
    badJson: new BadJsonPlan(o.badJsonRate ?? 0),
    onExit: o.onExit ?? null,
    onRequestBody: o.onRequestBody ?? null,
  };
}
