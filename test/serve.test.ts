// vbatch serve driven by the real SDKs: the official `openai` and `@anthropic-ai/sdk` clients
// against startServer in process (and the built CLI for kill -9), with the simulator as engine.
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readdirSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { anthropicToChat } from "../src/anthropic/request.js";
import { type RunningServer, type ServerOptions, startServer } from "../src/server/index.js";
import { type SimServer, simReplyText, startSim } from "../src/sim/index.js";
import { runCli, startCli } from "./helpers/cli.js";
import { chatRow, type Line, tempDir, writeJsonl } from "./helpers/files.js";
import { waitFor } from "./helpers/wait.js";

const dir = tempDir("vbatch-serve-");
let n = 0;
const fresh = (name: string) => join(dir, `${name}-${++n}`);

const sims: SimServer[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function sim(opts: Parameters<typeof startSim>[0] = {}): Promise<SimServer> {
  const s = await startSim({ prefillMs: 0, stepMs: 0, ...opts });
  sims.push(s);
  return s;
}

/** A server on a free port over one fresh sim (or the given one). */
async function serve(o: Partial<ServerOptions> & { engine?: SimServer } = {}) {
  const engine = o.engine ?? (await sim());
  const server = await startServer({
    dataDir: fresh("data"),
    port: 0,
    endpoints: [engine.url],
    engineRetryMs: 100,
    ...o,
    run: { progressIntervalMs: 50, fsync: false, retryBaseMs: 5, retryMaxMs: 50, drainMs: 200, ...o.run },
  });
  servers.push(server);
  return { server, engine };
}

const openai = (url: string, apiKey = "unused") =>
  new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 });
const anthropic = (url: string, apiKey = "unused") => new Anthropic({ baseURL: url, apiKey, maxRetries: 0 });

const FINAL = ["completed", "failed", "expired", "cancelled"];

function inputFile(rows: unknown[]): string {
  return writeJsonl(`${fresh("input")}.jsonl`, rows);
}

/** Waits until a batch reaches a final status. */
const finished = (client: OpenAI, id: string) =>
  waitFor(
    () => client.batches.retrieve(id),
    (b) => FINAL.includes(b.status),
  );

/** Uploads rows as a batch input file and creates a chat-completions batch from it. */
async function submit(client: OpenAI, rows: unknown[], window = "24h") {
  const file = await client.files.create({ file: createReadStream(inputFile(rows)), purpose: "batch" });
  const batch = await client.batches.create({
    input_file_id: file.id,
    endpoint: "/v1/chat/completions",
    completion_window: window as "24h",
  });
  return { file, batch };
}

function chatRows(count: number, model = "gpt-4o-mini") {
  return Array.from({ length: count }, (_, i) => chatRow(i, { model }));
}

const parseJsonl = (text: string): Line[] =>
  text
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));

/** The URL a `vbatch serve` child prints once it listens. */
function listeningUrl(cli: ReturnType<typeof startCli>): Promise<string> {
  let out = "";
  return new Promise<string>((resolve, reject) => {
    cli.child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    void cli.done.then((r) => reject(new Error(`serve exited ${r.code}: ${r.stderr}`)));
  });
}

