// What every route of the simulated server shares: its settings, fault plan and engine, the
// counters /sim/stats and /metrics report, and the one way an answer is written.
import { randomBytes } from "node:crypto";
import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { Engine, EngineJob } from "../engine.js";
import { type ErrorInfo, errorBody, invalidJson } from "../errors.js";
import type { FaultPlan } from "../faults.js";
import type { SimConfig } from "../options.js";
import { blockHashes, PrefixCache } from "../prefix-cache.js";
import type { Work } from "../requests.js";
import type { SimStats } from "../types.js";
import type { RequestKind } from "./kind.js";

export const JSON_TYPE = "application/json";
const STATUS_KEYS = ["200", "400", "404", "429", "500", "drop", "abort"];

/** A generation or embedding request in the engine, with what its answer needs. */
export class SimRequest extends EngineJob {
  constructor(
    readonly res: ServerResponse,
    readonly kind: RequestKind,
    readonly id: string,
    readonly work: Work,
  ) {
    super(work.durationMs, work.kvTokens);
  }
}

export class SimContext {
  readonly engine: Engine<SimRequest>;
  private readonly idPrefix = randomBytes(8).toString("hex");
  private seq = 0;

  lifetimeReceived = 0;
  received = 0;
  completed = 0;
  private byStatus: Record<string, number> = {};
  readonly keys: Map<string, number> | null;

  promptTokensTotal = 0;
  /** vllm:prefix_cache_queries / _hits: prompt tokens looked up, and found, in the prefix cache */
  prefixCacheQueries = 0;
  prefixCacheHits = 0;
  private readonly cache: PrefixCache | null;
  generationTokensTotal = 0;
  readonly success = { stop: 0, length: 0, abort: 0 };

  /** Closing: every answer from now on ends its connection. */
  closing = false;
  dead = false;

  constructor(
    readonly cfg: SimConfig,
    readonly faults: FaultPlan,
    onDone: (job: SimRequest) => void,
  ) {
    this.cache = cfg.prefixCacheBlocks > 0 ? new PrefixCache(cfg.prefixCacheBlocks) : null;
    const prefill = this.cache !== null || cfg.prefillTokenMs > 0 ? this.prefill : null;
    this.engine = new Engine<SimRequest>(cfg.maxNumSeqs, onDone, prefill);
    this.keys = cfg.trackRequests ? new Map() : null;
    this.clearStatus();
  }

  stats(): SimStats {
    const s: SimStats = {
      received: this.received,
      completed: this.completed,
      byStatus: { ...this.byStatus },
      ...this.engine.counters(),
      timeOrigin: performance.timeOrigin,
      prefixCacheQueries: this.prefixCacheQueries,
      prefixCacheHits: this.prefixCacheHits,
    };
    if (this.keys) s.requestsByKey = Object.fromEntries(this.keys);
    return s;
  }

  resetStats(): void {
    this.received = 0;
    this.completed = 0;
    this.clearStatus();
    this.keys?.clear();
    this.engine.resetCounters();
  }

  /**
   * As a request takes its slot: its prompt is looked up in the prefix cache (vLLM's scheduler
   * asks KVCacheManager.get_computed_blocks when it first schedules a request), and its slot time
   * grows by the prefill of the tokens not found.
   */
  private readonly prefill = (job: SimRequest): void => {
    const p = job.work.prefill;
    if (p === undefined || p === null) return;
    let computed = 0;
    if (this.cache === null) {
      for (const n of p.lengths) computed += n;
    } else {
      const ids = p.ids();
      for (let i = 0; i < ids.length; i++) {
        const tokens = p.lengths[i] as number;
        const hit = this.cache.lookup(blockHashes(ids[i] as number[]), tokens);
        this.prefixCacheQueries += tokens;
        this.prefixCacheHits += hit;
        computed += tokens - hit;
      }
    }
    job.durationMs += computed * this.cfg.prefillTokenMs;
  };

  count(key: string): void {
    this.byStatus[key] = (this.byStatus[key] ?? 0) + 1;
  }

  nextId(): string {
    this.seq++;
    return this.idPrefix + this.seq.toString(16).padStart(16, "0");
  }

  /** An error answer to a completion/embedding request: counted in byStatus. */
  fail(res: ServerResponse, info: ErrorInfo, requestId: string, extra?: OutgoingHttpHeaders): void {
    this.count(String(info.code));
    this.send(res, info.code, errorBody(this.cfg.errorFormat, info), requestId, JSON_TYPE, extra);
  }

  /** An error answer that is not counted (tokenize). */
  error(res: ServerResponse, info: ErrorInfo, requestId: string | null): void {
    this.send(res, info.code, errorBody(this.cfg.errorFormat, info), requestId, JSON_TYPE);
  }

  send(
    res: ServerResponse,
    status: number,
    body: string,
    requestId: string | null,
    contentType: string | null,
    extra?: OutgoingHttpHeaders,
  ): void {
    const headers: OutgoingHttpHeaders = { "content-length": Buffer.byteLength(body) };
    if (contentType !== null) headers["content-type"] = contentType;
    if (requestId !== null) headers["x-request-id"] = requestId;
    if (this.closing) headers.connection = "close";
    if (extra) Object.assign(headers, extra);
    res.writeHead(status, headers);
    res.end(body);
  }

  private clearStatus(): void {
    this.byStatus = {};
    for (const k of STATUS_KEYS) this.byStatus[k] = 0;
  }
}

/** vLLM's answer to a body that is not JSON, at the position the parser stopped. */
export function jsonError(err: unknown, raw: string): ErrorInfo {
  const message = err instanceof Error ? err.message : String(err);
  const at = /position (\d+)/.exec(message);
  const position = at?.[1] !== undefined ? Number(at[1]) : raw.length === 0 ? 0 : raw.length - 1;
  return invalidJson(position, raw.trim() === "" ? "Expecting value" : message.replace(/'/g, "\\'"));
}
