// The send loop: streams pending rows from the input, keeps the engines' in-flight limits full
// through one p-queue, routes each attempt to the engine with the most room, and hands every
// finished row to the sink. Retries re-enter the queue ahead of new rows.
import { performance } from "node:perf_hooks";
import Bottleneck from "bottleneck";
import PQueue from "p-queue";
import type { Logger } from "pino";
import { type BackoffOptions, isRetryableStatus, retryDelay } from "../client/retry.js";
import { TransportFailure, type WireResponse } from "../client/wire.js";
import { VbatchError } from "../errors.js";
import { readLineBatches } from "../input/lines.js";
import { openInput } from "../input/open.js";
import { parseRow } from "../input/row.js";
import { requestedSchema } from "../input/structured.js";
import type { LineSet } from "../journal/bitset.js";
import { RowState } from "../journal/schema.js";
import { toAnthropicLine } from "../output/anthropic.js";
import { rejectedResponseLine } from "../output/format.js";
import type { ResultSink } from "../output/sink.js";
import type { Engine } from "../route/engine.js";
import type { Router } from "../route/router.js";
import { coalesceKey, groupBody, MAX_GROUP, singleInput, splitEmbeddings } from "./coalesce.js";
import { JsonReplyChecker } from "./json-check.js";
import { decide, type Outcome } from "./outcome.js";
import type { RowTask } from "./task.js";

/** One HTTP request: a row, or a group of coalesced embedding rows. */
interface SendJob {
  tasks: RowTask[];
  url: RowTask["url"];
  body: string;
  /** Per-row weights for splitting a group's usage (input lengths). */
  weights?: number[];
}

function singleJob(task: RowTask): SendJob {
  return { tasks: [task], url: task.url, body: task.body };
}

function groupJob(tasks: RowTask[]): SendJob {
  const first = tasks[0] as RowTask;
  const inputs = tasks.map((t) => t.coalesce?.input ?? "");
  return {
    tasks,
    url: first.url,
    body: groupBody(first.coalesce?.body ?? {}, inputs),
    weights: inputs.map((s) => s.length),
  };
}

export interface RunnerOptions {
  inputFile: string;
  /** Lines to send; every other line is finished, invalid, another shard's, or a duplicate. */
  pending: LineSet;
  /** Pending lines whose answer duplicate rows share, and how to find those rows. */
  leaders?: LineSet | undefined;
  followersOf?: ((line: number) => { line: number; customId: string }[]) | undefined;
  router: Router;
  sink: ResultSink;
  /** Start of every request id sent: "vbatch-<job>" plus the job's tags. */
  requestIdPrefix: string;
  /** Sent as vLLM's `priority` for rows that set none. */
  priority?: number | undefined;
  /** Check replies to rows that ask for JSON; retry a bad one up to jsonRetries times. */
  validateJson?: boolean | undefined;
  jsonRetries?: number | undefined;
  /** Sees every attempt's result (metrics). */
  onAttempt?: ((engine: Engine, latencyMs: number, status: number | null) => void) | undefined;
  defaultModel: string | undefined;
  maxAttempts: number;
  backoff: BackoffOptions;
  maxRequestsPerSecond?: number | undefined;
  signal?: AbortSignal | undefined;
  drainMs: number;
  commitIntervalMs: number;
  /** Coalesce single-input embedding rows into one request. */
  coalesce: boolean;
  /** How long to wait for an engine when every engine is down, before exit 1. */
  engineWaitMs: number;
  /** An engine came back into the pool (e.g. to give it a fresh adaptive limit). */
  onEngineUp?: ((engine: Engine) => void) | undefined;
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
  /** Pending retries and how many rows each carries. */
  private readonly retryTimers = new Map<NodeJS.Timeout, number>();
  private readonly limiter: Bottleneck | undefined;
  private outstanding = 0;
  private allDownSince: number | null = null;
  private warnedPriority = false;
  private readonly jsonChecker: JsonReplyChecker | undefined;
  private readingDone = false;
  private stopping = false;
  private fatal: unknown;
  private wakeDone: (() => void) | undefined;

  constructor(options: RunnerOptions) {
    this.o = options;
    this.queue = new PQueue({ concurrency: Math.max(1, options.router.capacity()) });
    this.jsonChecker = options.validateJson ? new JsonReplyChecker() : undefined;
    if (options.maxRequestsPerSecond) {
      this.limiter = new Bottleneck({ minTime: 1000 / options.maxRequestsPerSecond, maxConcurrent: null });
    }
  }

