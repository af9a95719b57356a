// The progress line on stderr, redrawn in place when stderr is a terminal. Off otherwise: logs
// and CI output stay clean, and the summary is printed either way.
import type { RunProgress } from "../progress/progress.js";
import { compact, duration, int } from "./format.js";

/**
 * The progress line, cut to `width` columns (less one, so the terminal does not wrap): what changes
 * (the time waited, the rows done) comes first so a narrow terminal still shows it.
 */
export function renderProgress(p: RunProgress, width = Number.POSITIVE_INFINITY): string {
  const line = progressText(p);
  return line.length > width - 1 ? `${line.slice(0, Math.max(0, width - 2))}…` : line;
}

function progressText(p: RunProgress): string {
  if (p.validating) {
    const v = p.validating;
    const pct = v.totalBytes ? ` (${Math.min(100, (v.bytes / v.totalBytes) * 100).toFixed(0)}%)` : "";
    return `validating the input: ${compact(v.lines)} lines${pct}`;
  }
  if (p.waitingForEnginesSec !== null) {
    const waited = p.waitingForEnginesSec;
    const limit = p.engineWaitSec ?? null;
    const left = limit === null ? "" : ` (${duration(Math.max(0, limit - waited))} left)`;
    const urls = p.engines.map((e) => e.url).join(", ");
    const why = p.waitingReason
      ? `: ${p.waitingReason}`
      : ` ${urls} to accept connections (is vLLM loading?)`;
    return `waiting ${duration(waited)}${left} for${p.waitingReason ? " the engines" : ""}${why}`;
  }
  const done = p.succeeded + p.failed;
  const pct = p.total > 0 ? ((done / p.total) * 100).toFixed(1) : "100.0";
  const parts = [
    `${int(done)}/${int(p.total)} rows (${pct}%)`,
    `${compact(p.rowsPerSec)} rows/s`,
    `${compact(p.tokensPerSec)} tok/s`,
    `ETA ${p.etaSec === null ? "?" : duration(p.etaSec)}`,
  ];
  if (p.failed > 0) parts.push(`${int(p.failed)} failed`);
  if (p.retries > 0) parts.push(`${int(p.retries)} retries`);
  const rate = p.prefixCache?.hitRate;
  if (rate !== undefined && rate !== null) parts.push(`prefix cache ${(rate * 100).toFixed(0)}% hit`);
  if (p.allEnginesDownSec !== null)
    parts.push(`every engine down for ${duration(p.allEnginesDownSec)}, waiting`);
  const engines = p.engines.map((e) => {
    if (!e.up) return "down";
    const load = e.running === null ? "" : ` run ${e.running} wait ${e.waiting}`;
    return `${e.inFlight}/${e.limit}${load}`;
  });
  parts.push(`in flight ${engines.join(" | ")}`);
  return parts.join(" · ");
}

export class ProgressLine {
  private lastWidth = 0;
  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(p: RunProgress): void {
    this.show(renderProgress(p, this.stream.columns ?? 120));
  }

  /** Draws any one line in place, cut to the terminal's width. */
  show(text: string): void {
    const cols = this.stream.columns ?? 120;
    const line = text.length > cols - 1 ? `${text.slice(0, Math.max(0, cols - 2))}…` : text;
    this.stream.write(`\r${line}${" ".repeat(Math.max(0, this.lastWidth - line.length))}`);
    this.lastWidth = line.length;
  }

  clear(): void {
    if (this.lastWidth > 0) this.stream.write(`\r${" ".repeat(this.lastWidth)}\r`);
    this.lastWidth = 0;
  }
}
