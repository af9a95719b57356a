// src/send/ is the hot path, run once per row: row-reader (pending lines to requests), dispatch
// (where and when), runner (what an answer means), recorder (what a finished row leaves). Add
// nothing here that costs per row what the batch can pay once (see docs/architecture.md).
//
// The send loop: takes the pending rows from the reader, keeps the engines' in-flight limits full
// through the dispatch queue, decides what each answer means (done, retry, split a group), and
// hands finished rows to the recorder. Retries re-enter the queue ahead of new rows. A fatal
// error (a failed commit, a changed input, no engine for --engine-wait) ends the run at once:
// in-flight requests are abandoned, their rows stay pending for the next run.
import { performance } from "node:perf_hooks";
import { isRetryableStatus, retryDelay } from "../client/retry.js";
import { TransportFailure, type WireResponse } from "../client/wire.js";
import type { Engine } from "../pool/engine.js";
import type { Router } from "../pool/router.js";
import { splitEmbeddings } from "./coalesce.js";
import { Dispatch } from "./dispatch.js";
import { JsonReplyChecker } from "./json-check.js";
import { decide } from "./outcome.js";
import { Recorder, type RunnerCounters } from "./recorder.js";
import { RequestSender } from "./request.js";
import { readSendJobs } from "./row-reader.js";
import type { RunnerOptions } from "./runner-options.js";
import { type SendJob, singleJob } from "./send-job.js";
import type { RowTask } from "./task.js";

export type { RunnerCounters } from "./recorder.js";
export type { RunnerOptions } from "./runner-options.js";

/** Rows the reader keeps queued ahead of the engines. */
const HIGH_WATER = 1024;

export class Runner {
  private readonly o: RunnerOptions;
  private readonly dispatch: Dispatch;
  private readonly recorder: Recorder;
  /** Set when in-flight requests are abandoned: their failures then mean "stopped", not "failed". */
  private abandoned = false;
  private readonly sender: RequestSender;
  /** Rows read and not yet final or dropped. */
  private outstanding = 0;
  private readingDone = false;
  private stopping = false;
  private fatal: unknown;
  private wakeDone: (() => void) | undefined;

  constructor(options: RunnerOptions) {
    this.o = options;
    this.dispatch = new Dispatch({
      router: options.router,
      engineWaitMs: options.engineWaitMs,
      onEngineUp: options.onEngineUp,
      logger: options.logger,
    });
    this.recorder = new Recorder({
      sink: options.sink,
      jobId: options.reader.jobId,
      maxAttempts: options.maxAttempts,
      jsonChecker: options.validateJson ? new JsonReplyChecker() : undefined,
      jsonRetries: options.jsonRetries,
      leaders: options.leaders,
      followersOf: options.followersOf,
    });
    this.sender = new RequestSender(options.maxRequestsPerSecond, options.logger);
  }

  get counters(): RunnerCounters {
    return this.recorder.counters;
  }

  get router(): Router {
    return this.o.router;
  }

  get inFlight(): number {
    return this.dispatch.queue.pending;
  }

  get interrupted(): boolean {
    return this.stopping;
  }

  get allEnginesDownSince(): number | null {
    return this.dispatch.allEnginesDownSince;
  }

  syncCapacity(): void {
    this.dispatch.syncCapacity();
  }

  probeBack(engine: Engine): void {
    this.dispatch.probeBack(engine);
  }

