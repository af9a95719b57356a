// The parse step shared by formats that translate one member of their line (Anthropic's params,
// Gemini's request, Bedrock's modelInput) into an OpenAI-compatible request.
import type { BatchUrl } from "../input/urls.js";
import { refuseLossyNumbers } from "./lossless.js";
import type { BatchRow, FormatName, ParseResult } from "./types.js";

export interface Translation {
  url: BatchUrl;
  body: Record<string, unknown>;
  /** What the result line needs besides the format's name (see OutputShape). */
  variant?: string | undefined;
  echo?: string | undefined;
}

export interface TranslatedLine {
  format: FormatName;
  /** The member holding the provider's request, e.g. "params". */
  member: string;
  text: string;
  customId: string;
  translate(): Translation;
  /** The message for a translation error this format knows, or null to rethrow it. */
  refusal(err: unknown): string | null;
}

export function translatedRow(t: TranslatedLine): ParseResult {
  const lossy = refuseLossyNumbers(t.text, t.member, t.customId);
  if (lossy) return lossy;
  let out: Translation;
  try {
    out = t.translate();
  } catch (err) {
    const message = t.refusal(err);
    if (message === null) throw err;
    return { ok: false, message, customId: t.customId };
  }
  let text: string | undefined;
  const row: BatchRow = {
    customId: t.customId,
    url: out.url,
    body: out.body,
    // Written out only when read: validation reads it only to deduplicate.
    get bodyText() {
      text ??= JSON.stringify(out.body);
      return text;
    },
    format: t.format,
    shape: { format: t.format, variant: out.variant, echo: out.echo },
  };
  return { ok: true, row };
}
