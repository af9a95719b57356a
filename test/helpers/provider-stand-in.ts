// A provider stand-in for the tests: a real HTTP server that speaks the OpenAI Files and Batches
// API as the openai SDK sends it, with what `vbatch serve` does not do on demand: a slow
// `validating`, 429 on create, a batch that fails whole, expiry with part of the answers, an
// output file gone after retention, 5xx on file downloads, per-row failures, and pauses a test
// can hold a request in. Answers are made up: "answer to <custom_id>".
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface StandInBatch {
  id: string;
  metadata: Record<string, string>;
  inputFile: string;
  endpoint: string;
  rows: { custom_id: string; body: Record<string, unknown> }[];
  status: string;
  polls: number;
  created_at: number;
  output_file_id: string | null;
  error_file_id: string | null;
  errors: { data: { code: string; message: string }[] } | null;
  counts: { total: number; completed: number; failed: number };
}

export interface StandInScript {
  /** Polls a batch answers `validating` before it runs. @default 0 */
  validatingPolls?: number;
  /** Creates refused with 429 before one is accepted. @default 0 */
  refuseCreates?: number;
  /** The n-th batch created (1-based) fails whole with this error code. */
  failBatch?: Record<number, string>;
  /** The n-th batch expires with only its first k rows answered. */
  expireBatch?: Record<number, number>;
  /** Downloads answered 500 before one succeeds. @default 0 */
  downloadErrors?: number;
  /** The n-th batch's result files are gone (404) once it ends. */
  goneBatch?: Record<number, boolean>;
  /** The HTTP status a row gets on its k-th submission (1-based). @default 200 */
  rowStatus?: (customId: string, submission: number) => number;
}

export interface StandIn {
  url: string;
  batches: StandInBatch[];
  script: StandInScript;
  /** Uploads received. */
  uploads: number;
  /** Called before each request is answered; a test may hold it (e.g. until it kills the client). */
  before: ((method: string, path: string) => Promise<void> | void) | undefined;
  close(): Promise<void>;
}

const id = (p: string) => `${p}${randomBytes(12).toString("hex")}`;

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

function batchObject(b: StandInBatch) {
  return {
    id: b.id,
    object: "batch",
    endpoint: b.endpoint,
    errors: b.errors,
    input_file_id: b.inputFile,
    completion_window: "24h",
    status: b.status,
    output_file_id: b.output_file_id,
    error_file_id: b.error_file_id,
    created_at: b.created_at,
    request_counts: b.counts,
    metadata: b.metadata,
  };
}

function answer(customId: string, status: number): string {
  const body =
    status === 200
      ? {
          id: id("chatcmpl-"),
          object: "chat.completion",
          choices: [
            {
              index: 0,
              message: { role: "assistant", content: `answer to ${customId}` },
              finish_reason: "stop",
            },
          ],
          usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
        }
      : { error: { message: `status ${status}`, type: "server_error", code: null } };
  return `${JSON.stringify({ id: id("batch_req_"), custom_id: customId, response: { status_code: status, request_id: id("req_"), body }, error: null })}\n`;
}

