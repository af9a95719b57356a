// Anthropic's Message Batches API over raw HTTP (undici): requests go inline in the create call
// (streamed from the chunk file, never held whole), results come back as JSONL from
// `results_url`. Facts from anthropic-sdk-typescript src/resources/messages/batches.ts and
// Anthropic's Message Batches docs: up to 100,000 requests or 256 MB a batch; custom_id matches
// ^[a-zA-Z0-9_-]{1,64}$; processing_status in_progress / canceling / ended; request_counts
// processing / succeeded / errored / canceled / expired; a batch expires after 24 hours; results
// are kept 29 days. A batch has no metadata: see `find` for how an unrecorded one is found again.
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { request } from "undici";
import {
  type BatchInfo,
  type ChunkTag,
  type ProviderApi,
  QueueFull,
  type ResultLine,
  ResultsGone,
} from "../api.js";
import { splitLines } from "../lines.js";
import { ANTHROPIC_URL, type ProviderOptions } from "../options.js";
import { mappedPrefix, parseResultLine } from "./result-line.js";

/** A batch listed this long before its chunk was planned is not the chunk's (clock skew). */
const SKEW_MS = 10 * 60_000;

interface MessageBatch {
  id: string;
  processing_status: string;
  request_counts: Record<string, number>;
  created_at: string;
  ended_at: string | null;
  results_url: string | null;
}

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function info(b: MessageBatch): BatchInfo {
  return {
    id: b.id,
    status: b.processing_status,
    ended: b.processing_status === "ended",
    counts: b.request_counts,
    outputFile: b.results_url,
    errorFile: null,
    createdAt: Date.parse(b.created_at),
    endedAt: b.ended_at ? Date.parse(b.ended_at) : null,
    error: null,
  };
}

/** The requests of a chunk file ({custom_id, params} lines) as the create call's JSON body. */
async function* createBody(path: string): AsyncIterable<string> {
  yield '{"requests":[';
  let first = true;
  for await (const line of splitLines(createReadStream(path))) {
    yield first ? line : `,${line}`;
    first = false;
  }
  yield "]}";
}

export class AnthropicBatches implements ProviderApi {
  readonly name = "anthropic";
  readonly maxRows = 100_000;
  readonly maxBytes = 256 * 1_000_000;
  private readonly base: string;
  private readonly headers: Record<string, string>;

  constructor(o: ProviderOptions) {
    this.base = (o.url ?? ANTHROPIC_URL).replace(/\/+$/, "").replace(/\/v1$/, "");
    this.headers = {
      "x-api-key": o.apiKey ?? process.env.ANTHROPIC_API_KEY ?? "",
      "anthropic-version": "2023-06-01",
      "content-type": "application/json",
    };
  }

  private async call<T>(method: "GET" | "POST", path: string, body?: AsyncIterable<string>): Promise<T> {
    const res = await request(path.startsWith("http") ? path : `${this.base}${path}`, {
      method,
      headers: this.headers,
      body: body ? Readable.from(body) : undefined,
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) {
      throw new HttpStatusError(res.statusCode, `${method} ${path}: ${res.statusCode} ${text.slice(0, 300)}`);
    }
    return JSON.parse(text) as T;
  }

  async upload(): Promise<null> {
    return null; // requests go inline in the create call
  }

  async create(_tag: ChunkTag, _fileId: string | null, path: string): Promise<BatchInfo> {
    try {
      return info(await this.call<MessageBatch>("POST", "/v1/messages/batches", createBody(path)));
    } catch (err) {
      if (err instanceof HttpStatusError && err.status === 429) throw new QueueFull(err.message);
      throw err;
    }
  }

  /**
   * Anthropic batches carry no metadata. The chunk's intent is recorded before the create call
   * (its rows, their count and when it was planned), so an unrecorded batch is one created since
   * then with that many requests and not recorded for another chunk. An ended one is proved by
   * its results' custom_ids, which encode the job and chunk (vb_<job>_c<chunk>_<line>); a running
   * one is taken on its count, and its results are checked line by line all the same: an answer
   * whose custom_id is not this chunk's is never written, and its rows are sent again.
   */
  async find(tag: ChunkTag): Promise<BatchInfo | undefined> {
    let after: string | undefined;
    for (;;) {
      const page = await this.call<{ data: MessageBatch[]; has_more: boolean; last_id: string | null }>(
        "GET",
        `/v1/messages/batches?limit=100${after ? `&after_id=${after}` : ""}`,
      );
      for (const b of page.data) {
        if (Date.parse(b.created_at) < tag.since - SKEW_MS) return undefined;
        const total = Object.values(b.request_counts).reduce((a, v) => a + v, 0);
        if (total !== tag.rows || tag.known?.has(b.id)) continue;
        if (
          b.processing_status !== "ended" ||
          (await this.firstIdMatches(b, mappedPrefix(tag.jobId, tag.chunk)))
        ) {
          return info(b);
        }
      }
      if (!page.has_more || !page.last_id) return undefined;
      after = page.last_id;
    }
  }

  private async firstIdMatches(b: MessageBatch, prefix: string): Promise<boolean> {
    for await (const r of this.results(info(b))) return r.customId.startsWith(prefix);
    return false;
  }

  async retrieve(id: string): Promise<BatchInfo> {
    return info(await this.call<MessageBatch>("GET", `/v1/messages/batches/${id}`));
  }

  async cancel(id: string): Promise<void> {
    await this.call("POST", `/v1/messages/batches/${id}/cancel`);
  }

  async *results(batch: BatchInfo): AsyncIterable<ResultLine> {
    if (!batch.outputFile) return;
    const res = await request(batch.outputFile, { method: "GET", headers: this.headers });
    if (res.statusCode === 404) {
      await res.body.text();
      throw new ResultsGone(`the results of batch ${batch.id} are gone (404)`);
    }
    if (res.statusCode >= 300) {
      const text = await res.body.text();
      throw new HttpStatusError(
        res.statusCode,
        `results of ${batch.id}: ${res.statusCode} ${text.slice(0, 300)}`,
      );
    }
    for await (const line of splitLines(res.body)) yield parseResultLine(line);
  }
}
