// Watches one engine's /metrics: feeds the adaptive limit, and keeps running/waiting for the
// progress line. Scrapes every 10 ms while the slow start waits on a scrape to grow the limit (a
// few scrapes per engine), ten times a second for the first seconds, then once a second.
import type { Logger } from "pino";
import type { Engine } from "../pool/engine.js";
import { parseVllmLoad } from "./prometheus.js";
import { VllmMetricsLimit } from "./vllm-limit.js";

export interface MonitorOptions {
  /** Called after each scrape that may have moved the limit. */
  onChange: () => void;
  logger?: Logger | undefined;
  /** @default 1000 */
  intervalMs?: number;
  /** @default 100 */
  startIntervalMs?: number;
  /** How long the fast start interval lasts. @default 3000 */
  startPhaseMs?: number;
  /** Interval while the slow start waits on a scrape to grow the limit. @default 10 */
  rampIntervalMs?: number;
}

/** Starts scraping; returns a function that stops it. */
export function monitorEngine(engine: Engine, o: MonitorOptions): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const started = Date.now();
  let lastLimit = engine.limit.current();
  let failures = 0;
  const tick = async () => {
    if (stopped) return;
    try {
      const { status, text } = await engine.transport.getText("/metrics", 2000);
      const load = status === 200 ? parseVllmLoad(text) : null;
      if (load) {
        failures = 0;
        engine.noteLoad(load);
        if (engine.limit instanceof VllmMetricsLimit) engine.limit.onLoad(load, engine.inFlight);
        const limit = engine.limit.current();
        if (limit !== lastLimit) {
          o.logger?.debug(
            {
              engine: engine.base,
              limit,
              running: load.running,
              waiting: load.waiting,
              kv: load.kvCacheUsage,
            },
            "in-flight limit changed",
          );
          lastLimit = limit;
          o.onChange();
        }
      }
    } catch {
      failures++;
      if (failures === 3)
        o.logger?.warn({ engine: engine.base }, "cannot read /metrics; keeping the current limit");
    }
    if (stopped) return;
    const ramping = engine.limit.wantsScrapeSoon?.(engine.inFlight) ?? false;
    const fast = Date.now() - started < (o.startPhaseMs ?? 3000);
    const wait = ramping
      ? (o.rampIntervalMs ?? 10)
      : fast
        ? (o.startIntervalMs ?? 100)
        : (o.intervalMs ?? 1000);
    timer = setTimeout(tick, wait);
    timer.unref();
  };
  timer = setTimeout(tick, 0);
  timer.unref();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}

/**
 * One last reading of an engine's prefix-cache counters (the job's summary): the monitor's latest
 * may be a second old. Engines without the counters, or not answering, keep what they had.
 */
export async function readPrefixCounters(engine: Engine): Promise<void> {
  if (engine.prefixBase === null || !engine.health.up) return;
  try {
    const { status, text } = await engine.transport.getText("/metrics", 2000);
    const load = status === 200 ? parseVllmLoad(text) : null;
    if (load) engine.noteLoad(load);
  } catch {
    // the reading in hand stands
  }
}
