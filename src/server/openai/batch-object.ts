// A batch record rendered as OpenAI's Batch object, with the fields and nulls the SDK expects.
import type { BatchErrorEntry, BatchRecord } from "../store/batches.js";
import { toSeconds } from "./list.js";

export function openaiBatchObject(b: BatchRecord) {
  const errors = b.errors ? (JSON.parse(b.errors) as BatchErrorEntry[]) : null;
  return {
    id: b.id,
    object: "batch" as const,
    endpoint: b.endpoint,
    model: b.model,
    errors: errors ? { object: "list", data: errors } : null,
    input_file_id: b.input_file_id,
    completion_window: b.completion_window,
    status: b.status,
    output_file_id: b.output_ready ? b.output_file_id : null,
    error_file_id: b.errors_ready ? b.error_file_id : null,
    created_at: toSeconds(b.created_at) as number,
    in_progress_at: toSeconds(b.in_progress_at),
    expires_at: toSeconds(b.expires_at),
    finalizing_at: toSeconds(b.finalizing_at),
    completed_at: toSeconds(b.completed_at),
    failed_at: toSeconds(b.failed_at),
    expired_at: toSeconds(b.expired_at),
    cancelling_at: toSeconds(b.cancelling_at),
    cancelled_at: toSeconds(b.cancelled_at),
    request_counts: { total: b.total, completed: b.succeeded, failed: b.failed },
    usage: {
      input_tokens: b.prompt_tokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: b.completion_tokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: b.prompt_tokens + b.completion_tokens,
    },
    metadata: b.metadata ? (JSON.parse(b.metadata) as Record<string, string>) : null,
  };
}
