// Which failure lines `vbatch retry --codes` takes. A line answers to the codes it shows in its
// format's own terms, and to the HTTP status the engine gave its row (the journal keeps it, so
// `--codes 404` finds a Gemini line that shows 5 NOT_FOUND). vbatch's own codes for failures
// without a usable answer survive only in OpenAI lines; asked of another format they are refused
// with the code that format's lines show instead.
import { VbatchError } from "../../errors.js";
import type { BatchFormat, FailureLine } from "../../formats/index.js";
import { errorLine } from "../../output/format.js";

/** vbatch's codes for a row with no usable HTTP answer (send/outcome.ts, send/recorder.ts). */
export const VBATCH_FAILURE_CODES: readonly string[] = [
  "connection_error",
  "request_timeout",
  "invalid_response",
  "invalid_json",
];

/** The codes a failure line answers to: the HTTP status of its row (if an error), then its own. */
export function codesOf(line: FailureLine, status: number | null): string[] {
  const http = status !== null && (status < 200 || status > 299) ? [String(status)] : [];
  return [...new Set([...http, ...line.codes])];
}

/** Refuses a code of vbatch's own that `format`'s lines do not keep, naming the one they show. */
export function checkRetryCodes(format: BatchFormat, wanted: readonly string[]): void {
  for (const code of wanted) {
    if (!VBATCH_FAILURE_CODES.includes(code)) continue;
    const written = format.outputLine(errorLine("retry", "retry", code, code), undefined);
    const shown = format.failure(JSON.parse(written) as Record<string, unknown>);
    if (!shown || shown.codes.length === 0 || shown.codes.includes(code)) continue;
    const [first, ...names] = shown.codes;
    const label = names.length > 0 ? `${first} (${names.join(", ")})` : first;
    throw new VbatchError(
      "usage",
      `--codes ${code}: ${format.label} result lines show it as ${label}; pass --codes ${first}`,
    );
  }
}
