// Picks the engine for the next request: the one with the most free room relative to its own
// limit, so a 1024-slot engine gets more than a 64-slot one and a fast one more than a slow one.
import type { Engine } from "./engine.js";

export class Router {
  constructor(readonly engines: Engine[]) {}

  /**
   * Total requests the pool may hold now (engines out of the pool count nothing). An engine that
   * holds more than its limit (the limit just dropped) counts what it holds, so its excess, which
   * drains at its own pace, does not eat the room of the others.
   */
  capacity(): number {
    let n = 0;
    for (const e of this.engines) if (e.health.up) n += Math.max(e.limit.current(), e.inFlight);
    return n;
  }

  /** Adds an engine that became ready during the run (launchers). */
  add(engine: Engine): void {
    this.engines.push(engine);
  }

  find(base: string): Engine | undefined {
    return this.engines.find((e) => e.base === base);
  }

  /** True when at least one engine is in the pool. */
  anyUp(): boolean {
    return this.engines.some((e) => e.health.up);
  }

  inFlight(): number {
    let n = 0;
    for (const e of this.engines) n += e.inFlight;
    return n;
  }

  /**
   * The engine with the most room, or undefined when every engine is full. `slotsOnly` (the end
   * of a job) sends rows only where a batch slot is free: a row queued behind a small engine
   * would finish after a big engine that is already idle.
   */
  pick(slotsOnly = false): Engine | undefined {
    let best: Engine | undefined;
    let bestRoom = 0;
    for (const e of this.engines) {
      const room = e.room(slotsOnly);
      if (room > bestRoom) {
        best = e;
        bestRoom = room;
      }
    }
    return best;
  }
}