/** A raw HTTP request, for what the SDKs would never send (bad paths, odd bodies). */
function raw(
  url: string,
  o: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer[] },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${o.path}`, { method: o.method ?? "GET", headers: o.headers }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    if (Array.isArray(o.body)) for (const chunk of o.body) req.write(chunk);
    else if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

describe("vbatch serve: OpenAI Files and Batches through the openai SDK", () => {
  it("runs the seed script unchanged: upload, create, poll, download, every row answered once", async () => {
    const { server } = await serve();
    const client = openai(server.url);
    const rows = chatRows(60);
    const file = await client.files.create({ file: createReadStream(inputFile(rows)), purpose: "batch" });
    expect(file).toMatchObject({ object: "file", purpose: "batch", status: "processed" });
    expect(file.id).toMatch(/^file-[0-9a-f]{24}$/);
    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
      metadata: { job: "nightly" },
    });
    expect(batch).toMatchObject({ object: "batch", status: "validating", input_file_id: file.id });
    const done = await finished(client, batch.id);
    expect(done).toMatchObject({
      status: "completed",
      request_counts: { total: 60, completed: 60, failed: 0 },
      metadata: { job: "nightly" },
      error_file_id: null,
      model: "sim-model",
    });
    expect(done.usage?.output_tokens).toBe(60 * 8);
    expect(done.usage?.input_tokens).toBeGreaterThan(0);
    for (const t of ["in_progress_at", "finalizing_at", "completed_at"] as const) {
      expect(done[t]).toBeGreaterThanOrEqual(done.created_at);
    }
    const content = await client.files.content(done.output_file_id as string);
    const lines = parseJsonl(await content.text());
    expect(lines).toHaveLength(60);
    expect(new Set(lines.map((l) => l.custom_id)).size).toBe(60);
    for (const l of lines) {
      const i = Number(l.custom_id.slice(4));
      expect(l.response.status_code).toBe(200);
      // The hosted model name was mapped to the engine's only model.
      expect(l.response.body.model).toBe("sim-model");
      expect(l.response.body.choices[0].message.content).toBe(
        simReplyText({ ...(chatRow(i).body as object), model: "sim-model" }),
      );
    }
    const out = await client.files.retrieve(done.output_file_id as string);
    expect(out).toMatchObject({ purpose: "batch_output", bytes: expect.any(Number) });
    const listed = [];
    for await (const f of client.files.list()) listed.push(f.id);
    expect(listed).toEqual(expect.arrayContaining([file.id, out.id]));
    expect(await client.files.delete(file.id)).toEqual({ id: file.id, object: "file", deleted: true });
    await expect(client.files.retrieve(file.id)).rejects.toMatchObject({ status: 404 });
  });

  it("fails validation with OpenAI's errors.data, naming each bad line; nothing is sent", async () => {
    const { server, engine } = await serve();
    const client = openai(server.url);
    const rows: unknown[] = chatRows(4);
    rows.splice(1, 0, "{not json");
    rows.push({ method: "POST", url: "/v1/chat/completions", body: {} });
    rows.push({ ...chatRow(0), url: "/v1/embeddings" });
    rows.push(chatRow(2));
    const { batch } = await submit(client, rows);
    const done = await finished(client, batch.id);
    expect(done.status).toBe("failed");
    expect(done.failed_at).toEqual(expect.any(Number));
    expect(done.errors?.data).toEqual([
      expect.objectContaining({ code: "invalid_json_line", line: 2 }),
      expect.objectContaining({
        line: 6,
        param: "custom_id",
        message: expect.stringMatching(/missing custom_id/),
      }),
      expect.objectContaining({ code: "mismatched_endpoint", line: 7, param: "url" }),
      expect.objectContaining({ code: "duplicate_custom_id", line: 8, param: "custom_id" }),
    ]);
    expect(engine.stats().received).toBe(0);
  });

  it("names a line nested too deep or not UTF-8 in errors.data, and never crashes the batch", async () => {
    const { server, engine } = await serve();
    const client = openai(server.url);
    const path = `${fresh("hostile")}.jsonl`;
    const deep = `${"[".repeat(6000)}${"]".repeat(6000)}`;
    writeFileSync(
      path,
      Buffer.concat([
        Buffer.from(`${JSON.stringify(chatRow(0))}\n`),
        Buffer.from(
          `{"custom_id":"deep","method":"POST","url":"/v1/chat/completions","body":{"x":${deep}}}\n`,
        ),
        Buffer.from(
          '{"custom_id":"bad-\xff","method":"POST","url":"/v1/chat/completions","body":{}}\n',
          "latin1",
        ),
      ]),
    );
    const file = await client.files.create({ file: createReadStream(path), purpose: "batch" });
    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    const done = await finished(client, batch.id);
    expect(done.status).toBe("failed");
    expect(done.errors?.data).toEqual([
      expect.objectContaining({ line: 2, message: expect.stringMatching(/nested deeper than 256/) }),
      expect.objectContaining({ line: 3, message: expect.stringMatching(/not valid UTF-8/) }),
    ]);
    expect(engine.stats().received).toBe(0);
  });

  it("maps a row's model without touching the rest of its body's bytes", async () => {
    const engine = await sim({ trackRequests: true });
    const { server } = await serve({ engine });
    const client = openai(server.url);
    const body = (model: string) =>
      `{"model":${JSON.stringify(model)},"messages":[{"role":"user","content":"hi"}],"max_tokens":4,"seed":123456789012345678901,"top_p":1e400}`;
    const path = `${fresh("raw")}.jsonl`;
    writeFileSync(
      path,
      `{"custom_id":"raw","method":"POST","url":"/v1/chat/completions","body":${body("gpt-4o-mini")}}\n`,
    );
    const file = await client.files.create({ file: createReadStream(path), purpose: "batch" });
    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    expect((await finished(client, batch.id)).status).toBe("completed");
    const key = createHash("sha1").update(body("sim-model")).digest("hex").slice(0, 16);
    expect(engine.stats().requestsByKey).toEqual({ [key]: 1 });
  });

  it("refuses bad create parameters with 400 in OpenAI's error shape", async () => {
    const { server } = await serve();
    const client = openai(server.url);
    const file = await client.files.create({
      file: createReadStream(inputFile(chatRows(1))),
      purpose: "batch",
    });
    const create = (p: Record<string, unknown>) =>
      client.batches.create({
        input_file_id: file.id,
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
        ...p,
      } as OpenAI.Batches.BatchCreateParams);
    await expect(create({ completion_window: "tomorrow" })).rejects.toMatchObject({
      status: 400,
      param: "completion_window",
      type: "invalid_request_error",
    });
    await expect(create({ endpoint: "/v1/images/generations" })).rejects.toMatchObject({
      status: 400,
      param: "endpoint",
    });
    await expect(create({ input_file_id: "file-0123456789abcdef01234567" })).rejects.toMatchObject({
      status: 400,
      param: "input_file_id",
    });
    await expect(client.batches.retrieve("batch_0123456789abcdef01234567")).rejects.toMatchObject({
      status: 404,
    });
  });

  it("cancels mid-run: cancelling, then cancelled with the partial output", async () => {
    const engine = await sim({ maxNumSeqs: 4, stepMs: 5, outputTokens: 8 });
    const { server } = await serve({ engine });
    const client = openai(server.url);
    const { batch } = await submit(client, chatRows(400));
    await waitFor(
      () => client.batches.retrieve(batch.id),
      (b) => (b.request_counts?.completed ?? 0) > 0,
    );
    const cancelling = await client.batches.cancel(batch.id);
    expect(["cancelling", "cancelled"]).toContain(cancelling.status);
    const done = await finished(client, batch.id);
    expect(done.status).toBe("cancelled");
    expect(done.cancelling_at).toEqual(expect.any(Number));
    expect(done.cancelled_at).toEqual(expect.any(Number));
    const completed = done.request_counts?.completed ?? 0;
    expect(completed).toBeGreaterThan(0);
    expect(completed).toBeLessThan(400);
    const lines = parseJsonl(await (await client.files.content(done.output_file_id as string)).text());
    expect(lines).toHaveLength(completed);
    await expect(client.batches.cancel(batch.id)).resolves.toMatchObject({ status: "cancelled" });
  });

  it("expires when the completion window passes: unfinished rows go to the error file as batch_expired", async () => {
    const engine = await sim({ maxNumSeqs: 2, stepMs: 10, outputTokens: 8 });
    const { server } = await serve({ engine });
    const client = openai(server.url);
    const { batch } = await submit(client, chatRows(300), "1s");
    const done = await finished(client, batch.id);
    expect(done.status).toBe("expired");
    expect(done.expired_at).toEqual(expect.any(Number));
    const counts = done.request_counts as OpenAI.Batches.BatchRequestCounts;
    expect(counts.total).toBe(300);
    expect(counts.completed + counts.failed).toBe(300);
    expect(counts.failed).toBeGreaterThan(0);
    const errors = parseJsonl(await (await client.files.content(done.error_file_id as string)).text());
    expect(errors).toHaveLength(counts.failed);
    for (const e of errors) expect(e.error.code).toBe("batch_expired");
    const outputs = counts.completed
      ? parseJsonl(await (await client.files.content(done.output_file_id as string)).text())
      : [];
    const ids = [...outputs, ...errors].map((l) => l.custom_id);
    expect(new Set(ids).size).toBe(300);
  });

  it("runs queued batches in creation order, one at a time with --max-concurrent-batches 1; lists with cursors", async () => {
    const engine = await sim({ maxNumSeqs: 8, stepMs: 1, outputTokens: 8 });
    const { server } = await serve({ engine, maxConcurrentBatches: 1 });
    const client = openai(server.url);
    const ids: string[] = [];
    for (let b = 0; b < 3; b++) {
      const { batch } = await submit(client, chatRows(60));
      ids.push(batch.id);
    }
    // Read newest first: if a later batch has made progress, every earlier one had ended already.
    const snapshot = async () => {
      const newestFirst = [];
      for (const id of [...ids].reverse()) newestFirst.push(await client.batches.retrieve(id));
      return newestFirst.reverse();
    };
    const done = await waitFor(snapshot, (batches) => {
      batches.forEach((b, i) => {
        if ((b.request_counts?.completed ?? 0) > 0) {
          for (const earlier of batches.slice(0, i)) expect(earlier.status).toBe("completed");
        }
      });
      return batches.every((b) => FINAL.includes(b.status));
    });
    expect(done.map((b) => b.status)).toEqual(["completed", "completed", "completed"]);
    const page = await client.batches.list({ limit: 2 });
    expect(page.data.map((b) => b.id)).toEqual([ids[2], ids[1]]);
    expect(page.has_more).toBe(true);
    const all = [];
    for await (const b of client.batches.list({ limit: 2 })) all.push(b.id);
    expect(all).toEqual([ids[2], ids[1], ids[0]]);
  });
});

describe("vbatch serve: expiry settings as OpenAI documents them", () => {
  it("expires_after on files and output_expires_after on batches: anchor created_at, 1 hour to 30 days", async () => {
    const { server } = await serve();
    const client = openai(server.url);
    const upload = (seconds: number, anchor = "created_at") =>
      client.files.create({
        file: createReadStream(inputFile(chatRows(2))),
        purpose: "batch",
        expires_after: { anchor: anchor as "created_at", seconds },
      });
    for (const bad of [3599, 2_592_001]) {
      await expect(upload(bad)).rejects.toMatchObject({ status: 400, param: "expires_after.seconds" });
    }
    await expect(upload(3600, "now")).rejects.toMatchObject({ status: 400, param: "expires_after.anchor" });
    const file = await upload(3600);
    expect(file.expires_at).toBe(file.created_at + 3600);
    const create = (seconds: number) =>
      client.batches.create({
        input_file_id: file.id,
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
        output_expires_after: { anchor: "created_at", seconds },
      });
    await expect(create(60)).rejects.toMatchObject({ status: 400, param: "output_expires_after.seconds" });
    const batch = await create(7200);
    const done = await finished(client, batch.id);
    expect(done.status).toBe("completed");
    const out = await client.files.retrieve(done.output_file_id as string);
    expect(out.expires_at).toBe(out.created_at + 7200);
  });
});

describe("vbatch serve: the Responses API as a batch endpoint", () => {
  it("runs a /v1/responses batch, as OpenAI's Batch API accepts it", async () => {
    const { server } = await serve();
    const client = openai(server.url);
    const rows = Array.from({ length: 3 }, (_, i) => ({
      custom_id: `resp-${i}`,
      method: "POST",
      url: "/v1/responses",
      body: { model: "gpt-4o-mini", input: `question ${i}` },
    }));
    const file = await client.files.create({ file: createReadStream(inputFile(rows)), purpose: "batch" });
    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/responses",
      completion_window: "24h",
    });
    const done = await finished(client, batch.id);
    expect(done).toMatchObject({
      status: "completed",
      request_counts: { total: 3, completed: 3, failed: 0 },
    });
    const text = await (await client.files.content(done.output_file_id as string)).text();
    const lines = parseJsonl(text);
    expect(lines.map((l) => l.response.body.object)).toEqual(["response", "response", "response"]);
    expect(done.usage?.output_tokens).toBeGreaterThan(0);
  });
});

describe("vbatch serve: engines that are not up yet", () => {
  it("keeps a batch validating until an engine answers, then runs it", async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
    const server = await startServer({
      dataDir: fresh("data"),
      port: 0,
      endpoints: [`http://127.0.0.1:${port}`],
      engineRetryMs: 50,
      run: { progressIntervalMs: 50, fsync: false },
    });
    servers.push(server);
    const client = openai(server.url);
    const { batch } = await submit(client, chatRows(5));
    expect((await client.batches.retrieve(batch.id)).status).toBe("validating");
    sims.push(await startSim({ port, prefillMs: 0, stepMs: 0 }));
    const done = await finished(client, batch.id);
    expect(done).toMatchObject({ status: "completed", request_counts: { total: 5, completed: 5 } });
  });
});

