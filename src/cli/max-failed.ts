// --max-failed: a job whose errors file ends up with more rows than this exits 3, so a script or
// scheduler can tell "finished, but badly" from "finished" without reading the files.
import { InvalidArgumentError } from "commander";
import type { RunSummary } from "../progress/progress.js";

export type MaxFailed = { rows: number } | { percent: number };

/** "100" (rows) or "2.5%" (of the job's lines). */
export function parseMaxFailed(value: string): MaxFailed {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(value.trim());
  const n = m ? Number(m[1]) : Number.NaN;
  if (!m || !Number.isFinite(n) || (m[2] === "%" ? n > 100 : !Number.isInteger(n))) {
    throw new InvalidArgumentError("--max-failed takes a row count (e.g. 100) or a percentage (e.g. 2.5%)");
  }
  return m[2] === "%" ? { percent: n } : { rows: n };
}

/** The exit code for a finished job: 3 when its errors file holds more rows than allowed. */
export function failedTooMany(summary: RunSummary, max: MaxFailed | undefined): string | null {
  if (!max || summary.interrupted) return null;
  const failed = summary.failed + summary.invalid;
  const lines = summary.total + summary.invalid;
  const allowed = "rows" in max ? max.rows : (lines * max.percent) / 100;
  if (failed <= allowed) return null;
  const limit = "rows" in max ? `${max.rows} rows` : `${max.percent}% of ${lines} lines`;
  return `${failed} rows ended in the errors file, more than --max-failed allows (${limit})`;
}