  /** Sends every pending row; resolves once each is final or the run stopped, throws a fatal error. */
  async run(): Promise<void> {
    const { sink } = this.o;
    const commitTimer = setInterval(() => this.commit(), this.o.commitIntervalMs);
    const onAbort = () => this.stop();
    this.o.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      if (this.o.signal?.aborted) this.stop();
      try {
        await this.readAndEnqueue();
      } catch (err) {
        this.fail(err);
      }
      this.readingDone = true;
      await this.allSettled();
    } finally {
      clearInterval(commitTimer);
      this.o.signal?.removeEventListener("abort", onAbort);
      this.dispatch.cancelRetries();
      this.dispatch.stopProbes();
      await this.sender.stop();
    }
    if (this.fatal) {
      // Answers already in hand are answers to validated rows: keep them, unless writing is what failed.
      if (!sink.failed) {
        try {
          sink.flush();
        } catch {
          // The first failure is the one to report.
        }
      }
      throw this.fatal;
    }
    sink.flush();
  }

  private commit(): void {
    try {
      this.o.sink.flush();
    } catch (err) {
      this.fail(err);
    }
  }

  /** Ends the run now with `err`: nothing more is sent, in-flight rows stay pending. */
  private fail(err: unknown): void {
    if (!this.fatal) this.fatal = err;
    this.stop(0);
  }

  /** Stops taking rows; in-flight ones get `drainMs` to finish, then are abandoned (stay pending). */
  stop(drainMs = this.o.drainMs): void {
    if (this.stopping && drainMs !== 0) return;
    this.stopping = true;
    const { queue } = this.dispatch;
    const dropped = queue.size;
    queue.clear();
    this.outstanding -= dropped;
    this.outstanding -= this.dispatch.cancelRetries();
    this.dispatch.stopProbes();
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
    const { queue } = this.dispatch;
    for await (const jobs of readSendJobs(this.o.reader)) {
      if (this.stopping) return;
      for (const job of jobs) {
        this.outstanding += job.tasks.length;
        this.enqueue(job, 0);
      }
      if (queue.size >= HIGH_WATER) await queue.onSizeLessThan(HIGH_WATER / 2);
    }
  }

  private enqueue(job: SendJob, priority: number): void {
    this.dispatch.queue.add(() => this.attempt(job), { priority }).catch((err) => this.fail(err));
  }

  /** Rows leave the run without a final state (stop): they stay pending for the next run. */
  private drop(n: number): void {
    this.outstanding -= n;
    this.checkDone();
  }

  private async engineFor(key = 0): Promise<Engine | undefined> {
    const engine = this.dispatch.reserve(this.readingDone, key);
    if (engine) return engine;
    try {
      return await this.dispatch.waitForEngine(
        () => this.readingDone,
        () => this.stopping,
        key,
      );
    } catch (err) {
      this.fail(err);
      return undefined;
    }
  }

  private async attempt(job: SendJob): Promise<void> {
    const { tasks } = job;
    if (this.stopping) return this.drop(tasks.length);
    // Overflow by deadline: a row moved to a provider's batch is not the engines' any more.
    if (this.o.take && !this.o.take((tasks[0] as RowTask).line)) return this.drop(tasks.length);
    const engine = await this.engineFor(tasks[0]?.pkey);
    if (!engine) return this.drop(tasks.length);
    for (const t of tasks) t.attempts++;
    const first = tasks[0] as RowTask;
    const attempts = first.attempts;
    // Limits move with every result (latency limiter) and every scrape; the queue follows.
    this.dispatch.syncCapacity();
    engine.sent++;
    this.counters.requests++;
    const started = performance.now();
    const result = await this.sender.send(engine, job, `${this.o.requestIdPrefix}-${first.line}-${attempts}`);
    if (result instanceof TransportFailure && (result.kind === "aborted" || this.abandoned)) {
      // Abandoned by a stop: the rows stay pending in the journal and are sent on resume.
      return this.drop(tasks.length);
    }
    this.dispatch.noteResult(engine, result);
    if (result instanceof TransportFailure && !engine.health.up) {
      // Failing over: a dead engine costs a row at most one attempt, however many it takes down.
      for (const t of tasks) {
        if (t.failedOver) t.attempts--;
        t.failedOver = true;
      }
    }
    const latency = performance.now() - started;
    this.o.onAttempt?.(engine, latency, result instanceof TransportFailure ? null : result.status);
    this.sender.warnAboutPriority(engine, result);
    if (tasks.length > 1 && !(result instanceof TransportFailure)) {
      const pieces =
        result.status >= 200 && result.status < 300 ? splitEmbeddings(result.body, job.weights ?? []) : null;
      if (pieces) {
        engine.limit.onResult(latency, false, engine.inFlight + 1);
        tasks.forEach((t, i) => {
          this.settle(engine, t, { ...result, body: pieces[i] as string });
        });
        return;
      }
      if (!isRetryableStatus(result.status)) {
        // One bad row must not fail its neighbours: send each row alone.
        for (const t of tasks) {
          t.attempts--;
          this.enqueue(singleJob(t), 1);
        }
        return;
      }
    }
    const outcome = decide(first, result, attempts, this.o.maxAttempts);
    if (outcome.kind === "retry") {
      engine.limit.onResult(latency, outcome.overloaded, engine.inFlight + 1);
      if (this.stopping) return this.drop(tasks.length);
      this.counters.retries += tasks.length;
      const delay = retryDelay(attempts, outcome.retryAfterMs, this.o.backoff);
      const why = {
        custom_id: first.customId,
        rows: tasks.length,
        attempt: attempts,
        reason: outcome.reason,
      };
      this.o.logger?.debug({ ...why, delay_ms: Math.round(delay) }, "retrying");
      this.dispatch.retryLater(tasks.length, delay, () => this.enqueue(job, 1));
      return;
    }
    engine.limit.onResult(latency, false, engine.inFlight + 1);
    if (tasks.length === 1) this.finish(engine, first, outcome, result);
    else for (const t of tasks) this.settle(engine, t, result);
  }

  /** One row of a group answered as a whole: it cannot retry alone, so it is recorded as it stands. */
  private settle(engine: Engine, task: RowTask, result: WireResponse | TransportFailure): void {
    let outcome = decide(task, result, task.attempts, this.o.maxAttempts);
    if (outcome.kind === "retry") outcome = decide(task, result, this.o.maxAttempts, this.o.maxAttempts);
    this.finish(engine, task, outcome, result);
  }

  private finish(
    engine: Engine,
    task: RowTask,
    outcome: ReturnType<typeof decide>,
    result: WireResponse | TransportFailure,
  ): void {
    if (outcome.kind !== "final") return;
    const recorded = this.recorder.record(engine, task, outcome, result, !this.stopping);
    if (recorded === "again") {
      this.enqueue(singleJob(task), 1);
      return;
    }
    if (recorded === "full") this.commit();
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
