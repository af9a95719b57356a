// Where each request goes and when: one p-queue whose concurrency follows the engines' limits,
// the reservation of room on an engine in the same tick as the pick, the wait (up to
// --engine-wait) while every engine is out of the pool, the failures that take an engine out, and
// the rows waiting out a retry's backoff before they re-enter the queue.
import PQueue from "p-queue";
import type { Logger } from "pino";
import { isEngineFailure } from "../client/retry.js";
import { TransportFailure, type WireResponse } from "../client/wire.js";
import { VbatchError } from "../errors.js";
import type { Engine } from "../pool/engine.js";
import type { Router } from "../pool/router.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface DispatchOptions {
  router: Router;
  /** How long to wait for an engine when every engine is down, before giving up. */
  engineWaitMs: number;
  /** An engine came back into the pool (e.g. to give it a fresh adaptive limit). */
  onEngineUp?: ((engine: Engine) => void) | undefined;
  logger?: Logger | undefined;
}

export class Dispatch {
  readonly queue: PQueue;
  private allDownSince: number | null = null;
  /** Pending retries and how many rows each carries. */
  private readonly retryTimers = new Map<NodeJS.Timeout, number>();

  constructor(private readonly o: DispatchOptions) {
    this.queue = new PQueue({ concurrency: Math.max(1, o.router.capacity()) });
  }

  get router(): Router {
    return this.o.router;
  }

  /** Since when every engine has been out of the pool, for progress and --engine-wait. */
  get allEnginesDownSince(): number | null {
    return this.allDownSince;
  }

  /** Re-reads the engines' limits into the queue (called when limits move). */
  syncCapacity(): void {
    const cap = Math.max(1, this.o.router.capacity());
    if (this.queue.concurrency !== cap) this.queue.concurrency = cap;
  }

  /**
   * Picks an engine and counts the request against it in the same tick: hundreds of tasks start
   * together, and a pick that yields before counting would send them all to the same engine.
   * `endgame` (every row read): queueing at an engine then only lengthens the tail of the job.
   */
  reserve(endgame: boolean, key = 0): Engine | undefined {
    this.o.router.backlog = this.queue.size;
    const engine = this.o.router.pick(endgame && this.o.router.engines.length > 1, key);
    if (engine) engine.inFlight++;
    return engine;
  }

  /**
   * Waits for room (or for an engine to come back), then reserves it. Undefined when `stopping`
   * turns true; throws engine_unavailable after engineWaitMs with every engine down.
   */
  async waitForEngine(endgame: () => boolean, stopping: () => boolean, key = 0): Promise<Engine | undefined> {
    for (;;) {
      const engine = this.reserve(endgame(), key);
      if (engine || stopping()) return engine;
      if (this.o.router.anyUp()) {
        this.allDownSince = null;
        await sleep(5);
        continue;
      }
      const now = Date.now();
      if (this.allDownSince === null) {
        this.allDownSince = now;
        this.o.logger?.warn(
          { wait_s: Math.round(this.o.engineWaitMs / 1000) },
          "every engine is down; waiting for one to come back",
        );
      } else if (now - this.allDownSince > this.o.engineWaitMs) {
        throw new VbatchError(
          "engine_unavailable",
          `every engine has been down for ${Math.round(this.o.engineWaitMs / 1000)} s (--engine-wait); progress is saved, re-run the same command to resume`,
        );
      }
      await sleep(50);
    }
  }

  /** Counts an engine-level failure; takes the engine out after several and probes it back in. */
  noteResult(engine: Engine, result: WireResponse | TransportFailure): void {
    if (!isEngineFailure(result instanceof TransportFailure ? null : result.status)) {
      engine.health.noteSuccess();
      return;
    }
    if (!engine.health.noteFailure()) return;
    this.o.logger?.warn(
      {
        engine: engine.base,
        in_flight: engine.inFlight,
        reason: result instanceof TransportFailure ? result.message : `HTTP ${result.status}`,
      },
      "engine failing; taken out of the pool, its rows go elsewhere",
    );
    this.probeBack(engine);
  }

  /** Probes an engine that is out of the pool until it is healthy, then uses it again. */
  probeBack(engine: Engine): void {
    this.syncCapacity();
    engine.health.probe(
      () => {
        this.o.onEngineUp?.(engine);
        this.syncCapacity();
      },
      { logger: this.o.logger },
    );
  }

  /** Stops every probe: a stopping run sends nothing more. */
  stopProbes(): void {
    for (const e of this.o.router.engines) e.health.stop();
  }

  /** After `delayMs`, `enqueue` puts a retried job (of `rows` rows) back in the queue. */
  retryLater(rows: number, delayMs: number, enqueue: () => void): void {
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      enqueue();
    }, delayMs);
    this.retryTimers.set(timer, rows);
  }

  /** Cancels every pending retry; returns how many rows they carried. */
  cancelRetries(): number {
    let rows = 0;
    for (const [t, n] of this.retryTimers) {
      clearTimeout(t);
      rows += n;
    }
    this.retryTimers.clear();
    return rows;
  }
}
