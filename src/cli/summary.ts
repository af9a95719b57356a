// The end-of-job summary for people (stderr); `--json` prints the same object on stdout.
import { growthWarning } from "../job/input-growth.js";
import type { RunSummary } from "../progress/progress.js";
import { compact, duration, int } from "./format.js";
import { providerLines } from "./provider-lines.js";

export function renderSummary(s: RunSummary): string {
  const lines = [
    s.interrupted ? "vbatch: interrupted; progress saved, re-run the same command to resume" : "vbatch: done",
    `  rows       ${int(s.succeeded)} ok, ${int(s.failed)} failed${s.invalid ? `, ${int(s.invalid)} invalid` : ""} of ${int(s.total + s.invalid)}${s.resumed ? ` (${int(s.resumed)} from an earlier run)` : ""}`,
    `  tokens     ${int(s.promptTokens)} prompt, ${int(s.completionTokens)} completion`,
    `  time       ${duration(s.wallMs / 1000)} wall, ${compact(s.rowsPerSec)} rows/s, ${compact(s.tokensPerSec)} tok/s`,
    `  requests   ${int(s.requests)} sent, ${int(s.retries)} retried${s.deduped ? `, ${int(s.deduped)} saved by dedupe` : ""}`,
    ...(s.overflow
      ? [
          `  ran on     ${int(s.overflow.engineRows)} rows on the engines, ${int(s.overflow.providerRows)} in provider batches (--overflow)`,
        ]
      : []),
    ...(s.provider ? providerLines(s.provider) : []),
    `  output     ${s.output}`,
  ];
  const pc = s.prefixCache;
  if (pc && pc.hitRate !== null) {
    // Placed before the output line: what the engines did, then where the answers are.
    lines.splice(
      lines.length - 1,
      0,
      `  prefix     ${(pc.hitRate * 100).toFixed(1)}% of ${int(pc.queries)} prompt tokens found in the engines' prefix caches`,
    );
  }
  if (s.failed + s.invalid > 0) lines.push(`  errors     ${s.errors}`);
  if (s.inputGrew) lines.push(`vbatch: warning: ${growthWarning(s.inputGrew)}`);
  return `${lines.join("\n")}\n`;
}
