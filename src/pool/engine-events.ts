// Engines that come and go while a job runs: a launcher reports one ready (it joins the pool, or
// is probed back in) or lost (its rows go elsewhere). Events that arrive before the runner exists
// wait, and are replayed once it does.
import type { Logger } from "pino";
import { normalizeEndpoint } from "../client/endpoint.js";
import type { EngineHint, EngineSource } from "../job/options.js";
import type { Engine } from "./engine.js";
import { createEngine, type EnginePoolOptions } from "./engines.js";
import type { Router } from "./router.js";

type EngineEvent =
  | { kind: "ready"; url: string; hint: EngineHint }
  | { kind: "lost"; url: string; reason: string };

/** What the events change: the send loop's pool (the Runner), seen only through what they need. */
export interface PoolUser {
  readonly router: Router;
  /** Probes a lost engine until its /health answers, then re-admits it. */
  probeBack(e: Engine): void;
  /** The pool's capacity changed. */
  syncCapacity(): void;
}

export interface EngineEventsOptions {
  engineOptions: Omit<EnginePoolOptions, "endpoints">;
  hints: Map<string, EngineHint>;
  /** Gives a newly discovered (or re-admitted) engine its limit. */
  setLimit: (e: Engine) => void;
  /** Starts watching a new engine's /metrics. */
  watch: (e: Engine) => void;
  logger?: Logger | undefined;
}

export class EngineEvents {
  private readonly early: EngineEvent[] = [];
  private runner: PoolUser | undefined;

  constructor(
    source: EngineSource | undefined,
    private readonly o: EngineEventsOptions,
  ) {
    source?.on("ready", (e) => this.handle({ kind: "ready", url: e.url, hint: e }));
    source?.on("lost", (e, reason) => this.handle({ kind: "lost", url: e.url, reason }));
  }

  /** From now on events go to `runner`; those that came before are replayed. */
  attach(runner: PoolUser): void {
    this.runner = runner;
    for (const ev of this.early.splice(0)) this.handle(ev);
  }

  private handle(ev: EngineEvent): void {
    const r = this.runner;
    if (!r) {
      this.early.push(ev);
      return;
    }
    const log = this.o.logger;
    const base = normalizeEndpoint(ev.url);
    const known = r.router.find(base);
    if (ev.kind === "lost") {
      if (known?.health.up) {
        log?.warn({ engine: base, reason: ev.reason }, "launcher lost an engine; its rows go elsewhere");
        known.health.up = false;
        r.probeBack(known);
      }
      return;
    }
    if (ev.hint.maxInFlight !== undefined || ev.hint.loadBalanced !== undefined)
      this.o.hints.set(base, ev.hint);
    if (known) {
      if (!known.health.up) r.probeBack(known); // re-admitted on its first healthy probe
      return;
    }
    const e = createEngine(base, this.o.engineOptions);
    e.discover().then(
      () => {
        this.o.setLimit(e);
        r.router.add(e);
        this.o.watch(e);
        r.syncCapacity();
        log?.info({ engine: base }, "engine joined the pool");
      },
      (err: unknown) => log?.warn({ engine: base, err: (err as Error).message }, "new engine did not answer"),
    );
  }
}
