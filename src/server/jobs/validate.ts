// The `validating` step of a batch: one streamed pass over the input that checks every line the
// way OpenAI does (JSON, custom_id, method, url = the batch's endpoint, duplicates, row limit),
// names each problem's line, and writes the runnable copy with models mapped to served ones.
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { finished } from "node:stream/promises";
import { withMember } from "../../input/json-scan.js";
import { type InputLine, readLineBatches } from "../../input/lines.js";
import { parseLine } from "../../input/row.js";
import type { BatchErrorEntry } from "../store/batches.js";
import { type ModelMap, mapModel } from "./models.js";

/** How many problems a failed batch lists. */
export const MAX_LISTED_ERRORS = 100;

export type ValidationResult =
  | { ok: true; total: number; model: string | null }
  | { ok: false; errors: BatchErrorEntry[] };

export interface ValidateOptions {
  source: string;
  /** The runnable copy (written via a temp file, renamed into place on success). */
  dest: string;
  endpoint: string;
  maxRows: number;
  models: ModelMap;
  signal: AbortSignal;
}

function entry(line: number, message: string): BatchErrorEntry {
  let code = "invalid_request";
  let param: string | null = null;
  if (message.startsWith("malformed JSON") || message === "line is not a JSON object") {
    code = "invalid_json_line";
  } else {
    const field = /^(?:missing |unsupported )?(custom_id|method|url|body(?:\.\w+)?)/.exec(message);
    if (field) param = field[1] as string;
  }
  return { code, message: `Line ${line}: ${message}`, param, line };
}

export async function validateBatchInput(o: ValidateOptions): Promise<ValidationResult> {
  const pass: Pass = { errors: [], seen: new Set(), total: 0, model: null };
  const errors = pass.errors;
  const tmp = `${o.dest}.tmp`;
  await mkdir(dirname(o.dest), { recursive: true });
  const out = createWriteStream(tmp);
  let writeError: Error | undefined;
  out.on("error", (err) => {
    writeError = err;
  });
  try {
    for await (const batch of readLineBatches(createReadStream(o.source))) {
      if (o.signal.aborted) break;
      const chunks: string[] = [];
      for (const line of batch) {
        const runnable = runnableLine(o, pass, line);
        if (runnable === TOO_MANY) break;
        if (runnable !== null) chunks.push(runnable);
      }
      if (errors.length > 0 && pass.total > o.maxRows) break;
      if (errors.length === 0 && chunks.length > 0 && !out.write(chunks.join(""))) {
        await once(out, "drain"); // rejects if the write fails
      }
    }
    out.end();
    await finished(out);
    if (writeError) throw writeError;
    if (errors.length === 0 && pass.total === 0 && !o.signal.aborted) {
      errors.push({ code: "empty_file", message: "The input file has no requests", param: null, line: null });
    }
    if (errors.length > 0 || o.signal.aborted) {
      await rm(tmp, { force: true });
      return { ok: false, errors };
    }
    await rename(tmp, o.dest);
    return { ok: true, total: pass.total, model: pass.model };
  } catch (err) {
    out.destroy();
    await rm(tmp, { force: true });
    throw err;
  }
}

/** What the pass has seen so far. */
interface Pass {
  errors: BatchErrorEntry[];
  seen: Set<string>;
  total: number;
  /** The first row's (mapped) model: the batch's model. */
  model: string | null;
}

const TOO_MANY = Symbol("too many rows");

function add(pass: Pass, e: BatchErrorEntry): null {
  if (pass.errors.length < MAX_LISTED_ERRORS) pass.errors.push(e);
  return null;
}

/** A line as the runnable copy holds it; null when it is refused (its problem noted). */
function runnableLine(o: ValidateOptions, pass: Pass, line: InputLine): string | null | typeof TOO_MANY {
  const { lineNo, text } = line;
  const parsed = parseLine(line);
  if (!parsed.ok) return add(pass, entry(lineNo, parsed.message));
  const { customId, url, body, bodyText } = parsed.row;
  if (url !== o.endpoint) {
    return add(pass, {
      code: "mismatched_endpoint",
      message: `Line ${lineNo}: url ${url} does not match the batch endpoint ${o.endpoint}`,
      param: "url",
      line: lineNo,
    });
  }
  if (pass.seen.has(customId)) {
    return add(pass, {
      code: "duplicate_custom_id",
      message: `Line ${lineNo}: duplicate custom_id ${JSON.stringify(customId.slice(0, 100))}`,
      param: "custom_id",
      line: lineNo,
    });
  }
  pass.seen.add(customId);
  pass.total++;
  if (pass.total > o.maxRows) {
    add(pass, {
      code: "too_many_requests",
      message: `The batch has more than ${o.maxRows} requests (the limit)`,
      param: null,
      line: lineNo,
    });
    return TOO_MANY;
  }
  const mapped = mapModel(o.models, body.model);
  pass.model ??= mapped ?? (typeof body.model === "string" ? body.model : null);
  if (mapped === undefined || mapped === body.model) return `${text}\n`;
  // Only the model changes: every other byte of the body goes on as the client wrote it.
  const mappedBody = withMember(bodyText, "model", JSON.stringify(mapped));
  return `{"custom_id":${JSON.stringify(customId)},"method":"POST","url":${JSON.stringify(url)},"body":${mappedBody}}\n`;
}
