// Defaults and validation of SimOptions in one place, so a bad value fails at start with its name
// rather than as odd behaviour under load.

import type { OutputLengths } from "./lengths.js";
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

export function resolveOptions(o: SimOptions): SimConfig {
  const errorFormat = o.errorFormat ?? "new";
  if (errorFormat !== "new" && errorFormat !== "old") {
    throw new RangeError(`errorFormat must be "new" or "old", got ${String(errorFormat)}`);
  }
  const model = o.model ?? "sim-model";
  if (typeof model !== "string" || model === "") throw new RangeError("model must be a non-empty string");
  return {
    host: o.host ?? "127.0.0.1",
    port: port(o.port),
    model,
    maxModelLen: int("maxModelLen", o.maxModelLen, 4096, 2),
    maxNumSeqs: int("maxNumSeqs", o.maxNumSeqs, 256, 1),
    prefillMs: nonNegative("prefillMs", o.prefillMs, 5),
    stepMs: nonNegative("stepMs", o.stepMs, 2),
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
