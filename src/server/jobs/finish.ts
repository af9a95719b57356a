// Ending a batch: final counts from its journal, its output and error files registered with the
// Files API (OpenAI) once complete, and the terminal status with its timestamp.
import { createReadStream, existsSync, statSync } from "node:fs";
import { VbatchError } from "../../errors.js";
import { readLineBatches } from "../../input/lines.js";
import type { JobContext } from "../job-context.js";
import type { BatchPaths } from "../layout.js";
import { expiresAt } from "../openai/expires-after.js";
import type { BatchErrorEntry, BatchPatch, BatchRecord } from "../store/batches.js";
import { journalCounts } from "./outputs.js";

export type Outcome = "completed" | "cancelled" | "expired" | "failed";

export function batchPaths(ctx: JobContext, b: BatchRecord): BatchPaths {
  return b.api === "openai"
    ? ctx.layout.batch(b.id, { output: b.output_file_id, errors: b.error_file_id })
    : ctx.layout.batch(b.id);
}

function size(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

/** Error lines carrying `code` (Anthropic reports expired rows apart from errored ones). */
async function countCode(path: string, code: string): Promise<number> {
  if (!existsSync(path)) return 0;
  const needle = `"code":${JSON.stringify(code)}`;
  let n = 0;
  for await (const batch of readLineBatches(createReadStream(path), undefined, Number.POSITIVE_INFINITY)) {
    for (const l of batch) if (l.text.includes(needle)) n++;
  }
  return n;
}

export async function finishBatch(
  ctx: JobContext,
  id: string,
  outcome: Outcome,
  errors?: BatchErrorEntry[],
): Promise<void> {
  const b = ctx.batches.get(id);
  if (!b) return; // deleted meanwhile
  const paths = batchPaths(ctx, b);
  const now = Date.now();
  const patch: BatchPatch = { status: outcome, ended_at: now };
  const counts = journalCounts(paths);
  if (counts) {
    patch.total = counts.total;
    patch.succeeded = counts.succeeded;
    patch.failed = counts.failed;
    patch.prompt_tokens = counts.promptTokens;
    patch.completion_tokens = counts.completionTokens;
  }
  if (outcome === "expired") patch.expired = await countCode(paths.errors, "batch_expired");
  if (outcome === "completed") {
    patch.finalizing_at = b.finalizing_at ?? now;
    patch.completed_at = now;
  } else if (outcome === "cancelled") patch.cancelled_at = now;
  else if (outcome === "expired") patch.expired_at = now;
  else {
    patch.failed_at = now;
    if (errors) patch.errors = JSON.stringify(errors);
  }
  const outBytes = size(paths.output);
  const errBytes = size(paths.errors);
  patch.output_ready = outBytes > 0 ? 1 : 0;
  patch.errors_ready = errBytes > 0 ? 1 : 0;
  if (b.api === "openai") {
    // output_expires_after counts from the output file's creation, which is now.
    const expires = expiresAt(now, ctx.options.retentionMs, b.output_expires_after);
    const register = (fileId: string, bytes: number, kind: string) => {
      if (bytes > 0 && !ctx.files.get(fileId)) {
        ctx.files.insert({
          id: fileId,
          purpose: "batch_output",
          filename: `${b.id}_${kind}.jsonl`,
          bytes,
          created_at: now,
          expires_at: expires,
        });
      }
    };
    register(b.output_file_id, outBytes, "output");
    register(b.error_file_id, errBytes, "error");
  }
  ctx.batches.update(id, patch);
  ctx.log?.info(
    { batch: id, status: outcome, succeeded: patch.succeeded, failed: patch.failed },
    `batch ${outcome}`,
  );
}

/** A batch that cannot run: its problems as OpenAI's errors.data[] (line numbers when known). */
export function failureEntries(err: unknown): BatchErrorEntry[] {
  if (err instanceof VbatchError) {
    const lines = err.details
      .map((d) => /^line (\d+): (.*)$/.exec(d))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({
        code: err.code,
        message: `Line ${m[1]}: ${m[2]}`,
        param: null,
        line: Number(m[1]),
      }));
    return lines.length > 0 ? lines : [{ code: err.code, message: err.message, param: null, line: null }];
  }
  return [
    { code: "internal_error", message: (err as Error)?.message ?? String(err), param: null, line: null },
  ];
}
