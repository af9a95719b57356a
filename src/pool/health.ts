// Takes an engine out of the pool when it keeps failing (refused connections, timeouts, 5xx)
// and brings it back once its /health answers again. Probing backs off so a dead engine costs
// almost nothing while the others work.
import type { Logger } from "pino";
import type { Transport } from "../client/wire.js";

/** Consecutive failures (with no success between) that take an engine out. */
export const FAILURES_TO_EVICT = 3;

export interface ProbeOptions {
  /** First wait between probes. @default 250 */
  initialMs?: number;
  /** Longest wait between probes. @default 5000 */
  maxMs?: number;
  logger?: Logger | undefined;
}

/** What a probe needs of its engine (an Engine; kept this small so engine.ts can own a health). */
export interface ProbeTarget {
  readonly base: string;
  readonly transport: Pick<Transport, "getText">;
  /** Asks the engine again what it serves, before it is re-admitted. */
  discover(timeoutMs: number): Promise<unknown>;
}

export class EngineHealth {
  up = true;
  consecutiveFailures = 0;
  private stopProbe: (() => void) | undefined;

  constructor(private readonly engine: ProbeTarget) {}

  noteSuccess(): void {
    this.consecutiveFailures = 0;
  }

  /** Returns true when this failure took the engine out of the pool. */
  noteFailure(): boolean {
    this.consecutiveFailures++;
    if (!this.up || this.consecutiveFailures < FAILURES_TO_EVICT) return false;
    this.up = false;
    return true;
  }

  /** Probes /health with backoff until it answers 200, then re-admits the engine. */
  probe(onUp: () => void, o: ProbeOptions = {}): void {
    this.stopProbe?.();
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let wait = o.initialMs ?? 250;
    const tick = async () => {
      if (stopped) return;
      try {
        const { status } = await this.engine.transport.getText("/health", 5000);
        if (status === 200 && !stopped) {
          await this.engine.discover(5000);
          this.up = true;
          this.consecutiveFailures = 0;
          this.stopProbe = undefined;
          o.logger?.info({ engine: this.engine.base }, "engine healthy again; back in the pool");
          onUp();
          return;
        }
      } catch {
        // still down
      }
      if (stopped) return;
      wait = Math.min(o.maxMs ?? 5000, wait * 2);
      timer = setTimeout(tick, wait);
      timer.unref();
    };
    timer = setTimeout(tick, wait);
    timer.unref();
    this.stopProbe = () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }

  stop(): void {
    this.stopProbe?.();
    this.stopProbe = undefined;
  }
}
