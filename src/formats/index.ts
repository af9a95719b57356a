// The batch file formats vbatch reads, how a line is recognised, and the result line of each.
import { anthropicFormat } from "./anthropic.js";
import { bedrockFormat } from "./bedrock.js";
import { geminiFormat } from "./gemini.js";
import { openaiFormat } from "./openai.js";
import type { BatchFormat, FormatName, OutputShape } from "./types.js";

export type { BatchFormat, BatchRow, FormatName, OutputShape, ParseResult } from "./types.js";

/** Most specific first: a line is the first format it matches. */
const FORMATS: readonly BatchFormat[] = [bedrockFormat, geminiFormat, anthropicFormat, openaiFormat];

export const FORMAT_NAMES: readonly FormatName[] = ["openai", "anthropic", "gemini", "bedrock"];

export function formatNamed(name: FormatName): BatchFormat {
  const f = FORMATS.find((x) => x.name === name);
  if (!f) throw new Error(`no format ${name}`);
  return f;
}

/** The format a parsed line has the shape of (OpenAI when it names none of the others' fields). */
export function detectFormat(value: Record<string, unknown>): BatchFormat {
  return FORMATS.find((f) => f.matches(value)) ?? openaiFormat;
}

/** A finished row's output line in its format (the OpenAI line itself for OpenAI rows). */
export function shapeLine(openaiLine: string, format: FormatName, shape?: OutputShape): string {
  return format === "openai" ? openaiLine : formatNamed(format).outputLine(openaiLine, shape);
}
