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
  /** The latest /metrics reading; set it through noteLoad. */
  metrics: EngineMetrics | null = null;
  /** The prefix cache's counters at the first reading: what this job made them is the rest. */
  prefixBase: { queries: number; hits: number } | null = null;
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
      this.noteLoad(metrics.status === 200 ? parseVllmLoad(metrics.text) : null);
    } catch {
      this.noteLoad(null);
    }
    return this.models;
  }

  /** Keeps a /metrics reading (null: none), and the prefix counters' baseline at the first. */
  noteLoad(load: EngineMetrics | null): void {
    this.metrics = load;
    const q = load?.prefixQueries;
    const h = load?.prefixHits;
    if (q === undefined || h === undefined) return;
    // An engine that restarted counts from zero again.
    if (this.prefixBase === null || q < this.prefixBase.queries) {
      this.prefixBase = this.prefixBase === null ? { queries: q, hits: h } : { queries: 0, hits: 0 };
    }
  }

  /** True when /metrics answered with vLLM's request gauges at discovery. */
  get hasVllmMetrics(): boolean {
    return this.metrics !== null;
  }
}
