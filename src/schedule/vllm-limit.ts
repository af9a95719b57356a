// The adaptive limit for engines that publish vLLM's /metrics: steer the number in flight so the
// engine's running batch is full and its waiting queue small. Waiting > 0 proves the batch is
// full; the excess over a small target queue is handed back. Waiting = 0 with our limit used up
// means the engine could take more: grow, from a small first window (slow start), gently after.

import type { ConcurrencyLimit } from "./limit.js";
import type { VllmLoad } from "./prometheus.js";

export interface VllmLimitOptions {
  /**
   * The batch to expect before a scrape has shown one (vLLM's default max_num_seqs on smaller
   * cards): the slow start doubles the limit up to here, and grows it by half beyond.
   * @default 256
   */
  initial?: number;
  /**
   * Requests an engine gets before any scrape has shown how it takes them. Small, so a job spread
   * over many small engines does not pour itself into their waiting queues in the first tenth of
   * a second, where no later routing can move it.
   * @default 32
   */
  startWindow?: number;
  /** Never more than this. @default 4096 */
  max?: number;
  /** Never less than this. @default 1 */
  min?: number;
}

export class VllmMetricsLimit implements ConcurrencyLimit {
  private limit: number;
  private readonly max: number;
  private readonly min: number;
  private readonly expected: number;
  private slowStart = true;
  /** Most requests seen running at once: the engine's batch size once it has queued. */
  private peakRunning = 0;
  /**
   * Extra queue learnt from starvation: answers in transit (a burst of completions not yet
   * replaced) hold part of our limit outside the engine, so the queue must cover them.
   */
  private extra = 0;

  constructor(o: VllmLimitOptions = {}) {
    this.max = o.max ?? 4096;
    this.min = o.min ?? 1;
    this.expected = o.initial ?? 256;
    this.limit = Math.max(this.min, Math.min(this.max, this.expected, o.startWindow ?? 32));
  }

  current(): number {
    return this.limit;
  }

  /** True until the engine has first queued: the limit is still looking for the batch size. */
  get starting(): boolean {
    return this.slowStart;
  }

  /** In slow start with the whole limit out: the next scrape may double it, so it should come soon. */
  wantsScrapeSoon(inFlight: number): boolean {
    return this.slowStart && this.limit < this.max && inFlight >= this.limit * 0.9;
  }

  /** The queue to start from: enough that a freed slot does not idle for a round trip. */
  static targetWaiting(running: number): number {
    return Math.max(4, Math.ceil(running * 0.05));
  }

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
      // The batch is full at `running`: never allow less than that plus what is on its way to or
      // from the engine (a starved slot is the worst outcome), never more than the batch plus a
      // modest queue, whatever the scrape said.
      const transit = Math.max(0, inFlight - load.running - load.waiting);
      next = Math.max(next, load.running + transit + 1);
      next = Math.min(next, batch + transit + 2 * target);
    } else if (this.slowStart && inFlight >= this.limit * 0.9) {
      // No queue although we use our whole limit: the engine could take more. Grow from what it
      // reports running, not from what we sent: a scrape that lags a raise shows the old count
      // and does not raise again, and the first queue it shows is at most the batch itself.
      next = Math.max(this.limit, (this.limit < this.expected ? 2 : 1.5) * load.running);
    } else if (inFlight >= this.limit * 0.9 && load.running >= Math.min(this.limit * 0.9, batch)) {
      // No queue although the engine already holds what we allowed, or runs its whole batch: it
      // has free slots (the batch grew, KV cache freed up), or no queue to cover a freed slot.
      next = this.limit + Math.max(step, this.limit * 0.05);
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