  get router(): Router {
    return this.o.router;
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
      for (const t of this.retryTimers.keys()) clearTimeout(t);
      for (const e of this.o.router.engines) e.health.stop();
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
    for (const [t, rows] of this.retryTimers) {
      clearTimeout(t);
      this.outstanding -= rows;
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
    const { pending } = this.o;
    const highWater = 1024;
    const groups = new Map<string, RowTask[]>();
    const flushGroup = (key: string, tasks: RowTask[]) => {
      groups.delete(key);
      this.enqueue(tasks.length === 1 ? singleJob(tasks[0] as RowTask) : groupJob(tasks), 0);
    };
    for await (const batch of readLineBatches(openInput(this.o.inputFile))) {
      for (const line of batch) {
        if (this.stopping) return;
        if (!pending.has(line.lineNo)) continue;
        const parsed = parseRow(line.text);
        if (!parsed.ok) {
          throw new VbatchError(
            "input_changed",
            `line ${line.lineNo} of the input no longer validates (${parsed.message}): the input changed while the job ran`,
          );
        }
        const { row } = parsed;
        if (row.body.model === undefined) row.body.model = this.o.defaultModel;
        if (this.o.priority !== undefined && row.body.priority === undefined)
          row.body.priority = this.o.priority;
        const task: RowTask = {
          line: line.lineNo,
          customId: row.customId,
          url: row.url,
          body: JSON.stringify(row.body),
          attempts: 0,
        };
        if (row.format === "anthropic") task.anthropic = true;
        if (this.jsonChecker) {
          const schema = requestedSchema(row.body);
          if (schema !== null) task.schema = schema;
        }
        this.outstanding++;
        const key = this.o.coalesce ? coalesceKey(row.url, row.body) : null;
        if (key === null) {
          this.enqueue(singleJob(task), 0);
          continue;
        }
        task.coalesce = { body: row.body, input: singleInput(row.body.input) as string };
        const group = groups.get(key);
        if (group) {
          group.push(task);
          if (group.length >= MAX_GROUP) flushGroup(key, group);
        } else groups.set(key, [task]);
      }
      // Rows never wait for more input: partial groups go out with each chunk.
      for (const [key, tasks] of groups) flushGroup(key, tasks);
      if (this.queue.size >= highWater) await this.queue.onSizeLessThan(highWater / 2);
    }
  }

  private enqueue(job: SendJob, priority: number): void {
    this.queue.add(() => this.attempt(job), { priority }).catch((err) => this.fail(err));
  }

  /**
   * Picks an engine and counts the request against it in the same tick: hundreds of tasks start
   * together, and a pick that yields before counting would send them all to the same engine.
   */
  private reserve(): Engine | undefined {
    // Once every row is read, queueing at an engine only lengthens the tail of the job.
    const engine = this.o.router.pick(this.readingDone && this.o.router.engines.length > 1);
    if (engine) engine.inFlight++;
    return engine;
  }

  /** Waits for room (or for an engine to come back), then reserves it. */
  private async waitForEngine(): Promise<Engine | undefined> {
    for (;;) {
      const engine = this.reserve();
      if (engine || this.stopping) return engine;
      if (this.o.router.anyUp()) {
        this.allDownSince = null;
        await sleep(5);
        continue;
      }
      // Every engine is out: wait for one to come back, up to engineWaitMs.
      const now = Date.now();
      if (this.allDownSince === null) {
        this.allDownSince = now;
        this.o.logger?.warn(
          { wait_s: Math.round(this.o.engineWaitMs / 1000) },
          "every engine is down; waiting for one to come back",
        );
      } else if (now - this.allDownSince > this.o.engineWaitMs) {
        this.fail(
          new VbatchError(
            "engine_unavailable",
            `every engine has been down for ${Math.round(this.o.engineWaitMs / 1000)} s (--engine-wait); progress is saved, re-run the same command to resume`,
          ),
        );
        return undefined;
      }
      await sleep(50);
    }
  }

  /** Since when every engine has been out of the pool, for progress and --engine-wait. */
  get allEnginesDownSince(): number | null {
    return this.allDownSince;
  }

  /** Counts an engine-level failure; takes the engine out after several and probes it back in. */
  private noteEngine(engine: Engine, result: WireResponse | TransportFailure): void {
    const bad = result instanceof TransportFailure || result.status >= 500;
    if (!bad) {
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

  /** Rows leave the run without a final state (stop): they stay pending for the next run. */
  private drop(n: number): void {
    this.outstanding -= n;
    this.checkDone();
  }

  private async attempt(job: SendJob): Promise<void> {
    const { tasks } = job;
    if (this.stopping) return this.drop(tasks.length);
    const engine = this.reserve() ?? (await this.waitForEngine());
    if (!engine) return this.drop(tasks.length);
    for (const t of tasks) t.attempts++;
    const attempts = tasks[0]?.attempts ?? 1;
    // Limits move with every result (latency limiter) and every scrape; the queue follows.
    this.syncCapacity();
    engine.sent++;
    this.counters.requests++;
    const started = performance.now();
    let result: WireResponse | TransportFailure;
    const first = tasks[0] as RowTask;
    const send = () =>
      engine.transport.send({
        path: job.url,
        body: job.body,
        requestId: `${this.o.requestIdPrefix}-${first.line}-${attempts}`,
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
      // Abandoned by a stop: the rows stay pending in the journal and are sent on resume.
      return this.drop(tasks.length);
    }
    this.noteEngine(engine, result);
    if (result instanceof TransportFailure && !engine.health.up) {
      // Failing over: a dead engine costs a row at most one attempt, however many it takes down.
      for (const t of tasks) {
        if (t.failedOver) t.attempts--;
        t.failedOver = true;
      }
    }
    const latency = performance.now() - started;
    this.o.onAttempt?.(engine, latency, result instanceof TransportFailure ? null : result.status);
    if (!(result instanceof TransportFailure) && result.status === 400 && !this.warnedPriority) {
      if (/priority scheduling is not enabled/i.test(result.body)) {
        this.warnedPriority = true;
        this.o.logger?.error(
          { engine: engine.base },
          "the engine refuses request priorities: start vLLM with --scheduling-policy priority, or drop --priority",
        );
      }
    }
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
    const outcome = decide(first.customId, result, first.attempts, this.o.maxAttempts);
    if (outcome.kind === "retry") {
      engine.limit.onResult(latency, outcome.overloaded, engine.inFlight + 1);
      if (this.stopping) return this.drop(tasks.length);
      this.counters.retries += tasks.length;
      const delay = retryDelay(attempts, outcome.retryAfterMs, this.o.backoff);
      this.o.logger?.debug(
        {
          custom_id: first.customId,
          rows: tasks.length,
          attempt: attempts,
          reason: outcome.reason,
          delay_ms: Math.round(delay),
        },
        "retrying",
      );
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        this.enqueue(job, 1);
      }, delay);
      this.retryTimers.set(timer, tasks.length);
      return;
    }
    engine.limit.onResult(latency, false, engine.inFlight + 1);
    if (tasks.length === 1) this.record(engine, first, outcome, result);
    else for (const t of tasks) this.settle(engine, t, result);
  }

  /** Decides and records one row of a finished request. */
  private settle(engine: Engine, task: RowTask, result: WireResponse | TransportFailure): void {
    const outcome = decide(task.customId, result, task.attempts, this.o.maxAttempts);
    if (outcome.kind === "retry") {
      // A group answered as a whole cannot leave one row to retry; record it as it stands.
      this.record(
        engine,
        task,
        decide(task.customId, result, this.o.maxAttempts, this.o.maxAttempts),
        result,
      );
      return;
    }
    this.record(engine, task, outcome, result);
  }

  private record(
    engine: Engine,
    task: RowTask,
    outcome: Outcome,
    result: WireResponse | TransportFailure,
  ): void {
    if (outcome.kind !== "final") return;
    let final = outcome;
    let jsonError: string | null = null;
    if (task.schema !== undefined && !final.toErrors && !(result instanceof TransportFailure)) {
      const why = this.jsonChecker?.check(result.body, task.schema) ?? null;
      if (why !== null) {
        const tries = task.jsonRetries ?? 0;
        if (tries < (this.o.jsonRetries ?? 2) && !this.stopping) {
          // Ask again: sampling may well produce valid JSON; this does not use up an attempt.
          task.jsonRetries = tries + 1;
          task.attempts--;
          this.counters.retries++;
          this.enqueue(singleJob(task), 1);
          return;
        }
        jsonError = why;
        final = {
          ...final,
          line: rejectedResponseLine(
            task.customId,
            result.status,
            result.requestId,
            result.body,
            "invalid_json",
            why,
          ),
          toErrors: true,
          state: RowState.failed,
        };
      }
    }
    if (this.o.leaders?.has(task.line)) this.shareAnswer(task.line, result, jsonError, task.anthropic);
    if (task.anthropic) final = { ...final, line: toAnthropicLine(final.line) };
    if (final.toErrors) {
      engine.failed++;
      this.counters.failed++;
    } else {
      engine.succeeded++;
      this.counters.succeeded++;
      this.counters.promptTokens += final.promptTokens;
      this.counters.completionTokens += final.completionTokens;
    }
    const full = this.o.sink.add(final.line, final.toErrors, {
      line: task.line,
      state: final.state,
      status: final.status,
      promptTokens: final.promptTokens,
      completionTokens: final.completionTokens,
    });
    if (full) this.commit();
    this.outstanding--;
    this.checkDone();
  }

  /** Writes the rows that asked the same question as `line` with its answer, each its own line. */
  private shareAnswer(
    line: number,
    result: WireResponse | TransportFailure,
    jsonError: string | null,
    anthropic = false,
  ): void {
    for (const f of this.o.followersOf?.(line) ?? []) {
      let outcome = decide(f.customId, result, this.o.maxAttempts, this.o.maxAttempts);
      if (outcome.kind !== "final") continue;
      if (jsonError !== null && !outcome.toErrors && !(result instanceof TransportFailure)) {
        // A reply refused by --validate-json is refused for every row that shares it.
        outcome = {
          ...outcome,
          line: rejectedResponseLine(
            f.customId,
            result.status,
            result.requestId,
            result.body,
            "invalid_json",
            jsonError,
          ),
          toErrors: true,
          state: RowState.failed,
        };
      }
      if (outcome.toErrors) this.counters.failed++;
      else this.counters.succeeded++;
      this.o.sink.add(anthropic ? toAnthropicLine(outcome.line) : outcome.line, outcome.toErrors, {
        line: f.line,
        state: outcome.state,
        status: outcome.status,
        // The engine did this work once, for the row that was sent.
        promptTokens: 0,
        completionTokens: 0,
      });
    }
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
