// A streaming multipart/form-data parser for uploads: the file part goes straight to disk as it
// arrives (bounded memory, the size limit enforced while streaming), whether the client sends a
// Content-Length or chunked transfer encoding (the openai SDK streams without a length). Every other
// field is held in memory, so they are capped small, in size and in number.
import { type FileHandle, open, rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { stripControlChars } from "../../util/control-chars.js";
import { badRequest, HttpError } from "./respond.js";

export interface UploadedFile {
  filename: string;
  bytes: number;
  path: string;
}

export interface MultipartResult {
  fields: Map<string, string>;
  file: UploadedFile | null;
}

export interface MultipartOptions {
  /** The part with this name is the file (with or without a filename). */
  fileField: string;
  /** Where the file part is written; removed again if parsing fails. */
  filePath: string;
  maxFileBytes: number;
  /** Cap for the value of each other field (OpenAI's are a few bytes each). @default 4 KiB */
  maxFieldBytes?: number;
  /** Cap for the names and values of all other fields together. @default 16 KiB */
  maxFieldsBytes?: number;
  /** Most parts in one form, the file part included. @default 32 */
  maxParts?: number;
}

const MAX_HEADER_BYTES = 16 * 1024;
const CRLF2 = Buffer.from("\r\n\r\n");

export function boundaryOf(contentType: string | undefined): string | null {
  if (!contentType || !/^multipart\/form-data\b/i.test(contentType)) return null;
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(contentType);
  return m ? ((m[1] ?? m[2]) as string) : null;
}

interface Part {
  name: string;
  filename: string | null;
}

function parsePartHeaders(text: string): Part {
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon < 0 || line.slice(0, colon).trim().toLowerCase() !== "content-disposition") continue;
    const params = new Map<string, string>();
    for (const m of line.slice(colon + 1).matchAll(/;\s*([A-Za-z*]+)=(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g)) {
      params.set((m[1] as string).toLowerCase(), (m[2] ?? m[3] ?? "").replace(/\\(.)/g, "$1").trim());
    }
    let filename = params.get("filename") ?? null;
    const extended = params.get("filename*");
    if (extended) {
      const e = /^[^']*'[^']*'(.*)$/.exec(extended);
      try {
        filename = decodeURIComponent(e ? (e[1] as string) : extended);
      } catch {
        // keep the plain filename
      }
    }
    return { name: params.get("name") ?? "", filename };
  }
  throw new HttpError(400, "a multipart part has no Content-Disposition header");
}

/** Parses the request; the caller owns `filePath` afterwards (it exists only when `file` is set). */
export async function parseMultipart(req: IncomingMessage, o: MultipartOptions): Promise<MultipartResult> {
  const boundary = boundaryOf(req.headers["content-type"]);
  if (!boundary) throw new HttpError(400, "expected a multipart/form-data body with a boundary");
  const delim = Buffer.from(`\r\n--${boundary}`);
  const maxField = o.maxFieldBytes ?? 4 * 1024;
  const maxFields = o.maxFieldsBytes ?? 16 * 1024;
  const maxParts = o.maxParts ?? 32;
  const maxTotal = o.maxFileBytes + 1024 * 1024;
  const fields = new Map<string, string>();
  // Held in an object: closures assign these, which control-flow narrowing of locals would miss.
  const up: { file: UploadedFile | null; handle: FileHandle | null } = { file: null, handle: null };

  type State = "preamble" | "after" | "headers" | "body" | "done";
  let state = "preamble" as State;
  let part: Part | null = null;
  let field: Buffer[] = [];
  let fieldBytes = 0;
  let fieldsBytes = 0;
  let parts = 0;
  let fileBytes = 0;
  let total = 0;
  // The leading CRLF lets the first boundary (which has none) match the same delimiter.
  let buf: Buffer = Buffer.from("\r\n");

  const emit = async (data: Buffer) => {
    if (data.length === 0 || !part) return;
    if (up.handle) {
      fileBytes += data.length;
      if (fileBytes > o.maxFileBytes) {
        throw new HttpError(413, `File is larger than the ${o.maxFileBytes} byte limit`, {
          code: "file_too_large",
          param: "file",
        });
      }
      await up.handle.write(data);
    } else {
      fieldBytes += data.length;
      fieldsBytes += data.length;
      if (fieldBytes > maxField) {
        const name = shown(part.name);
        throw badRequest(`Form field '${name}' is longer than ${maxField} bytes`, name);
      }
      if (fieldsBytes > maxFields) throw tooMuchFormData(maxFields);
      // A copy: a slice would keep the whole network chunk it came in alive.
      field.push(Buffer.from(data));
    }
  };

  const endPart = async () => {
    if (!part) return;
    if (up.handle && up.file) {
      await up.handle.close();
      up.handle = null;
      up.file.bytes = fileBytes;
    } else {
      fields.set(part.name, Buffer.concat(field).toString("utf8"));
    }
    part = null;
  };

  const startPart = async (headers: string) => {
    if (++parts > maxParts) throw badRequest(`The form has more than ${maxParts} parts`);
    const next = parsePartHeaders(headers);
    const name = next.name;
    const label = shown(name);
    if (name === "") throw badRequest("A form part has no name (Content-Disposition: form-data; name=...)");
    if (name === o.fileField) {
      if (up.file) throw badRequest(`More than one '${label}' part: upload one file at a time`, label);
      up.handle = await open(o.filePath, "wx");
      up.file = { filename: cleanFilename(next.filename ?? ""), bytes: 0, path: o.filePath };
    } else if (next.filename !== null) {
      // Otherwise a misnamed file would be held in memory as a field, or silently ignored.
      throw badRequest(`Form field '${label}' holds a file: send the file as '${o.fileField}'`, label);
    } else if (fields.has(name)) {
      throw badRequest(`Form field '${label}' was sent more than once`, label);
    } else {
      fieldsBytes += Buffer.byteLength(name);
      if (fieldsBytes > maxFields) throw tooMuchFormData(maxFields);
    }
    part = next;
    field = [];
    fieldBytes = 0;
  };

  const consume = async (final: boolean) => {
    for (;;) {
      if (state === "done") {
        buf = Buffer.alloc(0);
        return;
      }
      if (state === "preamble" || state === "body") {
        const at = buf.indexOf(delim);
        if (at < 0) {
          // Keep a tail that could be the start of a delimiter split across chunks.
          const keep = final ? 0 : Math.min(buf.length, delim.length - 1);
          if (state === "body") await emit(buf.subarray(0, buf.length - keep));
          buf = buf.subarray(buf.length - keep);
          return;
        }
        if (state === "body") {
          await emit(buf.subarray(0, at));
          await endPart();
        }
        buf = buf.subarray(at + delim.length);
        state = "after";
      }
      if (state === "after") {
        if (buf.length < 2) return;
        if (buf[0] === 45 && buf[1] === 45) {
          state = "done";
          continue;
        }
        const eol = buf.indexOf("\r\n");
        if (eol < 0) {
          if (buf.length > 256) throw new HttpError(400, "malformed multipart boundary line");
          return;
        }
        buf = buf.subarray(eol + 2);
        state = "headers";
      }
      if (state === "headers") {
        const end = buf.indexOf(CRLF2);
        if (end < 0) {
          if (buf.length > MAX_HEADER_BYTES) throw new HttpError(400, "multipart part headers too large");
          return;
        }
        await startPart(buf.subarray(0, end).toString("utf8"));
        buf = buf.subarray(end + 4);
        state = "body";
      }
    }
  };

  try {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxTotal) {
      throw new HttpError(413, `File is larger than the ${o.maxFileBytes} byte limit`, {
        code: "file_too_large",
        param: "file",
      });
    }
    // Not destroyed when we stop early: a refused body is drained so the client sees the answer.
    for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxTotal) {
        throw new HttpError(413, `File is larger than the ${o.maxFileBytes} byte limit`, {
          code: "file_too_large",
          param: "file",
        });
      }
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      await consume(false);
    }
    await consume(true);
    if (state !== "done") throw new HttpError(400, "malformed multipart body: no closing boundary");
    return { fields, file: up.file };
  } catch (err) {
    if (up.handle) await up.handle.close().catch(() => {});
    if (up.file) await rm(o.filePath, { force: true });
    throw err;
  }
}

const tooMuchFormData = (max: number) =>
  badRequest(`The form fields other than the file total more than ${max} bytes`);

/** A client-chosen field name as quoted in an error: printable and short. */
function shown(name: string): string {
  const printable = stripControlChars(name);
  return printable.length > 64 ? `${printable.slice(0, 64)}...` : printable;
}

/** Kept only as metadata (never a path): printable, at most 255 characters. */
function cleanFilename(name: string): string {
  const cleaned = stripControlChars(name).trim();
  return (cleaned.split(/[\\/]/).pop() ?? "").slice(0, 255) || "upload.jsonl";
}
