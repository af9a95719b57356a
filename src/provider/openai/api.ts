// The OpenAI Batch API (and every API that copies it: Together, Fireworks, Groq, `vbatch serve`)
// through the official openai SDK, with its own retries off (maxRetries: 0): the batch loop owns
// retries. Facts from openai-node src/resources/batches.ts and files.ts (v6.49): a batch input
// file holds up to 50,000 requests and 200 MB; completion_window is '24h'; metadata is up to 16
// pairs (keys <= 64 characters, values <= 512); output_expires_after {anchor: 'created_at',
// seconds 3600..2592000}; statuses validating, failed, in_progress, finalizing, completed,
// expired, cancelling, cancelled; `batches.list` pages newest first.
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import OpenAI, { APIError } from "openai";
import type { BatchCreateParams } from "openai/resources/batches";
import {
  type BatchInfo,
  batchMetadata,
  type ChunkTag,
  type ProviderApi,
  QueueFull,
  type ResultLine,
  ResultsGone,
} from "../api.js";
import { splitLines } from "../lines.js";
import { OPENAI_URL, type ProviderOptions } from "../options.js";
import { parseOutputLine } from "./output-line.js";

const ENDED = new Set(["completed", "failed", "expired", "cancelled"]);
/** A batch listed this long before its chunk was planned is not the chunk's (clock skew). */
const SKEW_MS = 10 * 60_000;

type Batch = OpenAI.Batches.Batch;

function info(b: Batch): BatchInfo {
  const first = b.errors?.data?.[0];
  const ended = b.completed_at ?? b.failed_at ?? b.expired_at ?? b.cancelled_at;
  return {
    id: b.id,
    status: b.status,
    ended: ENDED.has(b.status),
    counts: b.request_counts ? { ...b.request_counts } : null,
    outputFile: b.output_file_id ?? null,
    errorFile: b.error_file_id ?? null,
    createdAt: b.created_at * 1000,
    endedAt: ended ? ended * 1000 : null,
    error: first ? { code: first.code ?? "batch_failed", message: first.message ?? "" } : null,
  };
}

export class OpenAIBatches implements ProviderApi {
  readonly name = "openai";
  readonly maxRows = 50_000;
  readonly maxBytes = 200 * 1_000_000;
  private readonly client: OpenAI;
  private readonly retentionSec: number;

  constructor(o: ProviderOptions) {
    this.client = new OpenAI({
      baseURL: o.url ?? OPENAI_URL,
      apiKey: o.apiKey ?? process.env.OPENAI_API_KEY ?? "",
      maxRetries: 0,
      timeout: 600_000,
    });
    this.retentionSec = o.outputRetentionSec ?? 30 * 86_400;
  }

  async upload(path: string): Promise<string> {
    const file = await this.client.files.create({ file: createReadStream(path), purpose: "batch" });
    return file.id;
  }

  async create(tag: ChunkTag, fileId: string | null, _path: string, endpoint: string): Promise<BatchInfo> {
    try {
      const b = await this.client.batches.create({
        input_file_id: fileId ?? "",
        endpoint: endpoint as BatchCreateParams["endpoint"],
        completion_window: "24h",
        metadata: batchMetadata(tag),
        output_expires_after: { anchor: "created_at", seconds: this.retentionSec },
      });
      return info(b);
    } catch (err) {
      if (err instanceof APIError && err.status === 429) throw new QueueFull(err.message);
      throw err;
    }
  }

  async find(tag: ChunkTag): Promise<BatchInfo | undefined> {
    for await (const b of this.client.batches.list({ limit: 100 })) {
      if (b.created_at * 1000 < tag.since - SKEW_MS) return undefined;
      const m = (b.metadata ?? {}) as Record<string, string>;
      if (m.vbatch_job === tag.jobId && m.vbatch_chunk === String(tag.chunk)) return info(b);
    }
    return undefined;
  }

  async retrieve(id: string): Promise<BatchInfo> {
    return info(await this.client.batches.retrieve(id));
  }

  async cancel(id: string): Promise<void> {
    try {
      await this.client.batches.cancel(id);
    } catch (err) {
      // 409: it ended meanwhile; its results are downloaded like any ended batch's.
      if (!(err instanceof APIError && err.status === 409)) throw err;
    }
  }

  async *results(batch: BatchInfo): AsyncIterable<ResultLine> {
    for (const id of [batch.outputFile, batch.errorFile]) {
      if (!id) continue;
      let res: Response;
      try {
        res = await this.client.files.content(id);
      } catch (err) {
        if (err instanceof APIError && err.status === 404) {
          throw new ResultsGone(`file ${id} of batch ${batch.id} is gone: ${err.message}`);
        }
        throw err;
      }
      if (!res.body) continue;
      for await (const line of splitLines(Readable.fromWeb(res.body as never))) {
        yield parseOutputLine(line);
      }
    }
  }
}
