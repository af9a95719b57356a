// The Anthropic Message Batches API. A batch's requests are translated to chat completions and
// written as an OpenAI-batch file, so it runs through exactly the same path as an OpenAI batch.
import { mkdir, open, rename, rm } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { anthropicToChat, TranslateError } from "../../anthropic/request.js";
import { isPlainObject } from "../../input/row.js";
import { readJson } from "../http/body.js";
import { badRequest, HttpError, notFound, sendJson } from "../http/respond.js";
import type { RouteRequest } from "../http/router.js";
import { newId } from "../ids.js";
import { batchPaths } from "../jobs/finish.js";
import { parseWindow } from "../jobs/window.js";
import { limitParam } from "../openai/list.js";
import { type BatchRecord, isFinal } from "../store/batches.js";
import { anthropicBatchObject } from "./batch-object.js";
import { anthropicResults } from "./results.js";

const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;
const DAY_MS = 86_400_000;

/** The translated requests as OpenAI-batch lines; refuses the whole batch on the first bad one. */
function translate(requests: unknown[]): string[] {
  const seen = new Set<string>();
  return requests.map((r, i) => {
    if (!isPlainObject(r)) throw badRequest(`requests.${i}: must be an object`);
    const id = r.custom_id;
    if (typeof id !== "string" || !CUSTOM_ID.test(id)) {
      throw badRequest(`requests.${i}.custom_id: must be 1-64 characters of letters, digits, _ and -`);
    }
    if (seen.has(id)) throw badRequest(`requests.${i}.custom_id: duplicate custom_id ${id}`);
    seen.add(id);
    try {
      const body = anthropicToChat(r.params);
      return `${JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body })}\n`;
    } catch (err) {
      if (err instanceof TranslateError) throw badRequest(err.under(`requests.${i}.params`));
      throw err;
    }
  });
}

export async function createMessageBatch({ req, res, ctx, baseUrl }: RouteRequest): Promise<void> {
  const body = await readJson(req, ctx.options.maxFileBytes);
  if (!isPlainObject(body) || !Array.isArray(body.requests) || body.requests.length === 0) {
    throw badRequest("requests: must be a non-empty array");
  }
  if (body.requests.length > ctx.options.maxBatchRows) {
    throw badRequest(`requests: at most ${ctx.options.maxBatchRows} requests per batch`);
  }
  // Anthropic batches have a 24 h window; `completion_window` is a vbatch extension (e.g. "10m").
  let windowMs = DAY_MS;
  if (body.completion_window !== undefined) {
    const w = typeof body.completion_window === "string" ? parseWindow(body.completion_window) : undefined;
    if (w === undefined) throw badRequest("completion_window: must be <n>s, <n>m or <n>h");
    windowMs = w;
  }
  const lines = translate(body.requests);
  const id = newId("msgbatch");
  const paths = ctx.layout.batch(id);
  await mkdir(paths.dir, { recursive: true });
  const tmp = `${paths.source}.tmp`;
  const fh = await open(tmp, "w");
  try {
    for (let i = 0; i < lines.length; i += 1000) await fh.write(lines.slice(i, i + 1000).join(""));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, paths.source);
  const now = Date.now();
  ctx.batches.insert({
    id,
    api: "anthropic",
    endpoint: "/v1/chat/completions",
    input_file_id: null,
    completion_window: body.completion_window === undefined ? "24h" : String(body.completion_window),
    metadata: null,
    output_file_id: newId("file"),
    error_file_id: newId("file"),
    created_at: now,
    expires_at: now + windowMs,
    output_expires_after: null,
    total: lines.length,
  });
  ctx.log?.info({ batch: id, rows: lines.length }, "message batch created");
  ctx.scheduler.submit(id);
  sendJson(res, 200, anthropicBatchObject(ctx.batches.get(id) as BatchRecord, baseUrl));
}

function requireBatch(r: RouteRequest): BatchRecord {
  const id = r.params.msgbatch ?? "";
  const b = r.ctx.batches.get(id);
  if (b?.api !== "anthropic") throw notFound("message batch", id);
  return b;
}

export function retrieveMessageBatch(r: RouteRequest): void {
  sendJson(r.res, 200, anthropicBatchObject(requireBatch(r), r.baseUrl));
}

export function listMessageBatches({ res, ctx, query, baseUrl }: RouteRequest): void {
  const cursor = (name: string) => {
    const v = query.get(name);
    if (v === null || v === "") return undefined;
    if (!/^msgbatch_[0-9a-f]{24}$/.test(v)) throw badRequest(`${name}: not a valid message batch id`);
    return v;
  };
  const page = ctx.batches.page("anthropic", {
    after: cursor("after_id"),
    before: cursor("before_id"),
    limit: limitParam(query, "limit", 20, 1000),
  });
  const data = page.data.map((b) => anthropicBatchObject(b, baseUrl));
  sendJson(res, 200, {
    data,
    has_more: page.hasMore,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
  });
}

export function cancelMessageBatch(r: RouteRequest): void {
  const b = requireBatch(r);
  if (r.ctx.scheduler.cancel(b.id) === "ended") {
    throw new HttpError(409, `message batch ${b.id} has already ended`);
  }
  sendJson(r.res, 200, anthropicBatchObject(r.ctx.batches.get(b.id) as BatchRecord, r.baseUrl));
}

export async function deleteMessageBatch(r: RouteRequest): Promise<void> {
  const b = requireBatch(r);
  if (!isFinal(b.status)) {
    throw new HttpError(409, `message batch ${b.id} is still processing; cancel it before deleting it`);
  }
  r.ctx.batches.delete(b.id);
  await rm(batchPaths(r.ctx, b).dir, { recursive: true, force: true });
  sendJson(r.res, 200, { id: b.id, type: "message_batch_deleted" });
}

export async function messageBatchResults(r: RouteRequest): Promise<void> {
  const b = requireBatch(r);
  if (!isFinal(b.status)) {
    throw new HttpError(404, `message batch ${b.id} has not ended yet; results are not available`);
  }
  r.res.writeHead(200, { "content-type": "application/x-jsonl" });
  await pipeline(Readable.from(anthropicResults(b, batchPaths(r.ctx, b))), r.res);
}
