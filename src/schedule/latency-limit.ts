// The adaptive limit for servers without vLLM's /metrics: grow while latency holds, back off
// when it climbs (requests are queueing inside the server) or when the server pushes back with
// 429/503/timeouts. A gradient limiter in the spirit of Netflix's concurrency-limits.
import type { ConcurrencyLimit } from "./limit.js";

export interface LatencyLimitOptions {
  /** @default 32 */
  initial?: number;
  /** @default 4096 */
  max?: number;
  /** @default 1 */
  min?: number;
  /** Latency may rise this much over the best seen before the limit shrinks. @default 1.5 */
  tolerance?: number;
  /** Results per adjustment window. @default max(16, limit/2) */
  window?: number;
}

export class LatencyLimit implements ConcurrencyLimit {
  private limit: number;
  private readonly max: number;
  private readonly min: number;
  private readonly tolerance: number;
  private readonly fixedWindow: number | undefined;
  private samples: number[] = [];
  private overloaded = false;
  private bestLatency = Number.POSITIVE_INFINITY;
  private slowStart = true;
  /** Results since the last overload, for the slow decay of the best latency seen. */
  private windows = 0;
  /** Whether the limit was nearly used in this window: growing an unused limit proves nothing. */
  private utilized = false;

  constructor(o: LatencyLimitOptions = {}) {
    this.max = o.max ?? 4096;
    this.min = o.min ?? 1;
    this.limit = Math.min(this.max, o.initial ?? 32);
    this.tolerance = o.tolerance ?? 1.5;
    this.fixedWindow = o.window;
  }

  current(): number {
    return this.limit;
  }

  onResult(latencyMs: number, overloaded: boolean, inFlight: number): void {
    if (overloaded) this.overloaded = true;
    else this.samples.push(latencyMs);
    if (inFlight >= this.limit * 0.8) this.utilized = true;
    const window = this.fixedWindow ?? Math.max(16, Math.floor(this.limit / 2));
    if (this.samples.length + (this.overloaded ? window : 0) < window) return;
    this.adjust();
  }

  private adjust(): void {
    if (this.overloaded) {
      this.slowStart = false;
      this.limit = Math.max(this.min, Math.floor(this.limit * 0.7));
    } else {
      const sorted = this.samples.sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)] as number;
      // The no-load latency drifts (prompts change): let the best seen age upward slowly.
      this.windows++;
      if (this.windows % 20 === 0) this.bestLatency *= 1.1;
      this.bestLatency = Math.min(this.bestLatency, median);
      const ratio = (this.bestLatency * this.tolerance) / median;
      if (ratio >= 1 && !this.utilized) {
        // Latency holds but the limit was not the constraint: leave it.
      } else if (ratio >= 1) {
        const grow = this.slowStart ? this.limit : Math.max(1, Math.sqrt(this.limit));
        this.limit = Math.min(this.max, Math.round(this.limit + grow));
      } else {
        this.slowStart = false;
        this.limit = Math.max(this.min, Math.round(this.limit * Math.max(0.5, ratio)));
      }
    }
    this.samples = [];
    this.overloaded = false;
    this.utilized = false;
  }

  describe(): string {
    return "adaptive (latency)";
  }
}
