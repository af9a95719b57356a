// A batch record rendered as Anthropic's MessageBatch, with counts split the way Anthropic does
// (succeeded, errored, canceled, expired, still processing) and ISO timestamps.
import { type BatchRecord, isFinal } from "../store/batches.js";

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/**
 * As the API defines them: "Requests start as `processing` and move to one of the other statuses
 * only once processing of the entire batch ends" (anthropic-sdk-typescript, messages/batches.ts):
 * until then every request counts as processing and the others are zero.
 */
export function anthropicCounts(b: BatchRecord) {
  if (!isFinal(b.status)) {
    return { processing: b.total, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
  }
  const succeeded = b.succeeded;
  let expired = b.expired;
  let errored = Math.max(0, b.failed - b.expired);
  let canceled = 0;
  // Rows that never ran are reported by why the batch ended.
  const unrun = Math.max(0, b.total - b.succeeded - b.failed);
  if (b.status === "cancelled") canceled = unrun;
  else if (b.status === "expired") expired += unrun;
  else errored += unrun;
  return { processing: 0, succeeded, errored, canceled, expired };
}

export function anthropicBatchObject(b: BatchRecord, baseUrl: string) {
  const ended = isFinal(b.status);
  return {
    id: b.id,
    type: "message_batch" as const,
    processing_status: ended ? "ended" : b.status === "cancelling" ? "canceling" : "in_progress",
    request_counts: anthropicCounts(b),
    ended_at: iso(b.ended_at),
    created_at: iso(b.created_at) as string,
    expires_at: iso(b.expires_at) as string,
    cancel_initiated_at: iso(b.cancelling_at),
    archived_at: null,
    results_url: ended ? `${baseUrl}/v1/messages/batches/${b.id}/results` : null,
  };
}
