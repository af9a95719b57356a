// What every batch file format provides: recognising its lines, turning one into the request sent
// to vLLM (an OpenAI-compatible body), and writing a finished row back in the format's own result
// line. Rows travel through the runner as OpenAI batch lines; a format reshapes them at the end.
import type { BatchUrl } from "../input/urls.js";

export type FormatName = "openai" | "anthropic" | "gemini" | "bedrock";

/** How a finished row's output line is written: the format, and what it must echo. */
export interface OutputShape {
  format: FormatName;
  /** A sub-shape of the format (Bedrock: which model family's body). */
  variant?: string | undefined;
  /** Raw JSON text the result line repeats (Bedrock's modelInput). */
  echo?: string | undefined;
}

/** One line of a batch file, read and translated. */
export interface BatchRow {
  customId: string;
  url: BatchUrl;
  /** The body parsed, for checks. Never serialised again for an OpenAI line. */
  body: Record<string, unknown>;
  /** The body as sent: the line's own text for OpenAI lines, the translation for other formats. */
  bodyText: string;
  format: FormatName;
  /** How its result line is written; unset for OpenAI lines, whose result line is the runner's. */
  shape?: OutputShape | undefined;
}

export type ParseResult =
  | { ok: true; row: BatchRow }
  | { ok: false; message: string; customId?: string | undefined };

/** What a failure line of the errors file says, read back by `vbatch retry`. */
export interface FailureLine {
  /** The row's id (the format's idField). */
  id: string;
  /**
   * The codes the line shows, in the format's own terms: an HTTP status or vbatch error code
   * (OpenAI), an error type (Anthropic), a google.rpc code as number and name (Gemini), an
   * errorCode (Bedrock).
   */
  codes: string[];
}

export interface BatchFormat {
  name: FormatName;
  /** For messages: "OpenAI", "Anthropic", ... */
  label: string;
  /** The line's field holding the row's id: custom_id, key, recordId. */
  idField: string;
  /** Whether a parsed line has this format's shape (the fields that name it). */
  matches(value: Record<string, unknown>): boolean;
  /**
   * Validates one line of this format and builds its request. `text` is the line as written; the
   * id (`customId`, from idField) is already checked.
   */
  parse(value: Record<string, unknown>, text: string, customId: string): ParseResult;
  /**
   * The format's result line for a finished row, from the OpenAI batch output or error line the
   * runner made for it (text ending in a newline). `customId` is the row's id (null for a line so
   * broken it had none).
   */
  outputLine(openaiLine: string, shape: OutputShape | undefined): string;
  /**
   * The shape of the error line for an input line that failed validation, for a format whose
   * result lines repeat part of their input (Bedrock's modelInput); `text` is the line as written.
   */
  invalidShape?(text: string): OutputShape;
  /** Reads one of this format's failure result lines; null for a line that is not one. */
  failure(value: Record<string, unknown>): FailureLine | null;
}
