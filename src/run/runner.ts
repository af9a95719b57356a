// The send loop: streams pending rows from the input, keeps the engines' in-flight limits full
// through one p-queue, routes each attempt to the engine with the most room, and hands every
// finished row to the sink. Retries re-enter the queue ahead of new rows.
import { performance } from "node:perf_hooks";
import Bottleneck from "bottleneck";
import PQueue from "p-queue";
import type { Logger } from "pino";
import { type BackoffOptions, retryDelay } from "../client/retry.js";
import { TransportFailure, type WireResponse } from "../client/wire.js";
import { VbatchError } from "../errors.js";
import { readLineBatches } from "../input/lines.js";
import { openInput } from "../input/open.js";
import { parseRow } from "../input/row.js";
import type { LineSet } from "../journal/bitset.js";
import type { ResultSink } from "../output/sink.js";
import type { Engine } from "../route/engine.js";
import type { Router } from "../route/router.js";
import { decide } from "./outcome.js";
import type { RowTask } from "./task.js";

export interface RunnerOptions {
  inputFile: string;
  skip: LineSet;
  router: Router;
  sink: ResultSink;
  jobId: string;
  defaultModel: string | undefined;
  maxAttempts: number;
  backoff: BackoffOptions;
  maxRequestsPerSecond?: number | undefined;
  signal?: AbortSignal | undefined;
  drainMs: number;
  commitIntervalMs: number;
  logger?: Logger | undefined;
}

export interface RunnerCounters {
  succeeded: number;
  failed: number;
  requests: number;
  retries: number;
  promptTokens: number;
  completionTokens: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Runner {
  readonly counters: RunnerCounters = {
    succeeded: 0,
    failed: 0,
    requests: 0,
    retries: 0,
    promptTokens: 0,
    completionTokens: 0,
  };
  private readonly o: RunnerOptions;
  private readonly queue: PQueue;
  /** Set when in-flight requests are abandoned: their failures then mean "stopped", not "failed". */
  private abandoned = false;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly limiter: Bottleneck | undefined;
  private outstanding = 0;
  private readingDone = false;
  private stopping = false;
  private fatal: unknown;
  private wakeDone: (() => void) | undefined;

  constructor(options: RunnerOptions) {
    this.o = options;
    this.queue = new PQueue({ concurrency: Math.max(1, options.router.capacity()) });
    if (options.maxRequestsPerSecond) {
      this.limiter = new Bottleneck({ minTime: 1000 / options.maxRequestsPerSecond, maxConcurrent: null });
    }
  }

  get inFlight(): number {
    return this.queue.pending;
  }

  get interrupted(): boolean {
    return this.stopping;
  }

  /** Re-reads the engines' limits into the queue (called when limits move). */
  syncCapacity(): void {
    const cap = Math.max(1, this.o.router.capacity());
    if (this.queue.concurrency !== cap) this.queue.concurrency = cap;
  }

  async run(): Promise<void> {
    const { sink } = this.o;
    const commitTimer = setInterval(() => this.commit(), this.o.commitIntervalMs);
    const onAbort = () => this.stop();
    this.o.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      if (this.o.signal?.aborted) this.stop();
      await this.readAndEnqueue();
      this.readingDone = true;
      await this.allSettled();
      if (this.fatal) throw this.fatal;
    } finally {
      clearInterval(commitTimer);
      this.o.signal?.removeEventListener("abort", onAbort);
      for (const t of this.retryTimers) clearTimeout(t);
      this.retryTimers.clear();
      await this.limiter?.stop({ dropWaitingJobs: true }).catch(() => {});
      sink.flush();
    }
  }

