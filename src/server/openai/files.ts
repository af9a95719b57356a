// The OpenAI Files API: upload (streamed to disk), list, retrieve, download, delete. The database
// is the authority: a file is served only if its record exists, and its path comes from its id.
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import type { ServerContext } from "../context.js";
import { parseMultipart } from "../http/multipart.js";
import { badRequest, notFound, sendJson } from "../http/respond.js";
import type { RouteRequest } from "../http/router.js";
import { newId } from "../ids.js";
import type { FileRecord } from "../store/files.js";
import { expiresAfterSeconds, expiresAt } from "./expires-after.js";
import { cursorParam, limitParam, toSeconds } from "./list.js";

const PURPOSES = ["assistants", "batch", "fine-tune", "vision", "user_data", "evals"];

export function fileObject(f: FileRecord) {
  return {
    id: f.id,
    object: "file" as const,
    bytes: f.bytes,
    created_at: toSeconds(f.created_at) as number,
    expires_at: toSeconds(f.expires_at),
    filename: f.filename,
    purpose: f.purpose,
    status: "processed" as const,
    status_details: null,
  };
}

function requireFile(ctx: ServerContext, id: string | undefined): FileRecord {
  const f = id ? ctx.files.get(id) : undefined;
  if (!f || !id) throw notFound("File object", id ?? "");
  return f;
}

/** Expiry from `expires_after` if sent (OpenAI's range), never later than the retention period. */
function expiry(ctx: ServerContext, fields: Map<string, string>, now: number): number {
  const s = expiresAfterSeconds(
    fields.get("expires_after[anchor]"),
    fields.get("expires_after[seconds]"),
    "expires_after",
  );
  return expiresAt(now, ctx.options.retentionMs, s);
}

export async function uploadFile({ req, res, ctx }: RouteRequest): Promise<void> {
  const tmp = ctx.layout.upload(randomBytes(12).toString("hex"));
  const { fields, file } = await parseMultipart(req, {
    fileField: "file",
    filePath: tmp,
    maxFileBytes: ctx.options.maxFileBytes,
  });
  try {
    if (!file) throw badRequest("The 'file' field is required (multipart/form-data)", "file");
    const purpose = fields.get("purpose");
    if (!purpose || !PURPOSES.includes(purpose)) {
      throw badRequest(`'purpose' must be one of ${PURPOSES.join(", ")}`, "purpose");
    }
    const now = Date.now();
    const id = newId("file");
    const expiresAt = expiry(ctx, fields, now);
    await rename(tmp, ctx.layout.file(id));
    const record = ctx.files.insert({
      id,
      purpose,
      filename: file.filename,
      bytes: file.bytes,
      created_at: now,
      expires_at: expiresAt,
    });
    ctx.log?.info({ file: id, bytes: file.bytes, purpose }, "file uploaded");
    sendJson(res, 200, fileObject(record));
  } finally {
    await rm(tmp, { force: true });
  }
}

export function listFiles({ res, ctx, query }: RouteRequest): void {
  const order = query.get("order") ?? "desc";
  if (order !== "asc" && order !== "desc") throw badRequest("order must be asc or desc", "order");
  const page = ctx.files.list({
    after: cursorParam(query, "after", "file"),
    limit: limitParam(query, "limit", 10_000, 10_000),
    order,
    purpose: query.get("purpose") ?? undefined,
  });
  const data = page.data.map(fileObject);
  sendJson(res, 200, {
    object: "list",
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: page.hasMore,
  });
}

export function retrieveFile({ res, ctx, params }: RouteRequest): void {
  sendJson(res, 200, fileObject(requireFile(ctx, params.file)));
}

export async function fileContent({ res, ctx, params }: RouteRequest): Promise<void> {
  const f = requireFile(ctx, params.file);
  const stream = createReadStream(ctx.layout.file(f.id));
  // Open before answering, so a file missing on disk is a clean 404, not a torn response.
  await new Promise<void>((resolve, reject) => {
    stream.once("open", () => resolve());
    stream.once("error", () => reject(notFound("File object", f.id)));
  });
  res.writeHead(200, {
    "content-type": "application/octet-stream",
    "content-length": f.bytes,
    "content-disposition": `attachment; filename="${f.filename.replace(/[^\w.-]/g, "_")}"`,
  });
  await pipeline(stream, res);
}

export async function deleteFile({ res, ctx, params }: RouteRequest): Promise<void> {
  const f = requireFile(ctx, params.file);
  ctx.files.delete(f.id);
  await rm(ctx.layout.file(f.id), { force: true });
  ctx.log?.info({ file: f.id }, "file deleted");
  sendJson(res, 200, { id: f.id, object: "file", deleted: true });
}