describe("vbatch serve: Anthropic Message Batches through @anthropic-ai/sdk", () => {
  const requests = (count: number) =>
    Array.from({ length: count }, (_, i) => ({
      custom_id: `req-${i}`,
      params: {
        model: "claude-haiku-4-5",
        max_tokens: 64,
        system: "You classify support tickets.",
        messages: [{ role: "user" as const, content: `Classify: ticket ${i}` }],
      },
    }));

  it("creates, polls, and returns results as Anthropic Messages", async () => {
    const { server } = await serve();
    const client = anthropic(server.url);
    const reqs = requests(25);
    const batch = await client.messages.batches.create({ requests: reqs });
    expect(batch).toMatchObject({
      type: "message_batch",
      processing_status: "in_progress",
      results_url: null,
    });
    expect(batch.id).toMatch(/^msgbatch_/);
    const ended = await waitFor(
      () => client.messages.batches.retrieve(batch.id),
      (b) => b.processing_status === "ended",
    );
    expect(ended.request_counts).toEqual({
      processing: 0,
      succeeded: 25,
      errored: 0,
      canceled: 0,
      expired: 0,
    });
    expect(ended.results_url).toBe(`${server.url}/v1/messages/batches/${batch.id}/results`);
    expect(ended.ended_at).not.toBeNull();
    const results = [];
    for await (const r of await client.messages.batches.results(batch.id)) results.push(r);
    expect(results).toHaveLength(25);
    for (const r of results) {
      const i = Number(r.custom_id.slice(4));
      expect(r.result.type).toBe("succeeded");
      if (r.result.type !== "succeeded") continue;
      const m = r.result.message;
      expect(m).toMatchObject({
        type: "message",
        role: "assistant",
        model: "sim-model",
        stop_reason: "end_turn",
      });
      const chat = anthropicToChat({ ...reqs[i]?.params, model: "sim-model" });
      expect(m.content).toEqual([{ type: "text", text: simReplyText(chat), citations: null }]);
      expect(m.usage.output_tokens).toBe(16);
      expect(m.usage.input_tokens).toBeGreaterThan(0);
    }
    const listed = [];
    for await (const b of client.messages.batches.list({ limit: 1 })) listed.push(b.id);
    expect(listed).toEqual([batch.id]);
    expect(await client.messages.batches.delete(batch.id)).toEqual({
      id: batch.id,
      type: "message_batch_deleted",
    });
    await expect(client.messages.batches.retrieve(batch.id)).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });

  it("reports max_tokens stops and engine errors per request", async () => {
    const { server } = await serve();
    const client = anthropic(server.url);
    const reqs = requests(3);
    reqs[1] = {
      custom_id: "short",
      params: { ...(reqs[1]?.params as (typeof reqs)[0]["params"]), max_tokens: 4 },
    };
    // The engine's context is 4096 tokens: this one is refused with a 400.
    reqs[2] = {
      custom_id: "huge",
      params: { ...(reqs[2]?.params as (typeof reqs)[0]["params"]), max_tokens: 100_000 },
    };
    const batch = await client.messages.batches.create({ requests: reqs });
    await waitFor(
      () => client.messages.batches.retrieve(batch.id),
      (b) => b.processing_status === "ended",
    );
    const byId = new Map<string, Anthropic.Messages.Batches.MessageBatchResult>();
    for await (const r of await client.messages.batches.results(batch.id)) byId.set(r.custom_id, r.result);
    expect(byId.get("req-0")).toMatchObject({ type: "succeeded", message: { stop_reason: "end_turn" } });
    expect(byId.get("short")).toMatchObject({ type: "succeeded", message: { stop_reason: "max_tokens" } });
    expect(byId.get("huge")).toMatchObject({
      type: "errored",
      error: { type: "error", error: { type: "invalid_request_error", message: expect.any(String) } },
    });
    const b = await client.messages.batches.retrieve(batch.id);
    expect(b.request_counts).toMatchObject({ succeeded: 2, errored: 1 });
  });

  it("cancels mid-run: unfinished requests come back as canceled", async () => {
    const engine = await sim({ maxNumSeqs: 4, stepMs: 5, outputTokens: 8 });
    const { server } = await serve({ engine });
    const client = anthropic(server.url);
    const batch = await client.messages.batches.create({ requests: requests(300) });
    const running = await waitFor(
      () => client.messages.batches.retrieve(batch.id),
      () => engine.stats().completed > 0,
    );
    // As the API defines them: every request counts as processing until the batch has ended.
    expect(running.processing_status).toBe("in_progress");
    expect(running.request_counts).toEqual({
      processing: 300,
      succeeded: 0,
      errored: 0,
      canceled: 0,
      expired: 0,
    });
    const canceling = await client.messages.batches.cancel(batch.id);
    expect(["canceling", "ended"]).toContain(canceling.processing_status);
    expect(canceling.cancel_initiated_at).not.toBeNull();
    const ended = await waitFor(
      () => client.messages.batches.retrieve(batch.id),
      (b) => b.processing_status === "ended",
    );
    const c = ended.request_counts;
    expect(c.canceled).toBeGreaterThan(0);
    expect(c.succeeded + c.canceled + c.errored).toBe(300);
    const types = new Map<string, number>();
    const ids = new Set<string>();
    for await (const r of await client.messages.batches.results(batch.id)) {
      ids.add(r.custom_id);
      types.set(r.result.type, (types.get(r.result.type) ?? 0) + 1);
    }
    expect(ids.size).toBe(300);
    expect(types.get("canceled")).toBe(c.canceled);
    expect(types.get("succeeded")).toBe(c.succeeded);
  });

  it("expires (vbatch's completion_window extension): unfinished requests come back as expired", async () => {
    const engine = await sim({ maxNumSeqs: 2, stepMs: 10, outputTokens: 8 });
    const { server } = await serve({ engine });
    const client = anthropic(server.url);
    const batch = await client.messages.batches.create({
      requests: requests(200),
      completion_window: "1s",
    } as Anthropic.Messages.Batches.BatchCreateParams);
    const ended = await waitFor(
      () => client.messages.batches.retrieve(batch.id),
      (b) => b.processing_status === "ended",
    );
    expect(ended.request_counts.expired).toBeGreaterThan(0);
    expect(ended.request_counts.succeeded + ended.request_counts.expired).toBe(200);
    let expired = 0;
    for await (const r of await client.messages.batches.results(batch.id))
      if (r.result.type === "expired") expired++;
    expect(expired).toBe(ended.request_counts.expired);
  });

  it("refuses an invalid request with Anthropic's error shape, naming it", async () => {
    const { server } = await serve();
    const client = anthropic(server.url);
    const reqs = requests(2);
    (reqs[1] as { params: Record<string, unknown> }).params.messages = [
      { role: "user", content: [{ type: "document", source: {} }] },
    ];
    await expect(client.messages.batches.create({ requests: reqs })).rejects.toMatchObject({
      status: 400,
      error: {
        type: "error",
        error: {
          type: "invalid_request_error",
          message: expect.stringMatching(/^requests\.1\.params\.messages\.0\.content\.0\.type/),
        },
      },
    });
    await expect(
      client.messages.batches.create({
        requests: [requests(1)[0], requests(1)[0]] as ReturnType<typeof requests>,
      }),
    ).rejects.toMatchObject({ status: 400 });
  });
});

