// Runs batches: each is validated as soon as it is created, then waits for a run slot; slots go
// in creation order, `maxConcurrentBatches` at once. Cancel and expiry stop a batch wherever it is
// (validating, queued or running); a restarted server picks up every unfinished batch.
import { rm } from "node:fs/promises";
import type { JobContext } from "../job-context.js";
import { type BatchRecord, isFinal } from "../store/batches.js";
import { type ActiveBatch, execute, expiredRows, validate } from "./execute.js";
import { batchPaths, failureEntries, finishBatch, type Outcome } from "./finish.js";
import { finalizeOffline, settleOutputs } from "./outputs.js";

const MAX_TIMER_MS = 2 ** 31 - 1;

export class BatchScheduler {
  /** Validated batches waiting for a slot, lowest seq first. */
  private queue: BatchRecord[] = [];
  private readonly active = new Map<string, ActiveBatch>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly tasks = new Set<Promise<void>>();
  private running = 0;
  private closed = false;

  constructor(private readonly ctx: JobContext) {}

  /** Picks up what a previous process left unfinished (after a crash or kill -9). */
  recover(): void {
    for (const b of this.ctx.batches.unfinished()) {
      this.ctx.log?.info({ batch: b.id, status: b.status }, "resuming batch");
      if (b.status === "cancelling") {
        this.track(async () => {
          settleOutputs(batchPaths(this.ctx, b));
          await finishBatch(this.ctx, b.id, "cancelled");
        });
        continue;
      }
      this.armExpiry(b);
      if (b.status === "validating") this.startValidation(b);
      else this.enqueue(b);
    }
  }

  submit(id: string): void {
    const b = this.ctx.batches.get(id);
    if (!b || this.closed) return;
    this.armExpiry(b);
    this.startValidation(b);
  }

  /** "ok" when cancelled or cancelling; "ended" when it had already ended otherwise. */
  cancel(id: string): "ok" | "ended" {
    const b = this.ctx.batches.get(id);
    if (!b) return "ended";
    if (b.status === "cancelling" || b.status === "cancelled") return "ok";
    if (isFinal(b.status)) return "ended";
    this.ctx.batches.update(id, { status: "cancelling", cancelling_at: Date.now() });
    this.clearExpiry(id);
    const active = this.active.get(id);
    if (active) {
      active.reason ??= "cancel";
      active.controller.abort();
    } else if (!this.closed) {
      // Queued (or between phases): nothing is running it, so it ends here.
      this.dequeue(id);
      this.track(() => finishBatch(this.ctx, id, "cancelled"));
    }
    return "ok";
  }

  /** Stops every batch without ending it; a restart resumes them. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const a of this.active.values()) {
      a.reason ??= "shutdown";
      a.controller.abort();
    }
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }

  private track(fn: () => Promise<void>): void {
    const p = fn().catch((err: unknown) => {
      this.ctx.log?.error({ err: (err as Error)?.message }, "batch task failed");
    });
    this.tasks.add(p);
    void p.finally(() => this.tasks.delete(p));
  }

  private armExpiry(b: BatchRecord): void {
    this.clearExpiry(b.id);
    const wait = b.expires_at - Date.now();
    const t = setTimeout(
      () => (wait > MAX_TIMER_MS ? this.armExpiry(b) : this.expire(b.id)),
      Math.max(0, Math.min(wait, MAX_TIMER_MS)),
    );
    t.unref();
    this.timers.set(b.id, t);
  }

  private clearExpiry(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }

  private expire(id: string): void {
    this.timers.delete(id);
    const b = this.ctx.batches.get(id);
    if (!b || isFinal(b.status) || b.status === "cancelling" || this.closed) return;
    this.ctx.log?.info({ batch: id }, "completion window passed");
    const active = this.active.get(id);
    if (active) {
      active.reason ??= "expire";
      // runBatch asks finalizePending when the run stops: unfinished rows become batch_expired.
      active.controller.abort();
    } else {
      this.dequeue(id);
      this.track(async () => {
        await finalizeOffline(
          batchPaths(this.ctx, b),
          expiredRows().code,
          expiredRows().message,
          this.ctx.log,
        );
        await finishBatch(this.ctx, id, "expired");
      });
    }
  }

  private enqueue(b: BatchRecord): void {
    this.queue.push(b);
    this.queue.sort((x, y) => x.seq - y.seq);
    this.pump();
  }

  private dequeue(id: string): boolean {
    const before = this.queue.length;
    this.queue = this.queue.filter((b) => b.id !== id);
    return this.queue.length < before;
  }

  private pump(): void {
    while (!this.closed && this.running < this.ctx.options.maxConcurrentBatches) {
      const next = this.queue.shift();
      if (!next) return;
      this.startRun(next);
    }
  }

  private startValidation(b: BatchRecord): void {
    const active: ActiveBatch = { controller: new AbortController() };
    this.active.set(b.id, active);
    this.track(async () => {
      try {
        const result = await validate(this.ctx, b, active.controller.signal);
        if (result === null) return await this.stopped(b.id, active, undefined);
        if (!result.ok) return await finishBatch(this.ctx, b.id, "failed", result.errors);
        const now = Date.now();
        const ready = this.ctx.batches.update(b.id, {
          status: "in_progress",
          in_progress_at: now,
          total: result.total,
          model: result.model,
        });
        this.ctx.log?.info({ batch: b.id, rows: result.total }, "batch validated");
        this.active.delete(b.id);
        this.enqueue(ready);
        // An Anthropic batch's translated source is now the validated copy; keep one.
        if (b.api === "anthropic") await rm(batchPaths(this.ctx, b).source, { force: true });
      } catch (err) {
        await finishBatch(this.ctx, b.id, "failed", failureEntries(err));
      } finally {
        if (this.active.get(b.id) === active) this.active.delete(b.id);
      }
    });
  }

  private startRun(b: BatchRecord): void {
    const active: ActiveBatch = { controller: new AbortController() };
    this.active.set(b.id, active);
    this.running++;
    this.track(async () => {
      try {
        const summary = await execute(this.ctx, b, active);
        const unfinished = summary === undefined || summary.interrupted;
        await this.stopped(b.id, active, unfinished ? undefined : "completed");
      } catch (err) {
        this.ctx.log?.error({ batch: b.id, err: (err as Error)?.message }, "batch failed");
        await finishBatch(this.ctx, b.id, "failed", failureEntries(err));
      } finally {
        this.active.delete(b.id);
        this.running--;
        this.clearExpiry(b.id);
        this.pump();
      }
    });
  }

  /** Settles a batch whose validation or run returned: by why it was stopped, if it was. */
  private async stopped(id: string, active: ActiveBatch, done: Outcome | undefined): Promise<void> {
    const b = this.ctx.batches.get(id);
    if (!b) return;
    if (active.reason === "cancel") return finishBatch(this.ctx, id, "cancelled");
    if (active.reason === "expire") {
      // If the run could not close out its rows itself (no engine answered), do it here.
      await finalizeOffline(batchPaths(this.ctx, b), expiredRows().code, expiredRows().message, this.ctx.log);
      return finishBatch(this.ctx, id, "expired");
    }
    if (done) return finishBatch(this.ctx, id, done);
    // Shutdown: leave it as it is; the next start resumes it.
  }
}