export async function startStandIn(script: StandInScript = {}): Promise<StandIn> {
  const files = new Map<string, string>();
  const submissions = new Map<string, number>();
  let downloadErrors = script.downloadErrors ?? 0;
  let refusals = script.refuseCreates ?? 0;
  const stand: StandIn = {
    url: "",
    batches: [],
    script,
    uploads: 0,
    before: undefined,
    close: async () => {},
  };

  /** Runs a batch to its end (on its first poll past validating). */
  const finish = (b: StandInBatch, n: number) => {
    const fail = script.failBatch?.[n];
    if (fail) {
      b.status = "failed";
      b.errors = { data: [{ code: fail, message: `batch failed: ${fail}` }] };
      return;
    }
    const keep = script.expireBatch?.[n] ?? b.rows.length;
    let out = "";
    let err = "";
    b.rows.forEach((r, i) => {
      if (i >= keep) {
        err += `${JSON.stringify({ id: id("batch_req_"), custom_id: r.custom_id, response: null, error: { code: "batch_expired", message: "This request could not be executed before the completion window expired." } })}\n`;
        return;
      }
      const k = (submissions.get(r.custom_id) ?? 0) + 1;
      submissions.set(r.custom_id, k);
      const status = script.rowStatus?.(r.custom_id, k) ?? 200;
      if (status === 200) out += answer(r.custom_id, 200);
      else err += answer(r.custom_id, status);
      b.counts[status === 200 ? "completed" : "failed"]++;
    });
    b.status = keep < b.rows.length ? "expired" : "completed";
    const gone = script.goneBatch?.[n] === true;
    if (out) {
      b.output_file_id = id("file-");
      if (!gone) files.set(b.output_file_id, out);
    }
    if (err) {
      b.error_file_id = id("file-");
      if (!gone) files.set(b.error_file_id, err);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname;
    await stand.before?.(req.method ?? "GET", path);
    if (req.method === "POST" && path === "/v1/files") {
      const body = await readBody(req);
      const form = await new Request("http://x/", {
        method: "POST",
        headers: { "content-type": req.headers["content-type"] ?? "" },
        body,
      }).formData();
      const file = form.get("file") as File;
      const fid = id("file-");
      files.set(fid, await file.text());
      stand.uploads++;
      return send(res, 200, {
        id: fid,
        object: "file",
        bytes: file.size,
        purpose: "batch",
        filename: file.name,
        created_at: 0,
        status: "processed",
      });
    }
    if (req.method === "POST" && path === "/v1/batches") {
      const body = JSON.parse((await readBody(req)).toString()) as Record<string, unknown>;
      if (refusals > 0) {
        refusals--;
        return send(res, 429, {
          error: { message: "Enqueued token limit reached", type: "rate_limit", code: "rate_limit_exceeded" },
        });
      }
      const text = files.get(body.input_file_id as string);
      if (text === undefined)
        return send(res, 400, { error: { message: "no such file", type: "invalid_request_error" } });
      const rows = text
        .split("\n")
        .filter((l) => l)
        .map((l) => JSON.parse(l));
      const b: StandInBatch = {
        id: id("batch_"),
        metadata: (body.metadata ?? {}) as Record<string, string>,
        inputFile: body.input_file_id as string,
        endpoint: body.endpoint as string,
        rows,
        status: "validating",
        polls: 0,
        created_at: Math.floor(Date.now() / 1000),
        output_file_id: null,
        error_file_id: null,
        errors: null,
        counts: { total: rows.length, completed: 0, failed: 0 },
      };
      stand.batches.push(b);
      return send(res, 200, batchObject(b));
    }
    if (req.method === "GET" && path === "/v1/batches") {
      const data = [...stand.batches].reverse().map(batchObject);
      return send(res, 200, {
        object: "list",
        data,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
        has_more: false,
      });
    }
    const m = /^\/v1\/batches\/([^/]+)(\/cancel)?$/.exec(path);
    const b = m ? stand.batches.find((x) => x.id === m[1]) : undefined;
    if (m && b) {
      if (m[2]) {
        if (!["validating", "in_progress"].includes(b.status))
          return send(res, 409, { error: { message: "ended" } });
        b.status = "cancelled";
        return send(res, 200, batchObject(b));
      }
      b.polls++;
      if (b.status === "validating" && b.polls > (script.validatingPolls ?? 0)) b.status = "in_progress";
      else if (b.status === "in_progress") finish(b, stand.batches.indexOf(b) + 1);
      return send(res, 200, batchObject(b));
    }
    const f = /^\/v1\/files\/([^/]+)\/content$/.exec(path);
    if (req.method === "GET" && f) {
      if (downloadErrors > 0) {
        downloadErrors--;
        return send(res, 500, { error: { message: "try again" } });
      }
      const text = files.get(f[1] as string);
      if (text === undefined) return send(res, 404, { error: { message: "No such File object" } });
      res.writeHead(200, { "content-type": "application/octet-stream" });
      return res.end(text);
    }
    send(res, 404, { error: { message: `no route ${req.method} ${path}` } });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => send(res, 500, { error: { message: String(e) } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  stand.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  stand.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return stand;
}
