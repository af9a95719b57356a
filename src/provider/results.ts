// What an ended batch leaves: each answer becomes the output line a self-hosted run would have
// written (the same line id, custom_id and raw body) and goes through the job's sink, so it is
// committed with its row's done mark. Re-reading the same results after a crash is harmless: a
// row already committed is no longer pending and is skipped. Per-line failures follow the
// engines' rules: a retryable one (429, 5xx but 501, batch_expired) stays pending for a later
// chunk until --max-attempts; a final one goes to the errors file with its status and body.
import { extractUsage } from "../client/usage.js";
import { withMember } from "../input/json-scan.js";
import type { BatchLedger, ChunkRecord } from "../journal/batch-records.js";
import type { Journal } from "../journal/journal.js";
import { RowState } from "../journal/schema.js";
import { errorLine, lineId, responseLine } from "../output/format.js";
import type { ResultSink } from "../output/sink.js";
import type { ResultLine } from "./api.js";
import { pauseHook } from "./pause-hook.js";

/** Rows answered and given up on through a provider, as the progress line counts them. */
export interface ProviderCounters {
  succeeded: number;
  failed: number;
  requests: number;
  retries: number;
  promptTokens: number;
  completionTokens: number;
}

export interface ApplyContext {
  journal: Journal;
  ledger: BatchLedger;
  sink: ResultSink;
  jobId: string;
  maxAttempts: number;
  counters: ProviderCounters;
  /** The row a submitted id stands for (the id itself, or Anthropic's mapped one). */
  lineOf: (submittedId: string) => number | undefined;
  /** Write the provider's own line (under the row's custom_id) when it has one. */
  native: boolean;
  /** A successful answer's body as the job's format writes it. @default as it came */
  bodyOf?: ((body: string) => string) | undefined;
}

const RETRY_CODES = new Set(["batch_expired", "batch_cancelled", "expired", "canceled"]);

export function retryable(r: ResultLine): boolean {
  if (r.status !== null && r.status !== 501 && (r.status === 429 || r.status >= 500)) return true;
  return r.error !== null && r.status === null && RETRY_CODES.has(r.error.code);
}

/** The chunk's rows still pending: line to custom_id. */
function members(ledger: BatchLedger, chunk: number): Map<number, string> {
  const m = new Map<number, string>();
  for (let after = 0; ; ) {
    const page = ledger.chunkPage(chunk, after, 4096);
    for (const r of page) m.set(r.line, r.customId);
    if (page.length < 4096) return m;
    after = (page.at(-1) as { line: number }).line;
  }
}

/**
 * Commits the answers of a chunk's ended batch, then ends the chunk: rows without a final answer
 * leave it (a later chunk submits them), or fail for good once they used --max-attempts (`why`
 * says what became of them: the batch failed, expired, its results are gone).
 */
export async function applyResults(
  ctx: ApplyContext,
  chunk: ChunkRecord,
  results: AsyncIterable<ResultLine> | null,
  why: { code: string; message: string } | null,
): Promise<{ answered: number; retried: number }> {
  const { sink, ledger, counters } = ctx;
  const waiting = members(ledger, chunk.chunk);
  let answered = 0;
  let retried = 0;
  let prompt = 0;
  let completion = 0;
  const add = (line: number, text: string, failed: boolean, status: number | null, p = 0, c = 0) => {
    const full = sink.add(text, failed, {
      line,
      state: failed ? RowState.failed : RowState.succeeded,
      status,
      promptTokens: p,
      completionTokens: c,
    });
    if (failed) counters.failed++;
    else counters.succeeded++;
    if (full) sink.flush();
  };
  for await (const r of results ?? []) {
    const line = ctx.lineOf(r.customId);
    const customId = line === undefined ? undefined : waiting.get(line);
    if (line === undefined || customId === undefined) continue; // committed already, or not this chunk's
    waiting.delete(line);
    if (retryable(r) && ledger.attempts(line) < ctx.maxAttempts) {
      retried++;
      counters.retries++;
      continue;
    }
    const id = lineId(ctx.jobId, line);
    answered++;
    if (r.status !== null && r.body !== null) {
      const ok = r.status >= 200 && r.status < 300 && r.error === null;
      const usage = ok ? extractUsage(r.body) : { promptTokens: 0, completionTokens: 0 };
      prompt += usage.promptTokens;
      completion += usage.completionTokens;
      counters.promptTokens += usage.promptTokens;
      counters.completionTokens += usage.completionTokens;
      const text =
        ctx.native && r.native
          ? `${withMember(r.native, "custom_id", JSON.stringify(customId))}\n`
          : responseLine(id, customId, r.status, r.requestId, ok && ctx.bodyOf ? ctx.bodyOf(r.body) : r.body);
      add(line, text, !ok, r.status, usage.promptTokens, usage.completionTokens);
    } else {
      const e = r.error ?? { code: "provider_error", message: "the provider gave no answer for this row" };
      const text =
        ctx.native && r.native
          ? `${withMember(r.native, "custom_id", JSON.stringify(customId))}\n`
          : errorLine(id, customId, e.code, e.message);
      add(line, text, true, r.status);
    }
    if (answered === 1) await pauseHook("downloading", () => sink.flush());
  }
  for (const [line, customId] of waiting) {
    if (ledger.attempts(line) < ctx.maxAttempts) {
      retried++;
      continue;
    }
    const e = why ?? {
      code: "provider_no_answer",
      message: "the batch ended without an answer for this row",
    };
    add(line, errorLine(lineId(ctx.jobId, line), customId, e.code, e.message), true, null);
    answered++;
  }
  sink.flush();
  if (prompt + completion > 0) ledger.addTokens(chunk.chunk, prompt, completion);
  ledger.finish(chunk.chunk, why?.message ?? null, false);
  return { answered, retried };
}
