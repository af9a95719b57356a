// The OpenAI Batches API: create from an uploaded file, retrieve, list (cursor pages, newest
// first) and cancel. The work itself is the scheduler's.
import { isPlainObject, SUPPORTED_URLS } from "../../input/row.js";
import { readJson } from "../http/body.js";
import { badRequest, HttpError, notFound, sendJson } from "../http/respond.js";
import type { RouteRequest } from "../http/router.js";
import { isId, newId } from "../ids.js";
import { parseWindow } from "../jobs/window.js";
import type { BatchRecord } from "../store/batches.js";
import { openaiBatchObject } from "./batch-object.js";
import { expiresAfterSeconds } from "./expires-after.js";
import { cursorParam, limitParam } from "./list.js";

function checkMetadata(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (!isPlainObject(v)) throw badRequest("metadata must be an object of strings", "metadata");
  const entries = Object.entries(v);
  if (entries.length > 16) throw badRequest("metadata has more than 16 keys", "metadata");
  for (const [k, val] of entries) {
    if (k.length > 64 || typeof val !== "string" || val.length > 512) {
      throw badRequest(
        "metadata keys must be at most 64 characters and values strings of at most 512",
        "metadata",
      );
    }
  }
  return JSON.stringify(v);
}

export async function createBatch({ req, res, ctx }: RouteRequest): Promise<void> {
  const body = await readJson(req, ctx.options.maxJsonBytes);
  if (!isPlainObject(body)) throw badRequest("The request body must be a JSON object");
  const { input_file_id: fileId, endpoint, completion_window: window } = body;
  if (typeof fileId !== "string" || fileId === "") {
    throw badRequest("input_file_id is required", "input_file_id", "missing_required_parameter");
  }
  const file = isId("file", fileId) ? ctx.files.get(fileId) : undefined;
  if (!file)
    throw badRequest(`No such File object: ${fileId.slice(0, 80)}`, "input_file_id", "invalid_value");
  if (file.purpose !== "batch") {
    throw badRequest(
      `File ${fileId} has purpose '${file.purpose}'; a batch input must be uploaded with purpose 'batch'`,
      "input_file_id",
    );
  }
  if (typeof endpoint !== "string" || !(SUPPORTED_URLS as readonly string[]).includes(endpoint)) {
    throw badRequest(`endpoint must be one of ${SUPPORTED_URLS.join(", ")}`, "endpoint", "invalid_value");
  }
  if (typeof window !== "string") {
    throw badRequest("completion_window is required ('24h')", "completion_window");
  }
  const windowMs = parseWindow(window);
  if (windowMs === undefined) {
    throw badRequest(
      "completion_window must be '24h' (or <n>s, <n>m, <n>h)",
      "completion_window",
      "invalid_value",
    );
  }
  const oea = body.output_expires_after;
  if (oea !== undefined && oea !== null && !isPlainObject(oea)) {
    throw badRequest("output_expires_after must be an object {anchor, seconds}", "output_expires_after");
  }
  const outputExpiresAfter = isPlainObject(oea)
    ? expiresAfterSeconds(oea.anchor, oea.seconds, "output_expires_after")
    : null;
  const now = Date.now();
  const batch = ctx.batches.insert({
    id: newId("batch"),
    api: "openai",
    endpoint,
    input_file_id: fileId,
    completion_window: window,
    metadata: checkMetadata(body.metadata),
    output_file_id: newId("file"),
    error_file_id: newId("file"),
    created_at: now,
    expires_at: now + windowMs,
    total: 0,
    output_expires_after: outputExpiresAfter,
  });
  ctx.log?.info({ batch: batch.id, input: fileId, endpoint }, "batch created");
  ctx.scheduler.submit(batch.id);
  sendJson(res, 200, openaiBatchObject(ctx.batches.get(batch.id) as BatchRecord));
}

function requireBatch(r: RouteRequest): BatchRecord {
  const id = r.params.batch ?? "";
  const b = r.ctx.batches.get(id);
  if (b?.api !== "openai") throw notFound("batch", id);
  return b;
}

export function retrieveBatch(r: RouteRequest): void {
  sendJson(r.res, 200, openaiBatchObject(requireBatch(r)));
}

export function listBatches({ res, ctx, query }: RouteRequest): void {
  const page = ctx.batches.page("openai", {
    after: cursorParam(query, "after", "batch"),
    limit: limitParam(query, "limit", 20, 100),
  });
  const data = page.data.map(openaiBatchObject);
  sendJson(res, 200, {
    object: "list",
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: page.hasMore,
  });
}

export function cancelBatch(r: RouteRequest): void {
  const b = requireBatch(r);
  const result = r.ctx.scheduler.cancel(b.id);
  if (result === "ended") {
    throw new HttpError(409, `Cannot cancel a batch with status '${b.status}'.`, { code: "invalid_state" });
  }
  sendJson(r.res, 200, openaiBatchObject(r.ctx.batches.get(b.id) as BatchRecord));
}