  private commit(): void {
    try {
      this.o.sink.flush();
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    if (!this.fatal) this.fatal = err;
    this.stop(0);
  }

  /** Stops taking rows; in-flight ones get `drainMs` to finish, then are abandoned (stay pending). */
  stop(drainMs = this.o.drainMs): void {
    if (this.stopping && drainMs !== 0) return;
    this.stopping = true;
    const dropped = this.queue.size;
    this.queue.clear();
    this.outstanding -= dropped;
    for (const t of this.retryTimers) {
      clearTimeout(t);
      this.outstanding--;
    }
    this.retryTimers.clear();
    // Closing the pools fails every in-flight request at once, without an abort listener per request.
    const abort = () => {
      this.abandoned = true;
      for (const e of this.o.router.engines) e.transport.close().catch(() => {});
    };
    if (drainMs <= 0) abort();
    else setTimeout(abort, drainMs).unref();
    this.checkDone();
  }

  private async readAndEnqueue(): Promise<void> {
    const { skip } = this.o;
    const highWater = 4096;
    for await (const batch of readLineBatches(openInput(this.o.inputFile))) {
      for (const line of batch) {
        if (this.stopping) return;
        if (skip.has(line.lineNo)) continue;
        const parsed = parseRow(line.text);
        if (!parsed.ok) {
          throw new VbatchError(
            "input_changed",
            `line ${line.lineNo} of the input no longer validates (${parsed.message}): the input changed while the job ran`,
          );
        }
        const { row } = parsed;
        if (row.body.model === undefined) row.body.model = this.o.defaultModel;
        const task: RowTask = {
          line: line.lineNo,
          customId: row.customId,
          url: row.url,
          body: JSON.stringify(row.body),
          attempts: 0,
        };
        this.outstanding++;
        this.enqueue(task, 0);
      }
      if (this.queue.size >= highWater) await this.queue.onSizeLessThan(highWater / 2);
    }
  }

  private enqueue(task: RowTask, priority: number): void {
    this.queue.add(() => this.attempt(task), { priority }).catch((err) => this.fail(err));
  }

  private async pickEngine(): Promise<Engine | undefined> {
    for (;;) {
      const engine = this.o.router.pick();
      if (engine || this.stopping) return engine;
      await sleep(5);
    }
  }

  private async attempt(task: RowTask): Promise<void> {
    if (this.stopping) {
      this.outstanding--;
      this.checkDone();
      return;
    }
    const engine = await this.pickEngine();
    if (!engine) {
      this.outstanding--;
      this.checkDone();
      return;
    }
    task.attempts++;
    engine.inFlight++;
    // Limits move with every result (latency limiter) and every scrape; the queue follows.
    this.syncCapacity();
    engine.sent++;
    this.counters.requests++;
    const started = performance.now();
    let result: WireResponse | TransportFailure;
    const send = () =>
      engine.transport.send({
        path: task.url,
        body: task.body,
        requestId: `vbatch-${this.o.jobId}-${task.line}-${task.attempts}`,
      });
    try {
      result = this.limiter ? await this.limiter.schedule(send) : await send();
    } catch (err) {
      result =
        err instanceof TransportFailure
          ? err
          : new TransportFailure("connection", (err as Error).message, err);
    } finally {
      engine.inFlight--;
    }
    if (result instanceof TransportFailure && (result.kind === "aborted" || this.abandoned)) {
      // Abandoned by a stop: the row stays pending in the journal and is sent on resume.
      this.outstanding--;
      this.checkDone();
      return;
    }
    const outcome = decide(task.customId, result, task.attempts, this.o.maxAttempts);
    if (outcome.kind === "retry") {
      engine.limit.onResult(performance.now() - started, outcome.overloaded, engine.inFlight + 1);
      if (this.stopping) {
        this.outstanding--;
        this.checkDone();
        return;
      }
      this.counters.retries++;
      const delay = retryDelay(task.attempts, outcome.retryAfterMs, this.o.backoff);
      this.o.logger?.debug(
        {
          custom_id: task.customId,
          attempt: task.attempts,
          reason: outcome.reason,
          delay_ms: Math.round(delay),
        },
        "retrying row",
      );
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        this.enqueue(task, 1);
      }, delay);
      this.retryTimers.add(timer);
      return;
    }
    engine.limit.onResult(performance.now() - started, false, engine.inFlight + 1);
    if (outcome.toErrors) {
      engine.failed++;
      this.counters.failed++;
    } else {
      engine.succeeded++;
      this.counters.succeeded++;
      this.counters.promptTokens += outcome.promptTokens;
      this.counters.completionTokens += outcome.completionTokens;
    }
    const full = this.o.sink.add(outcome.line, outcome.toErrors, {
      line: task.line,
      state: outcome.state,
      status: outcome.status,
      promptTokens: outcome.promptTokens,
      completionTokens: outcome.completionTokens,
    });
    if (full) this.commit();
    this.outstanding--;
    this.checkDone();
  }

  private checkDone(): void {
    if (this.outstanding <= 0 && (this.readingDone || this.stopping)) {
      this.wakeDone?.();
    }
  }

  private allSettled(): Promise<void> {
    return new Promise((resolve) => {
      this.wakeDone = resolve;
      this.checkDone();
    });
  }
}
