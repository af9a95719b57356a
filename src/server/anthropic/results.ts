// The results JSONL of an ended Anthropic batch, streamed: every output and error line translated,
// then every request that never ran, reported by why the batch ended (canceled or expired).
import { createReadStream, existsSync } from "node:fs";
import { resultFor } from "../../anthropic/reply.js";
import { readLineBatches } from "../../input/lines.js";
import { isPlainObject } from "../../input/row.js";
import type { BatchPaths } from "../layout.js";
import type { BatchRecord } from "../store/batches.js";

async function* lines(path: string): AsyncGenerator<Record<string, unknown>> {
  if (!existsSync(path)) return;
  for await (const batch of readLineBatches(createReadStream(path), undefined, Number.POSITIVE_INFINITY)) {
    for (const l of batch) {
      const v: unknown = JSON.parse(l.text);
      if (isPlainObject(v)) yield v;
    }
  }
}

function unrunResult(b: BatchRecord): Record<string, unknown> {
  if (b.status === "cancelled") return { type: "canceled" };
  if (b.status === "expired") return { type: "expired" };
  const message = "the batch failed before this request ran";
  return {
    type: "errored",
    error: { type: "error", error: { type: "api_error", message }, request_id: null },
  };
}

export async function* anthropicResults(b: BatchRecord, paths: BatchPaths): AsyncGenerator<string> {
  const seen = new Set<string>();
  for (const file of [paths.output, paths.errors]) {
    for await (const line of lines(file)) {
      if (typeof line.custom_id === "string") seen.add(line.custom_id);
      yield `${JSON.stringify(resultFor(line))}\n`;
    }
  }
  if (seen.size >= b.total) return;
  const rest = unrunResult(b);
  const source = existsSync(paths.requests) ? paths.requests : paths.source;
  for await (const line of lines(source)) {
    const id = line.custom_id;
    if (typeof id === "string" && !seen.has(id)) {
      seen.add(id);
      yield `${JSON.stringify({ custom_id: id, result: rest })}\n`;
    }
  }
}
