// Cuts the next chunk out of the rows no batch holds: each pending line is read and proved as the
// send pass proves it (src/send/row-reader.ts), written as one batch request line of the
// provider's own shape, until the chunk is as large as --chunk-rows / --chunk-mb allow. The file
// is written to disk beside the journal, never held in memory; its rows are returned for the
// journal to record before it is uploaded.
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import type { FormatName } from "../formats/types.js";
import { memberSpan, prependMembers } from "../input/json-scan.js";
import type { LedgerRow } from "../journal/batch-records.js";
import { readSendJobs } from "../send/row-reader.js";
import type { RowTask } from "../send/task.js";
import { chatToParams } from "./anthropic/from-chat.js";

export interface ChunkSource {
  inputFile: string;
  displayPath: string;
  jobId: string;
  format: FormatName;
  maxLineBytes: number | undefined;
  model: string | undefined;
  modelMap: ReadonlyMap<string, string>;
  /** The rows to take, a page at a time (unassigned rows, or one chunk's rows on a rebuild). */
  page: (after: number, limit: number) => LedgerRow[];
}

export interface ChunkLimits {
  rows: number;
  bytes: number;
}

export interface BuiltChunk {
  lines: number[];
  bytes: number;
  /** The url every row of the chunk has (a batch has one endpoint). */
  url: string;
}

/** One row as a line of the provider's input (OpenAI: {custom_id, method, url, body}). */
export type RequestLine = (task: RowTask) => string;

export function openaiRequestLine(task: RowTask): string {
  return `{"custom_id":${JSON.stringify(task.customId)},"method":"POST","url":${JSON.stringify(task.url)},"body":${task.body}}\n`;
}

/**
 * One Anthropic-format row as a Message Batches request: the row's own params as the user wrote
 * them (a default --model put in front when it names none), under its mapped custom_id.
 */
export function anthropicRequestLine(id: (line: number) => string, model: string | undefined): RequestLine {
  return (task) => {
    const text = task.text ?? "";
    const span = memberSpan(text, "params");
    let params = span ? text.slice(span[0], span[1]) : "{}";
    if (model !== undefined && memberSpan(params, "model") === null) {
      params = prependMembers(params, [["model", JSON.stringify(model)]]);
    }
    return `{"custom_id":${JSON.stringify(id(task.line))},"params":${params}}\n`;
  };
}

/** One OpenAI chat row as a Message Batches request, translated where exact (from-chat.ts). */
export function chatAsAnthropicLine(id: (line: number) => string): RequestLine {
  return (task) =>
    `{"custom_id":${JSON.stringify(id(task.line))},"params":${JSON.stringify(chatToParams(JSON.parse(task.body)))}}\n`;
}

/**
 * Writes the next chunk to `path`, or returns null when no row is left. Rows of another url than
 * the chunk's first wait for a later chunk (one endpoint a batch).
 */
export async function buildChunk(
  src: ChunkSource,
  limits: ChunkLimits,
  path: string,
  toLine: RequestLine,
): Promise<BuiltChunk | null> {
  const lines: number[] = [];
  let bytes = 0;
  let url: string | undefined;
  const out = createWriteStream(path);
  try {
    jobs: for await (const batch of readSendJobs({
      inputFile: src.inputFile,
      displayPath: src.displayPath,
      journal: { pendingPage: src.page },
      jobId: src.jobId,
      defaultModel: src.model,
      modelMap: src.modelMap,
      priority: undefined,
      coalesce: false,
      schemas: false,
      format: src.format,
      maxLineBytes: src.maxLineBytes,
      keepText: true,
    })) {
      for (const job of batch) {
        const task = job.tasks[0] as RowTask;
        url ??= task.url;
        if (task.url !== url) continue;
        const text = toLine(task);
        const size = Buffer.byteLength(text);
        if (lines.length > 0 && (lines.length >= limits.rows || bytes + size > limits.bytes)) break jobs;
        if (!out.write(text)) await once(out, "drain");
        lines.push(task.line);
        bytes += size;
      }
    }
  } finally {
    out.end();
    await once(out, "close");
  }
  return url === undefined ? null : { lines, bytes, url };
}