describe("vbatch serve: keys, ids and limits", () => {
  it("requires a key when configured: Bearer and x-api-key accepted, 401 in each API's shape otherwise", async () => {
    const { server } = await serve({ apiKeys: ["k-one", "k-two"] });
    await expect(openai(server.url, "k-two").files.list()).resolves.toBeDefined();
    const wrong = openai(server.url, "nope");
    await expect(wrong.files.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(wrong.batches.list()).rejects.toMatchObject({
      status: 401,
      code: "invalid_api_key",
      type: "invalid_request_error",
    });
    await expect(anthropic(server.url, "k-one").messages.batches.list()).resolves.toBeDefined();
    await expect(anthropic(server.url, "nope").messages.batches.list()).rejects.toMatchObject({
      status: 401,
      error: { type: "error", error: { type: "authentication_error" } },
    });
    const missing = await raw(server.url, { path: "/v1/files" });
    expect(missing.status).toBe(401);
    expect(JSON.parse(missing.body).error).toMatchObject({
      code: "invalid_api_key",
      message: /didn't provide/,
    });
    const xkey = await raw(server.url, { path: "/v1/batches", headers: { "x-api-key": "k-one" } });
    expect(xkey.status).toBe(200);
    expect((await raw(server.url, { path: "/health" })).status).toBe(200);
  });

  it("refuses a non-loopback address without a key", async () => {
    await expect(
      startServer({ endpoints: ["http://127.0.0.1:9"], host: "0.0.0.0", port: 0, dataDir: fresh("d") }),
    ).rejects.toMatchObject({
      code: "usage",
      exitCode: 2,
    });
  });

  it("answers 404 to traversal and id games, touching nothing outside its own ids", async () => {
    const { server } = await serve();
    const client = openai(server.url);
    const { file, batch } = await submit(client, chatRows(2));
    const done = await finished(client, batch.id);
    const paths = [
      "/v1/files/..%2F..%2Fvbatch-serve.db/content",
      "/v1/files/../vbatch-serve.db/content",
      "/v1/files/%2e%2e/content",
      "/v1/files/file-..%2f..%2fetc%2fpasswd/content",
      `/v1/files/${file.id}%00/content`,
      `/v1/files/${file.id.toUpperCase()}/content`,
      `/v1/files/${batch.id}/content`,
      `/v1/batches/${file.id}`,
      `/v1/messages/batches/${batch.id}/results`,
      "/v1/files/.upload-x/content",
      `/v1/files/${done.output_file_id}/../../vbatch-serve.db`,
    ];
    for (const path of paths) {
      const r = await raw(server.url, { path });
      expect(r.status, path).toBe(404);
      expect(r.body).not.toContain("SQLite");
    }
    // An id that is well formed but not a listed file (e.g. a running batch's future output) is 404 too.
    expect(
      (
        await raw(server.url, {
          path: `/v1/files/${done.error_file_id ?? "file-0123456789abcdef01234567"}/content`,
        })
      ).status,
    ).toBe(404);
    // The SDK encodes ids into the path; a traversal there is a 404 as well.
    await expect(client.files.content("../vbatch-serve.db")).rejects.toMatchObject({ status: 404 });
    expect((await raw(server.url, { path: `/v1/files/${file.id}/content` })).status).toBe(200);
  });

  it("limits uploads while streaming (chunked or with Content-Length) and caps JSON bodies", async () => {
    const dataDir = fresh("data");
    const { server } = await serve({ dataDir, maxFileBytes: 1000 });
    const client = openai(server.url);
    // Several MB over the limit: the SDK still reads the 413 (the rest of the body is drained).
    const big = `${fresh("big")}.jsonl`;
    writeFileSync(big, `${JSON.stringify(chatRow(0))}\n`.repeat(40_000));
    await expect(
      client.files.create({ file: createReadStream(big), purpose: "batch" }),
    ).rejects.toMatchObject({
      status: 413,
      code: "file_too_large",
    });
    const boundary = "----vbatchtest";
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="in.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n`;
    const tail = `\r\n--${boundary}--\r\n`;
    const multipart = (payload: string, chunked: boolean) => {
      const body = Buffer.from(head + payload + tail);
      // Split at awkward places so the boundary straddles chunks.
      const chunks = chunked
        ? [body.subarray(0, 7), body.subarray(7, body.length - 5), body.subarray(body.length - 5)]
        : [body];
      const headers: Record<string, string> = { "content-type": `multipart/form-data; boundary=${boundary}` };
      if (!chunked) headers["content-length"] = String(body.length);
      return raw(server.url, { method: "POST", path: "/v1/files", headers, body: chunks });
    };
    const small = `${JSON.stringify(chatRow(1))}\n`;
    for (const chunked of [true, false]) {
      const ok = await multipart(small, chunked);
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body)).toMatchObject({ bytes: Buffer.byteLength(small), filename: "in.jsonl" });
      const tooBig = await multipart("x".repeat(5000), chunked);
      expect(tooBig.status).toBe(413);
    }
    const json = await raw(server.url, {
      method: "POST",
      path: "/v1/batches",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ pad: "x".repeat(2 * 1024 * 1024) }),
    });
    expect(json.status).toBe(413);
    // Refused uploads leave no temp file behind.
    expect(readdirSync(join(dataDir, "files")).filter((f) => !f.startsWith("file-"))).toEqual([]);
  });

  it("deletes files and ended batches after the retention period", async () => {
    const dataDir = fresh("data");
    const { server } = await serve({ dataDir, retentionMs: 300, sweepIntervalMs: 50 });
    const client = openai(server.url);
    const { file, batch } = await submit(client, chatRows(3));
    await waitFor(
      () => client.batches.retrieve(batch.id).catch(() => null),
      (b) => b === null || FINAL.includes(b.status),
    );
    await waitFor(
      () =>
        client.files.retrieve(file.id).then(
          () => true,
          () => false,
        ),
      (exists) => !exists,
    );
    await waitFor(
      () =>
        client.batches.retrieve(batch.id).then(
          () => true,
          () => false,
        ),
      (exists) => !exists,
    );
    expect(existsSync(join(dataDir, "files", file.id))).toBe(false);
    expect(readdirSync(join(dataDir, "batches"))).toEqual([]);
  });
});

