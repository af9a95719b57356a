// Prometheus metrics of the runner itself (`--metrics-port`): rows by state, requests in flight
// and the limit per engine, request latency, tokens. Served on loopback by default.
import { createServer, type Server } from "node:http";

import { VbatchError } from "../errors.js";
import type { RunProgress } from "./progress.js";

export interface RunMetrics {
  observe(engine: string, latencyMs: number, status: number | null): void;
  close(): Promise<void>;
  url: string;
}

export async function startRunMetrics(
  port: number,
  host: string,
  progress: () => RunProgress,
): Promise<RunMetrics> {
  // Loaded for --metrics-port only, not by every run that starts.
  const prom = await import("prom-client");
  const registry = new prom.Registry();
  const m = declareMetrics(prom, registry);
  const server: Server = createServer((req, res) => {
    if (req.method !== "GET" || req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    refresh(m, progress());
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) =>
      reject(new VbatchError("usage", `--metrics-port ${port}: ${(err as Error).message}`, { cause: err })),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  return {
    url: `http://${host}:${actualPort}/metrics`,
    observe(engine, ms, status) {
      m.requests.inc({ engine, status: status === null ? "none" : String(status) });
      m.latency.observe({ engine }, ms / 1000);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type PromClient = typeof import("prom-client");
type Metrics = ReturnType<typeof declareMetrics>;

function declareMetrics(prom: PromClient, registry: InstanceType<PromClient["Registry"]>) {
  const gauge = (name: string, help: string, label: string) =>
    new prom.Gauge({ name, help, labelNames: [label], registers: [registry] });
  return {
    rows: gauge("vbatch_rows", "Rows of the job by state.", "state"),
    inFlight: gauge("vbatch_in_flight", "Requests in flight per engine.", "engine"),
    limit: gauge("vbatch_engine_limit", "Adaptive in-flight limit per engine.", "engine"),
    up: gauge("vbatch_engine_up", "1 while the engine is in the pool.", "engine"),
    tokens: gauge("vbatch_tokens", "Tokens of finished rows.", "kind"),
    prefix: new prom.Gauge({
      name: "vbatch_engine_prefix_cache_tokens",
      help: "Prompt tokens the engine looked up (queries) and found (hits) in its prefix cache during this job.",
      labelNames: ["engine", "kind"],
      registers: [registry],
    }),
    requests: new prom.Counter({
      name: "vbatch_requests_total",
      help: "Requests sent, by engine and HTTP status (none: no answer).",
      labelNames: ["engine", "status"],
      registers: [registry],
    }),
    latency: new prom.Histogram({
      name: "vbatch_request_duration_seconds",
      help: "Time from sending a request to its whole answer.",
      labelNames: ["engine"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
  };
}

/** The gauges, from the job's progress at the moment of a scrape. */
function refresh(m: Metrics, p: RunProgress): void {
  m.rows.set({ state: "succeeded" }, p.succeeded);
  m.rows.set({ state: "failed" }, p.failed);
  m.rows.set({ state: "invalid" }, p.invalid);
  m.rows.set({ state: "pending" }, Math.max(0, p.total - p.succeeded - p.failed));
  m.tokens.set({ kind: "prompt" }, p.promptTokens);
  m.tokens.set({ kind: "completion" }, p.completionTokens);
  for (const e of p.engines) {
    m.inFlight.set({ engine: e.url }, e.inFlight);
    m.limit.set({ engine: e.url }, e.limit);
    m.up.set({ engine: e.url }, e.up ? 1 : 0);
    if (e.prefixCache) {
      m.prefix.set({ engine: e.url, kind: "queries" }, e.prefixCache.queries);
      m.prefix.set({ engine: e.url, kind: "hits" }, e.prefixCache.hits);
    }
  }
}
