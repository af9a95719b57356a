// A batch record rendered as Anthropic's MessageBatch, with counts split the way Anthropic does
// (succeeded, errored, canceled, expired, still processing) and ISO timestamps.
import { type BatchRecord, isFinal } from "../store/batches.js";

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function anthropicCounts(b: BatchRecord) {
  const succeeded = b.succeeded;
  let expired = b.expired;
  let errored = Math.max(0, b.failed - b.expired);
  let canceled = 0;
  let processing = Math.max(0, b.total - b.succeeded - b.failed);
  if (isFinal(b.status)) {
    // Rows that never ran are reported by why the batch ended.
    if (b.status === "cancelled") canceled = processing;
    else if (b.status === "expired") expired += processing;
    else errored += processing;
    processing = 0;
  }
  return { processing, succeeded, errored, canceled, expired };
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
