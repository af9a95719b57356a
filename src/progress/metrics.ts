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
  const { Counter, Gauge, Histogram, Registry } = await import("prom-client");
  const registry = new Registry();
  const rows = new Gauge({
    name: "vbatch_rows",
    help: "Rows of the job by state.",
    labelNames: ["state"],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: "vbatch_in_flight",
    help: "Requests in flight per engine.",
    labelNames: ["engine"],
    registers: [registry],
  });
  const limit = new Gauge({
    name: "vbatch_engine_limit",
    help: "Adaptive in-flight limit per engine.",
    labelNames: ["engine"],
    registers: [registry],
  });
  const up = new Gauge({
    name: "vbatch_engine_up",
    help: "1 while the engine is in the pool.",
    labelNames: ["engine"],
    registers: [registry],
  });
  const tokens = new Gauge({
    name: "vbatch_tokens",
    help: "Tokens of finished rows.",
    labelNames: ["kind"],
    registers: [registry],
  });
  const requests = new Counter({
    name: "vbatch_requests_total",
    help: "Requests sent, by engine and HTTP status (none: no answer).",
    labelNames: ["engine", "status"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "vbatch_request_duration_seconds",
    help: "Time from sending a request to its whole answer.",
    labelNames: ["engine"],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });
  const refresh = () => {
    const p = progress();
    rows.set({ state: "succeeded" }, p.succeeded);
    rows.set({ state: "failed" }, p.failed);
    rows.set({ state: "invalid" }, p.invalid);
    rows.set({ state: "pending" }, Math.max(0, p.total - p.succeeded - p.failed));
    tokens.set({ kind: "prompt" }, p.promptTokens);
    tokens.set({ kind: "completion" }, p.completionTokens);
    for (const e of p.engines) {
      inFlight.set({ engine: e.url }, e.inFlight);
      limit.set({ engine: e.url }, e.limit);
      up.set({ engine: e.url }, e.up ? 1 : 0);
    }
  };
  const server: Server = createServer((req, res) => {
    if (req.method !== "GET" || req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    refresh();
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
      requests.inc({ engine, status: status === null ? "none" : String(status) });
      latency.observe({ engine }, ms / 1000);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
