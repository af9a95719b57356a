// Reading shard outputs for a merge: each line with its byte offset (so input order can be
// written later by reading lines back instead of holding them), its custom_id, and whether it is a
// success (an HTTP 2xx answer without error) or a failure.
import { openInput } from "../../input/open.js";
import { isPlainObject } from "../../input/row.js";

export interface SourceLine {
  lineNo: number;
  /** Byte offset of the line in the (decompressed) file. */
  offset: number;
  /** Bytes of the line, without its line break. */
  length: number;
  text: string;
}

/** Batches of non-blank lines with their offsets. */
export async function* readSourceLines(path: string): AsyncGenerator<SourceLine[]> {
  let lineNo = 0;
  let base = 0; // offset of carry[0] in the file
  let carry: Buffer | null = null;
  const take = (buf: Buffer, start: number, end: number, out: SourceLine[]) => {
    lineNo++;
    let e = end;
    if (e > start && buf[e - 1] === 13) e--;
    const text = buf.toString("utf8", start, e);
    if (text.trim() !== "") out.push({ lineNo, offset: base + start, length: e - start, text });
  };
  for await (const chunk of openInput(path) as AsyncIterable<Buffer>) {
    const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    const out: SourceLine[] = [];
    let start = 0;
    for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, start)) {
      take(buf, start, nl, out);
      start = nl + 1;
    }
    carry = start < buf.length ? buf.subarray(start) : null;
    base += start;
    if (out.length > 0) yield out;
  }
  if (carry && carry.length > 0) {
    const out: SourceLine[] = [];
    take(carry, 0, carry.length, out);
    if (out.length > 0) yield out;
  }
}

export type Classified =
  | { ok: true; customId: string | null; success: boolean }
  | { ok: false; message: string };

/**
 * Which format a result line is in, by its id field and what it carries: OpenAI and Anthropic
 * (custom_id, with response/error or result), Gemini (key, response or error), Bedrock (recordId,
 * modelOutput or error). Null when it is none of them.
 */
function readResult(v: Record<string, unknown>): { id: unknown; success: boolean } | null {
  if ("recordId" in v && ("modelOutput" in v || "error" in v)) {
    return { id: v.recordId, success: isPlainObject(v.modelOutput) && v.error === undefined };
  }
  if ("key" in v && ("response" in v || "error" in v)) {
    return { id: v.key, success: isPlainObject(v.response) && (v.error === undefined || v.error === null) };
  }
  if ("custom_id" in v && isPlainObject(v.result)) {
    return { id: v.custom_id, success: v.result.type === "succeeded" };
  }
  if ("response" in v || "error" in v) {
    const r = v.response;
    const status = isPlainObject(r) ? r.status_code : undefined;
    const success =
      typeof status === "number" &&
      status >= 200 &&
      status < 300 &&
      (v.error === null || v.error === undefined);
    return { id: v.custom_id, success };
  }
  return null;
}

/** Reads one output line: its row id (null for an unkeyed error line) and success or failure. */
export function classify(text: string): Classified {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `malformed JSON (${(err as Error).message})` };
  }
  if (!isPlainObject(v)) return { ok: false, message: "line is not a JSON object" };
  const r = readResult(v);
  if (!r) {
    return {
      ok: false,
      message: "not a batch output line (no response, result, modelOutput or error; is it an input file?)",
    };
  }
  if (r.id !== null && (typeof r.id !== "string" || r.id === "")) {
    return { ok: false, message: "its id (custom_id, key or recordId) must be a non-empty string" };
  }
  return { ok: true, customId: r.id as string | null, success: r.success };
}
