// The Launch behind every kind: one loop per engine that starts it, reports it ready, notices
// when it is lost and restarts it (a bounded number of times), and a teardown that runs once.
// A process "exit" hook force-stops everything if vbatch exits without stop() (second Ctrl-C).
import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { VbatchError } from "../errors.js";
import { type Attempt, attemptStart } from "./attempt.js";
import type { Driver, EngineSlot, StartedEngine } from "./driver.js";
import type { ResolvedLaunch } from "./options.js";
import type { EngineGroupRecord, Launch, LaunchedEngine } from "./types.js";

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve: (v: T) => void = () => {};
  let reject: (e: unknown) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // rejection is for whoever asks; nobody asking is fine
  return { promise, resolve, reject };
}

export class Supervisor implements Launch {
  private readonly events = new EventEmitter();
  private readonly ready = new Map<number, LaunchedEngine>();
  /** Engines up right now, and (after stop with keep) the ones left running. */
  private readonly current = new Map<number, { started: StartedEngine; engine: LaunchedEngine }>();
  private readonly failures: { slot: EngineSlot; reason: string; details: string[] }[] = [];
  private readonly abort = new AbortController();
  private readonly aborted: Promise<void>;
  private readonly first = deferred<LaunchedEngine>();
  private readonly settled = deferred<LaunchedEngine[]>();
  private unsettled: number;
  private loops: Promise<void>[] = [];
  private stopping: Promise<void> | undefined;
  private graceMs = 10_000;
  private keepOnStop: boolean;
  private readonly exitHook = () => this.stopNow();

  constructor(
    private readonly driver: Driver,
    private readonly slots: EngineSlot[],
    private readonly r: ResolvedLaunch,
  ) {
    this.unsettled = slots.length;
    this.keepOnStop = r.keep;
    this.aborted = new Promise((resolve) => this.abort.signal.addEventListener("abort", () => resolve()));
  }

  /** Starts every engine's loop; returns at once. */
  start(): void {
    if (!this.r.keep) process.on("exit", this.exitHook);
    this.loops = this.slots.map((slot) =>
      this.loop(slot).catch((err: unknown) => {
        this.r.logger.error({ engine: slot.name, err: (err as Error).message }, "engine supervision failed");
        this.settle(slot, { kind: "failed", reason: (err as Error).message, details: [] });
      }),
    );
  }

  on(event: "ready", cb: (e: LaunchedEngine) => void): void;
  on(event: "lost", cb: (e: LaunchedEngine, reason: string) => void): void;
  on(
    event: "ready" | "lost",
    cb: ((e: LaunchedEngine) => void) | ((e: LaunchedEngine, reason: string) => void),
  ): void {
    this.events.on(event, cb);
  }

  private emit(event: "ready" | "lost", ...args: unknown[]): void {
    for (const cb of this.events.listeners(event)) {
      try {
        (cb as (...a: unknown[]) => void)(...args);
      } catch (err) {
        this.r.logger.error({ event, err: (err as Error).message }, "a launch listener threw");
      }
    }
  }

  firstReady(): Promise<LaunchedEngine> {
    return this.first.promise;
  }

  allSettled(): Promise<LaunchedEngine[]> {
    return this.settled.promise;
  }

  engines(): LaunchedEngine[] {
    return [...this.ready.entries()].sort((a, b) => a[0] - b[0]).map(([, e]) => e);
  }

  /** Counts an engine's first outcome; rejects firstReady once every engine failed. */
  private settle(slot: EngineSlot, a: Attempt): void {
    if (a.kind === "failed") {
      this.failures.push({ slot, reason: a.reason, details: a.details });
      this.r.logger.error({ engine: slot.name }, `engine failed to start: ${a.reason}`);
    }
    this.unsettled--;
    if (this.unsettled > 0) return;
    this.settled.resolve(this.engines());
    if (this.ready.size === 0 && this.failures.length > 0) this.first.reject(this.startError());
  }

