// Retention: files past their expiry and batches ended longer ago than --retention are deleted,
// records and bytes alike, like a hosted batch API's 30-day window.
import { rmSync } from "node:fs";
import type { JobContext } from "./job-context.js";
import { batchPaths } from "./jobs/finish.js";

export function sweep(ctx: JobContext, now = Date.now()): { files: number; batches: number } {
  let files = 0;
  let batches = 0;
  for (const f of ctx.files.expired(now)) {
    ctx.files.delete(f.id);
    rmSync(ctx.layout.file(f.id), { force: true });
    files++;
  }
  for (const b of ctx.batches.endedBefore(now - ctx.options.retentionMs)) {
    ctx.batches.delete(b.id);
    rmSync(batchPaths(ctx, b).dir, { recursive: true, force: true });
    batches++;
  }
  if (files + batches > 0) ctx.log?.info({ files, batches }, "retention: deleted expired data");
  return { files, batches };
}

/** Sweeps now and then every `intervalMs`; returns the stop function. */
export function startRetention(ctx: JobContext, intervalMs: number): () => void {
  const run = () => {
    try {
      sweep(ctx);
    } catch (err) {
      ctx.log?.warn({ err: (err as Error).message }, "retention sweep failed");
    }
  };
  run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
