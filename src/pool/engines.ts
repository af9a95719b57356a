// src/pool/ is where engines come from and how they are: created from URLs here, found and
// checked at the start (discover, find-engines, model-check, priority-check), joined or lost
// while a job runs (engine-events, dns-source), kept healthy (health) and picked (router).
//
// Builds the engine pool from endpoint URLs, with the limit each engine gets, and the model for
// rows that name none. Finding out what each serves is discover.ts.
import { normalizeEndpoint } from "../client/endpoint.js";
import { VbatchError } from "../errors.js";
import type { EngineHint } from "../job/options.js";
import { LatencyLimit } from "../schedule/latency-limit.js";
import { type ConcurrencyLimit, FixedLimit } from "../schedule/limit.js";
import { VllmMetricsLimit } from "../schedule/vllm-limit.js";
import { Engine, type TransportKind } from "./engine.js";

export interface EnginePoolOptions {
  endpoints: string[];
  apiKey?: string | undefined;
  transport: TransportKind;
  requestTimeoutMs: number;
  /** Fixed per-engine limit; undefined = adaptive. */
  concurrency?: number | undefined;
}

/** Most sockets one engine gets; the adaptive limit never goes past this either. */
export const MAX_ENGINE_CONNECTIONS = 4096;

export function createEngines(o: EnginePoolOptions): Engine[] {
  if (o.endpoints.length === 0) {
    throw new VbatchError("usage", "no engine: pass --endpoint <url> (repeatable) or --launch sim");
  }
  const bases = [...new Set(o.endpoints.map((e) => normalizeEndpoint(e)))];
  return bases.map((base) => createEngine(base, o));
}

/** One engine, not yet contacted. */
export function createEngine(base: string, o: Omit<EnginePoolOptions, "endpoints">): Engine {
  // Adaptive engines get their real limit once discovery has seen whether /metrics exists.
  const limit = new FixedLimit(o.concurrency ?? 1);
  return new Engine(base, limit, {
    kind: o.transport,
    apiKey: o.apiKey,
    timeoutMs: o.requestTimeoutMs,
    // A few more sockets than requests, so /metrics scrapes never queue behind rows.
    maxConnections: (o.concurrency ?? MAX_ENGINE_CONNECTIONS) + 8,
  });
}

/**
 * The adaptive limit for a discovered engine: metrics-driven for a vLLM engine, latency-driven
 * otherwise, and latency-driven for one URL in front of autoscaled replicas (its /metrics shows
 * whichever replica answered), capped by what the deployment can hold.
 */
export function adaptiveLimit(engine: Engine, hint?: EngineHint): ConcurrencyLimit {
  const max = Math.min(MAX_ENGINE_CONNECTIONS, hint?.maxInFlight ?? MAX_ENGINE_CONNECTIONS);
  return engine.hasVllmMetrics && !hint?.loadBalanced
    ? new VllmMetricsLimit({ max, initial: Math.min(256, max) })
    : new LatencyLimit({ max, initial: Math.min(32, max) });
}

/** The model for rows without one: --model, else the one model every engine serves. */
export function defaultModel(engines: Engine[], requested: string | undefined, rowsWithoutModel: number) {
  if (requested) return requested;
  if (rowsWithoutModel === 0) return undefined;
  const ids = new Set(engines.flatMap((e) => e.models.map((m) => m.id)));
  if (ids.size === 1) return [...ids][0];
  throw new VbatchError(
    "usage",
    `${rowsWithoutModel} rows have no body.model and the engines serve ${ids.size === 0 ? "no model" : `several models (${[...ids].join(", ")})`}: pass --model`,
  );
}