  private startError(): VbatchError {
    const only = this.failures.length === 1 ? this.failures[0] : undefined;
    if (only) {
      const gpus = only.slot.gpus.length > 0 ? ` (GPUs ${only.slot.gpus.join(",")})` : "";
      return new VbatchError(
        "engine_unavailable",
        `engine ${only.slot.name}${gpus} failed to start: ${only.reason}`,
        {
          details: only.details,
        },
      );
    }
    const details = this.failures.flatMap((f) => [
      `${f.slot.name}: ${f.reason}`,
      ...f.details.map((d) => `  ${d}`),
    ]);
    return new VbatchError("engine_unavailable", `none of the ${this.failures.length} engines started`, {
      details,
    });
  }

  private async release(started: StartedEngine | undefined): Promise<void> {
    if (!started) return;
    if (this.keepOnStop) started.detach();
    else await started.stop(this.graceMs);
  }

  private async loop(slot: EngineSlot): Promise<void> {
    const max = this.r.maxRestarts;
    let restarts = 0;
    let everReady = false;
    for (;;) {
      const a = await attemptStart(this.driver, slot, this.r, this.abort.signal);
      if (a.kind === "stopped") {
        if (!everReady) this.settle(slot, a);
        return this.release(a.started);
      }
      if (a.kind === "failed") {
        if (!everReady) return this.settle(slot, a);
        this.r.logger.error({ engine: slot.name, details: a.details }, `restart failed: ${a.reason}`);
        if (restarts >= max) {
          this.r.logger.error({ engine: slot.name }, `giving up on ${slot.name} (--max-restarts ${max})`);
          return;
        }
        restarts++;
        await this.pause(restarts);
        continue;
      }
      const { started, engine } = a;
      this.current.set(slot.index, { started, engine });
      this.ready.set(slot.index, engine);
      this.r.logger.info({ engine: engine.name, url: engine.url }, "engine ready");
      this.emit("ready", engine);
      if (!everReady) {
        everReady = true;
        this.first.resolve(engine);
        this.settle(slot, a);
      }
      const why = await Promise.race([started.exited, this.aborted.then(() => undefined)]);
      this.ready.delete(slot.index);
      if (why === undefined) return this.release(started);
      this.current.delete(slot.index);
      const again = restarts < max;
      const reason = `${why}; ${again ? `restarting (${restarts + 1}/${max})` : `not restarting: no restarts left (--max-restarts ${max})`}`;
      this.r.logger.warn({ engine: engine.name }, `engine lost: ${reason}`);
      this.emit("lost", engine, reason);
      // Its workers may outlive the leader; they hold GPU memory a restart needs.
      await started.stop(this.graceMs);
      if (!again) return;
      restarts++;
      await this.pause(restarts);
    }
  }

  private async pause(restarts: number): Promise<void> {
    await sleep(Math.min(500 * 2 ** (restarts - 1), 10_000), undefined, { signal: this.abort.signal }).catch(
      () => undefined,
    );
  }

  stop(options: { graceMs?: number; keep?: boolean } = {}): Promise<void> {
    this.stopping ??= this.shutdown(options.graceMs ?? 10_000, options.keep ?? this.r.keep);
    return this.stopping;
  }

  private async shutdown(graceMs: number, keep: boolean): Promise<void> {
    this.graceMs = graceMs;
    this.keepOnStop = keep;
    this.abort.abort();
    await Promise.all(this.loops);
    this.ready.clear();
    if (!keep) this.current.clear();
    process.off("exit", this.exitHook);
    this.first.reject(new VbatchError("interrupted", "stopped before any engine was ready"));
    this.settled.resolve([]);
  }

  stopNow(): void {
    if (this.keepOnStop && this.stopping) return;
    this.driver.stopAllNow();
  }

  record(name: string): EngineGroupRecord {
    const engines = [...this.current.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([, { started, engine }]) => ({
        name: engine.name,
        url: engine.url,
        gpus: engine.gpus,
        ...started.record(),
      }));
    const rec: EngineGroupRecord = {
      version: 1,
      name,
      kind: this.r.kind,
      model: this.r.model,
      createdAt: new Date().toISOString(),
      engines,
    };
    if (this.r.kind === "docker" && this.r.dockerHost) rec.dockerHost = this.r.dockerHost;
    if (this.r.kind === "modal") rec.modalApp = this.r.modalApp;
    return rec;
  }

  keepInstructions(): string[] {
    return [...this.current.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([, c]) => c.started.keepInstruction());
  }
}
