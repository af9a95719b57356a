// One vLLM (or OpenAI-compatible) server: its transport, what it serves, how many of our
// requests it holds, and the limit that decides how many it may hold.
import { EngineAnswered } from "../client/engine-problem.js";
import { HttpTransport } from "../client/http-transport.js";
import { SdkTransport } from "../client/sdk-transport.js";
import type { Transport } from "../client/wire.js";
import { isPlainObject } from "../input/row.js";
import type { ConcurrencyLimit } from "../schedule/limit.js";
import { parseVllmLoad, type VllmLoad } from "../schedule/prometheus.js";
import { EngineHealth } from "./health.js";

export type TransportKind = "http" | "sdk";

export interface ModelInfo {
  id: string;
  maxModelLen: number | null;
}

export type EngineMetrics = VllmLoad;

export class Engine {
  readonly base: string;
  readonly transport: Transport;
  /** Replaced once discovery knows whether the engine publishes vLLM's metrics. */
  limit: ConcurrencyLimit;
  inFlight = 0;
  models: ModelInfo[] = [];
  metrics: EngineMetrics | null = null;
  sent = 0;
  succeeded = 0;
  failed = 0;
  readonly health: EngineHealth = new EngineHealth(this);

  constructor(
    base: string,
    limit: ConcurrencyLimit,
    options: { kind: TransportKind; apiKey?: string | undefined; timeoutMs: number; maxConnections: number },
  ) {
    this.base = base;
    this.limit = limit;
    const topts = {
      base,
      apiKey: options.apiKey,
      timeoutMs: options.timeoutMs,
      connections: options.maxConnections,
    };
    this.transport = options.kind === "sdk" ? new SdkTransport(topts) : new HttpTransport(topts);
  }

  /**
   * Free room relative to the limit (1 = idle, 0 = full); 0 while out of the pool. With
   * `slotsOnly`, room counts free batch slots only, not room in the engine's waiting queue.
   */
  room(slotsOnly = false): number {
    if (!this.health.up) return 0;
    const limit = this.limit.current();
    const cap = slotsOnly ? Math.min(limit, this.limit.batchSize?.() ?? limit) : limit;
    return cap <= 0 ? 0 : (cap - this.inFlight) / cap;
  }

  /**
   * Asks the engine what it serves; throws TransportFailure if it does not answer, EngineAnswered
   * if it answers anything but 200.
   */
  async discover(timeoutMs = 10_000): Promise<ModelInfo[]> {
    const { status, json } = await this.transport.getJson("/v1/models", timeoutMs);
    if (status !== 200) {
      throw new EngineAnswered(status, "/v1/models");
    }
    const data = isPlainObject(json) && Array.isArray(json.data) ? json.data : [];
    this.models = data.filter(isPlainObject).map((m) => ({
      id: String(m.id),
      maxModelLen: typeof m.max_model_len === "number" ? m.max_model_len : null,
    }));
    try {
      const metrics = await this.transport.getText("/metrics", timeoutMs);
      this.metrics = metrics.status === 200 ? parseVllmLoad(metrics.text) : null;
    } catch {
      this.metrics = null;
    }
    return this.models;
  }

  /** True when /metrics answered with vLLM's request gauges at discovery. */
  get hasVllmMetrics(): boolean {
    return this.metrics !== null;
  }
}
