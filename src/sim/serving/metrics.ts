// GET /metrics: the engine's gauges and the server's counters in vLLM's Prometheus names
// (rendered by sim/metrics.ts); 404 when the simulator plays a server without /metrics.
import type { ServerResponse } from "node:http";
import { NOT_FOUND_BODY } from "../errors.js";
import { renderMetrics } from "../metrics.js";
import { JSON_TYPE, type SimContext } from "./context.js";

const METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export function metrics(ctx: SimContext, res: ServerResponse): void {
  if (ctx.cfg.metrics) ctx.send(res, 200, metricsText(ctx), null, METRICS_TYPE);
  else ctx.send(res, 404, NOT_FOUND_BODY, null, JSON_TYPE);
}

function metricsText(ctx: SimContext): string {
  const e = ctx.engine;
  return renderMetrics({
    model: ctx.cfg.model,
    running: e.running,
    waiting: e.waiting,
    kvCacheUsage: Math.min(1, e.runningTokens / (ctx.cfg.maxNumSeqs * 1024)),
    promptTokens: ctx.promptTokensTotal,
    generationTokens: ctx.generationTokensTotal,
    prefixCacheQueries: ctx.prefixCacheQueries,
    prefixCacheHits: ctx.prefixCacheHits,
    success: ctx.success,
  });
}
