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
  const form = new FormParser(o, Buffer.from(`\r\n--${boundary}`));
  const maxTotal = o.maxFileBytes + 1024 * 1024;
  try {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxTotal) throw fileTooLarge(o.maxFileBytes);
    let total = 0;
    // Not destroyed when we stop early: a refused body is drained so the client sees the answer.
    for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxTotal) throw fileTooLarge(o.maxFileBytes);
      form.push(chunk);
      await form.consume(false);
    }
    await form.consume(true);
    if (form.state !== "done") throw new HttpError(400, "malformed multipart body: no closing boundary");
    return { fields: form.fields, file: form.file };
  } catch (err) {
    if (form.handle) await form.handle.close().catch(() => {});
    if (form.file) await rm(o.filePath, { force: true });
    throw err;
  }
}

type State = "preamble" | "after" | "headers" | "body" | "done";

/** The parser's state between chunks: where it is in the form, and the part being read. */
class FormParser {
  state: State = "preamble";
  readonly fields = new Map<string, string>();
  file: UploadedFile | null = null;
  /** Open while the file part is being written. */
  handle: FileHandle | null = null;
  private part: Part | null = null;
  private field: Buffer[] = [];
  private fieldBytes = 0;
  private fieldsBytes = 0;
  private parts = 0;
  private fileBytes = 0;
  // The leading CRLF lets the first boundary (which has none) match the same delimiter.
  private buf: Buffer = Buffer.from("\r\n");
  private readonly maxField: number;
  private readonly maxFields: number;
  private readonly maxParts: number;

  constructor(
    private readonly o: MultipartOptions,
    private readonly delim: Buffer,
  ) {
    this.maxField = o.maxFieldBytes ?? 4 * 1024;
    this.maxFields = o.maxFieldsBytes ?? 16 * 1024;
    this.maxParts = o.maxParts ?? 32;
  }

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  /** Reads as far as the buffered bytes go; `final`: no more will come. */
  async consume(final: boolean): Promise<void> {
    for (;;) {
      if (this.state === "done") {
        this.buf = Buffer.alloc(0);
        return;
      }
      if ((this.state === "preamble" || this.state === "body") && !(await this.toDelimiter(final))) return;
      if (this.state === "after" && !this.afterDelimiter()) return;
      if (this.state === "headers" && !(await this.headers())) return;
    }
  }

  /** Up to the next delimiter, emitting a part's body on the way; false: needs more bytes. */
  private async toDelimiter(final: boolean): Promise<boolean> {
    const buf = this.buf;
    const at = buf.indexOf(this.delim);
    if (at < 0) {
      // Keep a tail that could be the start of a delimiter split across chunks.
      const keep = final ? 0 : Math.min(buf.length, this.delim.length - 1);
      if (this.state === "body") await this.emit(buf.subarray(0, buf.length - keep));
      this.buf = buf.subarray(buf.length - keep);
      return false;
    }
    if (this.state === "body") {
      await this.emit(buf.subarray(0, at));
      await this.endPart();
    }
    this.buf = buf.subarray(at + this.delim.length);
    this.state = "after";
    return true;
  }

  /** The rest of a boundary line: "--" ends the form, CRLF starts a part; false: needs more bytes. */
  private afterDelimiter(): boolean {
    const buf = this.buf;
    if (buf.length < 2) return false;
    if (buf[0] === 45 && buf[1] === 45) {
      this.state = "done";
      return true;
    }
    const eol = buf.indexOf("\r\n");
    if (eol < 0) {
      if (buf.length > 256) throw new HttpError(400, "malformed multipart boundary line");
      return false;
    }
    this.buf = buf.subarray(eol + 2);
    this.state = "headers";
    return true;
  }

  /** A part's headers, up to the blank line; false: needs more bytes. */
  private async headers(): Promise<boolean> {
    const end = this.buf.indexOf(CRLF2);
    if (end < 0) {
      if (this.buf.length > MAX_HEADER_BYTES) throw new HttpError(400, "multipart part headers too large");
      return false;
    }
    await this.startPart(this.buf.subarray(0, end).toString("utf8"));
    this.buf = this.buf.subarray(end + 4);
    this.state = "body";
    return true;
  }

  private async emit(data: Buffer): Promise<void> {
    const part = this.part;
    if (data.length === 0 || !part) return;
    if (this.handle) {
      this.fileBytes += data.length;
      if (this.fileBytes > this.o.maxFileBytes) throw fileTooLarge(this.o.maxFileBytes);
      await this.handle.write(data);
      return;
    }
    this.fieldBytes += data.length;
    this.fieldsBytes += data.length;
    if (this.fieldBytes > this.maxField) {
      const name = shown(part.name);
      throw badRequest(`Form field '${name}' is longer than ${this.maxField} bytes`, name);
    }
    if (this.fieldsBytes > this.maxFields) throw tooMuchFormData(this.maxFields);
    // A copy: a slice would keep the whole network chunk it came in alive.
    this.field.push(Buffer.from(data));
  }

  private async endPart(): Promise<void> {
    if (!this.part) return;
    if (this.handle && this.file) {
      await this.handle.close();
      this.handle = null;
      this.file.bytes = this.fileBytes;
    } else {
      this.fields.set(this.part.name, Buffer.concat(this.field).toString("utf8"));
    }
    this.part = null;
  }

  private async startPart(headers: string): Promise<void> {
    const o = this.o;
    if (++this.parts > this.maxParts) throw badRequest(`The form has more than ${this.maxParts} parts`);
    const next = parsePartHeaders(headers);
    const name = next.name;
    const label = shown(name);
    if (name === "") throw badRequest("A form part has no name (Content-Disposition: form-data; name=...)");
    if (name === o.fileField) {
      if (this.file) throw badRequest(`More than one '${label}' part: upload one file at a time`, label);
      this.handle = await open(o.filePath, "wx");
      this.file = { filename: cleanFilename(next.filename ?? ""), bytes: 0, path: o.filePath };
    } else if (next.filename !== null) {
      // Otherwise a misnamed file would be held in memory as a field, or silently ignored.
      throw badRequest(`Form field '${label}' holds a file: send the file as '${o.fileField}'`, label);
    } else if (this.fields.has(name)) {
      throw badRequest(`Form field '${label}' was sent more than once`, label);
    } else {
      this.fieldsBytes += Buffer.byteLength(name);
      if (this.fieldsBytes > this.maxFields) throw tooMuchFormData(this.maxFields);
    }
    this.part = next;
    this.field = [];
    this.fieldBytes = 0;
  }
}

const fileTooLarge = (max: number) =>
  new HttpError(413, `File is larger than the ${max} byte limit`, { code: "file_too_large", param: "file" });

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
