// The summary a validation prints about valid rows: counts per url and per model, rows without a
// model, repeated prompts, and the longest prompt. Bounded: at most MAX_MODELS model names kept.
import type { BatchRow } from "../../input/row.js";

const MAX_MODELS = 100;
const OTHER = "(other models)";

export interface LongestPrompt {
  chars: number;
  customId: string;
  line: number;
}

export interface InputStats {
  byUrl: Record<string, number>;
  /** Rows per body.model ("(none)" for rows without one). */
  models: Record<string, number>;
  rowsWithoutModel: number;
  /** Rows whose url and body repeat an earlier row's exactly. */
  duplicatePrompts: number;
  longestPrompt: LongestPrompt | null;
}

export function emptyStats(): InputStats {
  return { byUrl: {}, models: {}, rowsWithoutModel: 0, duplicatePrompts: 0, longestPrompt: null };
}

export function addRow(s: InputStats, row: BatchRow, line: number, chars: number): void {
  s.byUrl[row.url] = (s.byUrl[row.url] ?? 0) + 1;
  let model = typeof row.body.model === "string" ? row.body.model : "(none)";
  if (model === "(none)") s.rowsWithoutModel++;
  if (!Object.hasOwn(s.models, model) && Object.keys(s.models).length >= MAX_MODELS) model = OTHER;
  s.models[model] = (s.models[model] ?? 0) + 1;
  if (s.longestPrompt === null || chars > s.longestPrompt.chars) {
    s.longestPrompt = { chars, customId: row.customId, line };
  }
}
