// Turns one attempt's result into what happens next: a committed line, another attempt, or a
// final failure. Pure, so the retry rules are tested without a network.
import { isRetryableStatus } from "../client/retry.js";
import { asJsonValue, extractUsage, looksLikeJsonObject } from "../client/usage.js";
import { TransportFailure, type WireResponse } from "../client/wire.js";
import { RowState, type RowStateValue } from "../journal/schema.js";
import { errorLine, responseLine } from "../output/format.js";

export type Outcome =
  | {
      kind: "final";
      line: string;
      toErrors: boolean;
      state: RowStateValue;
      status: number | null;
      promptTokens: number;
      completionTokens: number;
    }
  | { kind: "retry"; retryAfterMs: number | null; overloaded: boolean; reason: string };

/** The row an outcome is for: its custom_id and its output line's id. */
export interface RowRef {
  customId: string;
  lineId: string;
}

export function decide(
  row: RowRef,
  result: WireResponse | TransportFailure,
  attempts: number,
  maxAttempts: number,
): Outcome {
  const { customId, lineId: id } = row;
  const canRetry = attempts < maxAttempts;
  if (result instanceof TransportFailure) {
    if (canRetry) {
      return {
        kind: "retry",
        retryAfterMs: null,
        overloaded: result.kind === "timeout",
        reason: result.kind,
      };
    }
    const code = result.kind === "timeout" ? "request_timeout" : "connection_error";
    return {
      kind: "final",
      line: errorLine(id, customId, code, `${result.message} (after ${attempts} attempts)`),
      toErrors: true,
      state: RowState.failed,
      status: null,
      promptTokens: 0,
      completionTokens: 0,
    };
  }
  const { status, body } = result;
  if (status >= 200 && status < 300) {
    if (looksLikeJsonObject(body)) {
      const usage = extractUsage(body);
      return {
        kind: "final",
        line: responseLine(id, customId, status, result.requestId, body),
        toErrors: false,
        state: RowState.succeeded,
        status,
        promptTokens: usage.promptTokens,
        completionTokens: usage.completionTokens,
      };
    }
    if (canRetry) return { kind: "retry", retryAfterMs: null, overloaded: false, reason: "invalid_response" };
    return {
      kind: "final",
      line: errorLine(
        id,
        customId,
        "invalid_response",
        `engine answered ${status} with a body that is not a JSON object`,
      ),
      toErrors: true,
      state: RowState.failed,
      status,
      promptTokens: 0,
      completionTokens: 0,
    };
  }
  if (isRetryableStatus(status) && canRetry) {
    return {
      kind: "retry",
      retryAfterMs: result.retryAfterMs,
      overloaded: status === 429 || status === 503,
      reason: `HTTP ${status}`,
    };
  }
  return {
    kind: "final",
    line: responseLine(id, customId, status, result.requestId, asJsonValue(body)),
    toErrors: true,
    state: RowState.failed,
    status,
    promptTokens: 0,
    completionTokens: 0,
  };
}
