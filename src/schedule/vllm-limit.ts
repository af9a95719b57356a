// The adaptive limit for engines that publish vLLM's /metrics: steer the number in flight so the
// engine's running batch is full and its waiting queue small. Waiting > 0 proves the batch is
// full; the excess over a small target queue is handed back. Waiting = 0 with our limit used up
// means the engine could take more: grow, fast at first (slow start), gently after.

import type { ConcurrencyLimit } from "./limit.js";
import type { VllmLoad } from "./prometheus.js";

export interface VllmLimitOptions {
  /** Limit before the first scrape: vLLM's default max_num_seqs on smaller cards. @default 256 */
  initial?: number;
  /** Never more than this. @default 4096 */
  max?: number;
  /** Never less than this. @default 1 */
  min?: number;
}

export class VllmMetricsLimit implements ConcurrencyLimit {
  private limit: number;
  private readonly max: number;
  private readonly min: number;
  private slowStart = true;
  /** Most requests seen running at once: the engine's batch size once it has queued. */
  private peakRunning = 0;

  constructor(o: VllmLimitOptions = {}) {
    this.max = o.max ?? 4096;
    this.min = o.min ?? 1;
    this.limit = Math.min(this.max, o.initial ?? 256);
  }

  current(): number {
    return this.limit;
  }

  /** Requests the engine should keep waiting so a freed slot never idles for a round trip. */
  static targetWaiting(running: number): number {
    return Math.max(4, Math.ceil(running * 0.04));
  }

  /** One scrape of the engine's load, with how many of our requests it holds now. */
  onLoad(load: VllmLoad, inFlight: number): void {
    this.peakRunning = Math.max(this.peakRunning, load.running);
    const target = VllmMetricsLimit.targetWaiting(Math.max(load.running, this.peakRunning));
    let next = this.limit;
    if (load.waiting > 0) {
      this.slowStart = false;
      // Proportional step towards the target queue; most of the error, not all, to damp noise.
      next = this.limit + 0.7 * (target - load.waiting);
      // Never hold more than the batch plus a modest queue, whatever the scrape said.
      next = Math.min(next, Math.max(load.running, this.peakRunning) + 4 * target);
    } else if (load.running >= this.limit * 0.9 && inFlight >= this.limit * 0.9) {
      // No queue although the engine already holds what we allowed: it has free slots. (Judged
      // on what the engine reports, not on what we sent, so a scrape that lags a raise does not
      // raise again.)
      next = this.slowStart ? this.limit * 1.5 : this.limit + Math.max(target, this.limit * 0.05);
    }
    this.limit = Math.round(Math.min(this.max, Math.max(this.min, next)));
  }

  onResult(): void {}

  describe(): string {
    return this.slowStart ? "adaptive (vLLM metrics, starting)" : "adaptive (vLLM metrics)";
  }
}
