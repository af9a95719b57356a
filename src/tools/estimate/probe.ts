// Measures throughput by doing the work: the first N rows go through runBatch against the
// engine, into a temporary directory, and the tokens it processed per second are the rate.
import { join } from "node:path";
import { VbatchError } from "../../errors.js";
import { runBatch } from "../../job/run-batch.js";
import type { RunProgress } from "../../progress/progress.js";

export interface ProbeResult {
  rows: number;
  succeeded: number;
  failed: number;
  wallMs: number;
  promptTokens: number;
  completionTokens: number;
  /** (prompt + completion tokens) per second of wall time. */
  tokensPerSec: number;
  rowsPerSec: number;
}

export async function probeThroughput(o: {
  file: string;
  dir: string;
  endpoint: string;
  model?: string | undefined;
  apiKey?: string | undefined;
  /** The job's progress, about once a second. */
  onProgress?: ((p: RunProgress) => void) | undefined;
}): Promise<ProbeResult> {
  const s = await runBatch({
    onProgress: o.onProgress,
    input: o.file,
    output: join(o.dir, "probe.out.jsonl"),
    endpoints: [o.endpoint],
    model: o.model,
    apiKey: o.apiKey,
    fsync: false,
  });
  if (s.succeeded === 0) {
    throw new VbatchError(
      "engine_unavailable",
      `--probe: none of the ${s.total} rows succeeded against ${o.endpoint}, so no throughput was measured`,
    );
  }
  const sec = s.wallMs / 1000;
  return {
    rows: s.total,
    succeeded: s.succeeded,
    failed: s.failed,
    wallMs: s.wallMs,
    promptTokens: s.promptTokens,
    completionTokens: s.completionTokens,
    tokensPerSec: sec > 0 ? (s.promptTokens + s.completionTokens) / sec : 0,
    rowsPerSec: sec > 0 ? s.total / sec : 0,
  };
}
