// What a finished row leaves behind: its output line (Anthropic-shaped for Anthropic input), a
// reply refused by --validate-json, the same answer for every row that asked the same question
// (dedupe), the counters, and the line handed to the sink for the next commit.
import type { TransportFailure, WireResponse } from "../client/wire.js";
import { TransportFailure as Failure } from "../client/wire.js";
import { shapeLine } from "../formats/index.js";
import type { OutputShape } from "../formats/types.js";
import type { LineSet } from "../journal/bitset.js";
import { RowState } from "../journal/schema.js";
import { lineId, rejectedResponseLine } from "../output/format.js";
import type { ResultSink } from "../output/sink.js";
import type { Engine } from "../pool/engine.js";
import type { JsonReplyChecker } from "./json-check.js";
import { decide, type Outcome } from "./outcome.js";
import type { RowTask } from "./task.js";

export interface RunnerCounters {
  succeeded: number;
  failed: number;
  requests: number;
  retries: number;
  promptTokens: number;
  completionTokens: number;
}

export function noCounters(): RunnerCounters {
  return { succeeded: 0, failed: 0, requests: 0, retries: 0, promptTokens: 0, completionTokens: 0 };
}

type Final = Extract<Outcome, { kind: "final" }>;

export interface RecorderOptions {
  sink: ResultSink;
  jobId: string;
  maxAttempts: number;
  /** Checks replies to rows that ask for JSON (--validate-json). */
  jsonChecker?: JsonReplyChecker | undefined;
  /** Times a refused JSON reply is asked again. @default 2 */
  jsonRetries?: number | undefined;
  /** Pending lines whose answer duplicate rows share, and how to find those rows. */
  leaders?: LineSet | undefined;
  followersOf?: ((line: number) => { line: number; customId: string }[]) | undefined;
}

/** "full": the sink wants a commit; "again": --validate-json asks the row again. */
export type Recorded = "ok" | "full" | "again";

export class Recorder {
  readonly counters: RunnerCounters = noCounters();

  constructor(private readonly o: RecorderOptions) {}

  /** Records a row's final outcome (or, for a refused JSON reply, asks for it again). */
  record(
    engine: Engine,
    task: RowTask,
    outcome: Final,
    result: WireResponse | TransportFailure,
    mayAskAgain: boolean,
  ): Recorded {
    let final = outcome;
    let jsonError: string | null = null;
    if (task.schema !== undefined && !final.toErrors && !(result instanceof Failure)) {
      const why = this.o.jsonChecker?.check(result.body, task.schema) ?? null;
      if (why !== null) {
        const tries = task.jsonRetries ?? 0;
        if (tries < (this.o.jsonRetries ?? 2) && mayAskAgain) {
          // Sampling may well produce valid JSON the next time; this does not use up an attempt.
          task.jsonRetries = tries + 1;
          task.attempts--;
          this.counters.retries++;
          return "again";
        }
        jsonError = why;
        final = refused(final, task.lineId, task.customId, result, why);
      }
    }
    let full = false;
    if (this.o.leaders?.has(task.line)) full = this.shareAnswer(task, result, jsonError);
    if (final.toErrors) {
      engine.failed++;
      this.counters.failed++;
    } else {
      engine.succeeded++;
      this.counters.succeeded++;
      this.counters.promptTokens += final.promptTokens;
      this.counters.completionTokens += final.completionTokens;
    }
    full = this.add(task.line, task.shape, final, final.promptTokens, final.completionTokens) || full;
    return full ? "full" : "ok";
  }

  /** The rows that asked the same question as `leader` get its answer, each its own line. */
  private shareAnswer(
    leader: RowTask,
    result: WireResponse | TransportFailure,
    jsonError: string | null,
  ): boolean {
    let full = false;
    for (const f of this.o.followersOf?.(leader.line) ?? []) {
      const id = lineId(this.o.jobId, f.line);
      let outcome = decide(
        { customId: f.customId, lineId: id },
        result,
        this.o.maxAttempts,
        this.o.maxAttempts,
      );
      if (outcome.kind !== "final") continue;
      if (jsonError !== null && !outcome.toErrors && !(result instanceof Failure)) {
        // A reply refused by --validate-json is refused for every row that shares it.
        outcome = refused(outcome, id, f.customId, result, jsonError);
      }
      if (outcome.toErrors) this.counters.failed++;
      else this.counters.succeeded++;
      // The engine did this work once, for the row that was sent.
      full = this.add(f.line, leader.shape, outcome, 0, 0) || full;
    }
    return full;
  }

  private add(
    line: number,
    shape: OutputShape | undefined,
    o: Final,
    prompt: number,
    completion: number,
  ): boolean {
    return this.o.sink.add(shape ? shapeLine(o.line, shape) : o.line, o.toErrors, {
      line,
      state: o.state,
      status: o.status,
      promptTokens: prompt,
      completionTokens: completion,
    });
  }
}

/** A reply that arrived but is not usable: it goes to the errors file with its body and why. */
function refused(final: Final, id: string, customId: string, result: WireResponse, why: string): Final {
  return {
    ...final,
    line: rejectedResponseLine(
      id,
      customId,
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
