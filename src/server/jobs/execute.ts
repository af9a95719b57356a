// The two working phases of a batch. `validate` waits for an engine to learn the served models,
// then checks and copies the input; `execute` runs it through runBatch, the same runner as
// `vbatch run`, with paths fixed by the batch id so a restarted server resumes the same journal.
import { VbatchError } from "../../errors.js";
import type { RunOptions } from "../../job/options.js";
import { runBatch } from "../../job/run-batch.js";
import type { RunProgress, RunSummary } from "../../progress/progress.js";
import { pause } from "../../util/pause.js";
import type { JobContext } from "../job-context.js";
import type { BatchPatch, BatchRecord } from "../store/batches.js";
import { batchPaths } from "./finish.js";
import { type ModelMap, modelMap, NoEngineError, servedModels } from "./models.js";
import { type ValidationResult, validateBatchInput } from "./validate.js";

/** Why a batch was stopped before its rows were done. */
export type StopReason = "cancel" | "expire" | "shutdown";

export interface ActiveBatch {
  controller: AbortController;
  reason?: StopReason;
  /** The options of the runBatch call in progress (expiry sets finalizePending on it). */
  options?: RunOptions;
}

async function waitForModels(ctx: JobContext, signal: AbortSignal): Promise<ModelMap | null> {
  const o = ctx.options;
  for (;;) {
    try {
      return modelMap(await servedModels(o.endpoints, o.engineApiKey, signal), o.model);
    } catch (err) {
      if (signal.aborted) return null;
      if (!(err instanceof NoEngineError)) throw err;
      ctx.log?.warn({ err: err.message }, "waiting for an engine");
      await pause(o.engineRetryMs, signal);
    }
  }
}

/** null when stopped (signal) before it finished. */
export async function validate(
  ctx: JobContext,
  b: BatchRecord,
  signal: AbortSignal,
): Promise<ValidationResult | null> {
  const paths = batchPaths(ctx, b);
  let source = paths.source;
  if (b.api === "openai") {
    if (!b.input_file_id || !ctx.files.get(b.input_file_id)) {
      return {
        ok: false,
        errors: [
          { code: "invalid_file", message: "The input file was deleted", param: "input_file_id", line: null },
        ],
      };
    }
    source = ctx.layout.file(b.input_file_id);
  }
  const models = await waitForModels(ctx, signal);
  if (!models) return null;
  const result = await validateBatchInput({
    source,
    dest: paths.requests,
    endpoint: b.endpoint,
    maxRows: ctx.options.maxBatchRows,
    models,
    signal,
  });
  return signal.aborted ? null : result;
}

function isEngineDown(err: unknown): boolean {
  return err instanceof VbatchError && (err.code === "no_endpoint" || err.code === "engine_unavailable");
}

function recordProgress(ctx: JobContext, id: string, p: RunProgress): void {
  // Before the send loop the counts are not known yet (they read 0): keep the batch's own.
  if (p.phase === "validating" || p.phase === "starting") return;
  const b = ctx.batches.get(id);
  if (!b) return;
  const patch: BatchPatch = {
    total: p.total,
    succeeded: p.succeeded,
    failed: p.failed,
    prompt_tokens: p.promptTokens,
    completion_tokens: p.completionTokens,
  };
  if (b.status === "in_progress" && p.total > 0 && p.succeeded + p.failed >= p.total) {
    patch.status = "finalizing";
    patch.finalizing_at = Date.now();
  }
  ctx.batches.update(id, patch);
}

/** Runs until every row is final or the batch is stopped; undefined if stopped while no engine answered. */
export async function execute(
  ctx: JobContext,
  b: BatchRecord,
  active: ActiveBatch,
): Promise<RunSummary | undefined> {
  const o = ctx.options;
  const paths = batchPaths(ctx, b);
  const signal = active.controller.signal;
  for (;;) {
    const options: RunOptions = {
      ...o.run,
      input: paths.requests,
      output: paths.output,
      errors: paths.errors,
      journal: paths.journal,
      endpoints: o.endpoints,
      model: o.model,
      apiKey: o.engineApiKey,
      concurrency: o.concurrency,
      drainMs: o.run.drainMs ?? 2000,
      signal,
      finalizePending: () => (active.reason === "expire" ? expiredRows() : undefined),
      logger: ctx.log?.child({ batch: b.id }),
      onProgress: (p) => recordProgress(ctx, b.id, p),
    };
    active.options = options;
    try {
      return await runBatch(options);
    } catch (err) {
      if (!isEngineDown(err)) throw err;
      if (signal.aborted) return undefined;
      ctx.log?.warn({ batch: b.id, err: (err as Error).message }, "no engine answers; retrying");
      await pause(o.engineRetryMs, signal);
      if (signal.aborted) return undefined;
    } finally {
      active.options = undefined;
    }
  }
}

export function expiredRows(): { code: string; message: string } {
  return {
    code: "batch_expired",
    message: "This request could not be executed before the completion window expired.",
  };
}
