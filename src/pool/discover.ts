// Finding the engines at the start of a job: each one's /v1/models and /metrics. vLLM refuses
// connections until its weights are loaded (minutes for a large model), so a job started beside
// a loading engine waits for it, up to --engine-wait, as a mid-run outage is waited out; engines
// that still do not answer once one does stay out of the pool and are probed in later. An
// address that can never be an engine (a 404, a name that does not resolve) ends it at once.
import type { Logger } from "pino";
import {
  describeProblem,
  type EngineProblem,
  engineProblem,
  unresolvableHost,
} from "../client/engine-problem.js";
import { VbatchError } from "../errors.js";
import type { RunOptions } from "../job/options.js";
import { pause } from "../util/pause.js";
import type { Engine } from "./engine.js";
import { createEngines } from "./engines.js";

export interface DiscoverOptions {
  /** How long to wait for the first engine to answer. */
  waitMs: number;
  /** Stops the wait (Ctrl-C, a cancelled batch). */
  signal?: AbortSignal | undefined;
  /**
   * Called when no engine answered a round, with the time since discovery began and why they did
   * not (null when every one looks like an engine still loading).
   */
  onWaiting?: ((sinceMs: number, reason: string | null) => void) | undefined;
  /** Pause between rounds. @default 1000 */
  retryMs?: number | undefined;
  logger?: Logger | undefined;
}

/**
 * Resolves "ready" once at least one engine answered (the others are marked down), or "stopped"
 * when the signal aborts first; throws no_endpoint when none answered within `waitMs`. An address
 * that can never work (see client/engine-problem.ts) ends the wait at once with a usage error.
 */
export async function discoverEngines(engines: Engine[], o: DiscoverOptions): Promise<"ready" | "stopped"> {
  const log = o.logger;
  const started = Date.now();
  let warned = false;
  refuseWrong(engines.map((e) => [e.base, unresolvableHost(e.base)] as const));
  for (;;) {
    const results = await Promise.allSettled(engines.map((e) => e.discover()));
    const problems: [string, EngineProblem][] = [];
    results.forEach((r, i) => {
      const e = engines[i] as Engine;
      e.health.up = r.status === "fulfilled";
      if (r.status === "rejected") problems.push([e.base, engineProblem(e.base, r.reason)]);
    });
    refuseWrong(problems);
    const up = engines.filter((e) => e.health.up);
    if (up.length > 0) {
      for (const e of up) {
        log?.info(
          { engine: e.base, models: e.models.map((m) => m.id), vllm_metrics: e.hasVllmMetrics },
          "engine ready",
        );
      }
      for (const [base, p] of problems)
        log?.warn({ err: `${base}: ${p.reason}` }, "engine not reachable; will keep probing it");
      return "ready";
    }
    const waited = Date.now() - started;
    const details = problems.map(([base, p]) => `${base}: ${p.reason}`);
    if (waited >= o.waitMs) {
      const after = o.waitMs > 0 ? ` after waiting ${Math.round(waited / 1000)} s (--engine-wait)` : "";
      throw new VbatchError("no_endpoint", `no engine reachable${after}`, { details });
    }
    const loading = problems.every(([, p]) => p.kind === "loading");
    if (!warned) {
      warned = true;
      log?.warn(
        { engines: engines.map((e) => e.base), wait_s: Math.round(o.waitMs / 1000), problems: details },
        loading
          ? "waiting for the engines to accept connections (is vLLM still loading the model?)"
          : `waiting for the engines: ${details.join("; ")}`,
      );
    }
    o.onWaiting?.(waited, loading ? null : details.join("; "));
    await pause(Math.min(o.retryMs ?? 1000, o.waitMs - waited), o.signal);
    if (o.signal?.aborted) return "stopped";
  }
}

/** Ends discovery with one line for the first address that can never work, the others beneath. */
function refuseWrong(found: readonly (readonly [string, EngineProblem | null])[]): void {
  const wrong = found.filter((f): f is [string, EngineProblem] => f[1]?.kind === "wrong");
  const [first, ...rest] = wrong.map(([base, p]) => describeProblem(base, p));
  if (first !== undefined) throw new VbatchError("usage", first, { details: rest });
}

/** How long a job waits for an engine when none answers (--engine-wait). */
export const DEFAULT_ENGINE_WAIT_MS = 600_000;

/** How a job's engines are reached, with the defaults a job uses. */
export function engineOptionsOf(o: Pick<RunOptions, "apiKey" | "transport" | "requestTimeoutMs">) {
  return {
    apiKey: o.apiKey ?? process.env.VBATCH_ENGINE_API_KEY,
    transport: o.transport ?? "http",
    requestTimeoutMs: o.requestTimeoutMs ?? 600_000,
  } as const;
}

/**
 * Whether any of `options`' engines answers (waiting up to engineWaitMs, as a run would), asked
 * with throwaway connections. For a command that must know before it changes anything.
 */
export async function probeEngines(
  o: Pick<
    RunOptions,
    "endpoints" | "apiKey" | "transport" | "requestTimeoutMs" | "engineWaitMs" | "signal" | "logger"
  >,
): Promise<void> {
  const engines = createEngines({ ...engineOptionsOf(o), endpoints: o.endpoints });
  try {
    const found = await discoverEngines(engines, {
      waitMs: o.engineWaitMs ?? DEFAULT_ENGINE_WAIT_MS,
      signal: o.signal,
      logger: o.logger,
    });
    if (found === "stopped") {
      throw new VbatchError("interrupted", "stopped while waiting for an engine; nothing was changed");
    }
  } finally {
    await Promise.all(engines.map((e) => e.transport.close()));
  }
}
