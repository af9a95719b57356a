// The batch file formats vbatch reads, how a line is recognised, and the result line of each.
import { anthropicFormat } from "./anthropic.js";
import { bedrockFormat } from "./bedrock.js";
import { geminiFormat } from "./gemini.js";
import { openaiFormat } from "./openai.js";
import type { BatchFormat, FormatName, OutputShape } from "./types.js";

export type { BatchFormat, BatchRow, FailureLine, FormatName, OutputShape, ParseResult } from "./types.js";

/** Most specific first: a line is the first format it matches. */
const FORMATS: readonly BatchFormat[] = [bedrockFormat, geminiFormat, anthropicFormat, openaiFormat];

export const FORMAT_NAMES: readonly FormatName[] = ["openai", "anthropic", "gemini", "bedrock"];

const BY_NAME = new Map(FORMATS.map((f) => [f.name, f]));

export function formatNamed(name: FormatName): BatchFormat {
  const f = BY_NAME.get(name);
  if (!f) throw new Error(`no format ${name}`);
  return f;
}

/** The format a parsed line has the shape of (OpenAI when it names none of the others' fields). */
export function detectFormat(value: Record<string, unknown>): BatchFormat {
  return FORMATS.find((f) => f.matches(value)) ?? openaiFormat;
}

/** A finished row's output line in its format (the OpenAI line itself for OpenAI rows). */
export function shapeLine(openaiLine: string, shape: OutputShape): string {
  return formatNamed(shape.format).outputLine(openaiLine, shape);
}

/** "an OpenAI", "a Gemini": a format's label with its article, for messages. */
export function articled(label: string): string {
  return /^[AEIOU]/.test(label) ? `an ${label}` : `a ${label}`;
}

/** Every format's id field (custom_id, key, recordId), for lines too broken to tell the format. */
export const ID_FIELDS: readonly string[] = [...new Set(FORMAT_NAMES.map((n) => formatNamed(n).idField))];