describe("vbatch serve: the CLI", () => {
  it("exits 2 on a public address without a key, and never logs keys", async () => {
    const refused = await runCli(["serve", "--host", "0.0.0.0", "--launch", "sim", "--data", fresh("data")]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/without an API key/);

    const key = "sk-very-secret-0123456789";
    const cli = startCli([
      "serve",
      "--data",
      fresh("data"),
      "--port",
      "0",
      "--launch",
      "sim",
      "--api-key",
      key,
      "--log-level",
      "debug",
    ]);
    const url = await listeningUrl(cli);
    expect((await raw(url, { path: "/v1/files", headers: { authorization: `Bearer ${key}` } })).status).toBe(
      200,
    );
    expect((await raw(url, { path: "/v1/batches", headers: { "x-api-key": key } })).status).toBe(200);
    expect(
      (await raw(url, { path: "/v1/batches", headers: { authorization: `Bearer ${key}x` } })).status,
    ).toBe(401);
    cli.child.kill("SIGTERM");
    const r = await cli.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/"msg":"request"/);
    expect(r.stdout + r.stderr).not.toContain(key);
  });
});

describe("vbatch serve: restart safety", () => {
  it("after kill -9 mid-batch, a restart with the same --data resumes and finishes every row exactly once", async () => {
    const engine = await sim({ maxNumSeqs: 4, stepMs: 5, outputTokens: 8, trackRequests: true });
    const dataDir = fresh("data");
    const start = async () => {
      const cli = startCli([
        "serve",
        "--data",
        dataDir,
        "--port",
        "0",
        "--endpoint",
        engine.url,
        "--concurrency",
        "8",
        "--log-level",
        "warn",
      ]);
      return { cli, url: await listeningUrl(cli) };
    };
    const first = await start();
    const total = 400;
    let client = openai(first.url);
    const { batch } = await submit(client, chatRows(total));
    // The CLI reports progress once a second; kill as soon as some rows are committed.
    const mid = await waitFor(
      () => client.batches.retrieve(batch.id),
      (b) => (b.request_counts?.completed ?? 0) > 0,
    );
    first.cli.child.kill("SIGKILL");
    expect((await first.cli.done).signal).toBe("SIGKILL");
    expect(mid.status).toBe("in_progress");

    const second = await start();
    client = openai(second.url);
    try {
      const done = await waitFor(
        () => client.batches.retrieve(batch.id),
        (b) => FINAL.includes(b.status),
        40_000,
      );
      expect(done).toMatchObject({
        status: "completed",
        request_counts: { total, completed: total, failed: 0 },
      });
      const lines = parseJsonl(await (await client.files.content(done.output_file_id as string)).text());
      expect(lines).toHaveLength(total);
      expect(new Set(lines.map((l) => l.custom_id)).size).toBe(total);
      // Only rows not yet committed at the kill are sent again, and each of those at most once more.
      const sends = Object.values(engine.stats().requestsByKey ?? {});
      expect(sends).toHaveLength(total);
      expect(Math.max(...sends)).toBeLessThanOrEqual(2);
    } finally {
      second.cli.child.kill("SIGTERM");
      await second.cli.done;
    }
  });
});
