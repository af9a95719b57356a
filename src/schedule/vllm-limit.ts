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

  /** The queue to start from: enough that a freed slot does not idle for a round trip. */
  static targetWaiting(running: number): number {
    return Math.max(4, Math.ceil(running * 0.05));
  }

  /**
   * Extra queue learnt from starvation: answers in transit (a burst of completions not yet
   * replaced) hold part of our limit outside the engine, so the queue must cover them.
   */
  private extra = 0;

  /** One scrape of the engine's load, with how many of our requests it holds now. */
  onLoad(load: VllmLoad, inFlight: number): void {
    this.peakRunning = Math.max(this.peakRunning, load.running);
    const batch = Math.max(load.running, this.peakRunning);
    const step = VllmMetricsLimit.targetWaiting(batch);
    const target = step + this.extra;
    let next = this.limit;
    if (load.waiting > 0) {
      // Let the learnt extra queue decay slowly, so it tracks the least that avoids starving.
      this.extra *= 0.98;
      this.slowStart = false;
      // Move most of the way towards "the batch plus the target queue". Steering the limit, not
      // the scraped queue, keeps a scrape that lags our last cut from cutting again.
      next = this.limit + 0.7 * (load.running + target - this.limit);
      // The batch is full at `running`: never allow less than that (a starved slot is the worst
      // outcome), never more than the batch plus a modest queue, whatever the scrape said.
      next = Math.max(next, load.running + 1);
      next = Math.min(next, batch + 2 * target);
    } else if (load.running >= this.limit * 0.9 && inFlight >= this.limit * 0.9) {
      // No queue although the engine already holds what we allowed: it has free slots. (Judged
      // on what the engine reports, not on what we sent, so a scrape that lags a raise does not
      // raise again.)
      next = this.slowStart ? this.limit * 1.5 : this.limit + Math.max(step, this.limit * 0.05);
    } else if (!this.slowStart && inFlight >= this.limit * 0.9 && load.running < this.peakRunning) {
      // Slots idle while we are at our limit: part of it is in transit. Hold a deeper queue,
      // up to half the batch.
      this.extra = Math.min(this.extra + 2 * step, batch * 0.5 - step);
      next = this.limit + 2 * step;
    }
    this.limit = Math.round(Math.min(this.max, Math.max(this.min, next)));
  }

  onResult(): void {}

  batchSize(): number | null {
    return this.peakRunning > 0 ? this.peakRunning : null;
  }

  describe(): string {
    return this.slowStart ? "adaptive (vLLM metrics, starting)" : "adaptive (vLLM metrics)";
  }
}
