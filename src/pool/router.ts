// Picks the engine for the next request: the one with the most free room relative to its own
// limit, so a 1024-slot engine gets more than a 64-slot one and a fast one more than a slow one.
// A row with a prompt prefix key goes to the engine that took its prefix first, while that engine
// has room (its prefix cache holds the prefix); when it has none the row takes the most room, as
// any row does, so affinity never leaves a row waiting while another engine could run it.
import { FixedLimit } from "../schedule/limit.js";
import type { Engine } from "./engine.js";

/** Prefix keys remembered: rows of one prefix come together, so recent keys are the ones asked for. */
const MAX_KEYS = 4096;
/** How far past its limit an engine may queue rows of a prefix it holds, as a share of the limit. */
const AFFINITY_SLACK = 0.25;

export class Router {
  /** Rows waiting for an engine behind the one being placed (the dispatch queue sets it). */
  backlog = 0;
  /** Prefix key -> the engine that took its first row (insertion order: oldest first). */
  private readonly owners = new Map<number, Engine>();

  constructor(
    readonly engines: Engine[],
    /** Route rows sharing a prefix key to one engine. @default true */
    readonly affinity = true,
  ) {}

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
  pick(slotsOnly = false, key = 0): Engine | undefined {
    if (key !== 0 && this.affinity) return this.pickFor(key, slotsOnly);
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

  /**
   * The engine that holds `key`'s prefix while it has room, else the most room (which then also
   * holds it). Before the last wave the owner may also take a row into its own waiting queue, a
   * little past its limit (AFFINITY_SLACK): the row then waits for one of the owner's slots instead of prefilling the whole prefix again elsewhere. The queue's capacity counts
   * what an engine holds past its limit, so the engines with room still take the rows behind it; in
   * the last wave (every row read, fewer waiting than there are engines) the owner takes rows up to
   * its limit only, which keeps its queue as short as the limiter wants it.
   */
  private pickFor(key: number, slotsOnly: boolean): Engine | undefined {
    const owner = this.owners.get(key);
    if (owner !== undefined && owner.room(slotsOnly) > 0) return owner;
    const best = this.pick(slotsOnly);
    // A fixed --concurrency is what the user allows an engine: never past it.
    if (owner?.health.up && !(owner.limit instanceof FixedLimit)) {
      const limit = owner.limit.current();
      // In the last wave the owner's queue may hold rows up to its limit, no further.
      const lastWave = slotsOnly && this.backlog < this.engines.length;
      const slack = lastWave ? 0 : Math.max(4, Math.ceil(limit * AFFINITY_SLACK));
      if (owner.inFlight < limit + slack) return owner;
    }
    if (best !== undefined && owner === undefined) {
      if (this.owners.size >= MAX_KEYS) this.owners.delete(this.owners.keys().next().value as number);
      this.owners.set(key, best);
    }
    return best;
  }
}
