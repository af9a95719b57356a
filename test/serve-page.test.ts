// vbatch serve's page over plain HTTP: the same keys as the API, a login form that trades the key
// for an HttpOnly, SameSite=Strict session cookie (the key never in a URL or a log), a session
// that reads but never writes, the dashboard's batches with their links and its reload while one
// runs, a batch's report, and hostile paths answered without echoing markup.
import { createReadStream, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import OpenAI from "openai";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../src/server/index.js";
import { type SimServer, startSim } from "../src/sim/index.js";
import { chatRow, tempDir, writeJsonl } from "./helpers/files.js";
import { waitFor } from "./helpers/wait.js";

const dir = tempDir("vbatch-page-");
const KEY = "sk-page-test-0123456789";
let sim: SimServer;
let server: RunningServer;
let logs = "";
let batchId = "";
let counts = { completed: 0, failed: 0, total: 0 };

beforeAll(async () => {
  sim = await startSim({ prefillMs: 0, stepMs: 0, faults: { errorRate: 0.3 }, seed: 5 });
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs += String(chunk);
      done();
    },
  });
  server = await startServer({
    dataDir: join(dir, "data"),
    port: 0,
    endpoints: [sim.url],
    apiKeys: [KEY],
    logger: pino({ level: "debug" }, sink),
    run: { progressIntervalMs: 50, fsync: false, maxAttempts: 1 },
  });
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY, maxRetries: 0 });
  const input = writeJsonl(join(dir, "in.jsonl"), [
    ...Array.from({ length: 12 }, (_, i) => chatRow(i, { model: "sim-model" })),
    { ...chatRow(99, { model: "no-such-model" }), custom_id: "<script>alert(1)</script>" },
  ]);
  const file = await client.files.create({ file: createReadStream(input), purpose: "batch" });
  const batch = await client.batches.create({
    input_file_id: file.id,
    endpoint: "/v1/chat/completions",
    completion_window: "24h",
  });
  batchId = batch.id;
  const done = await waitFor(
    () => client.batches.retrieve(batch.id),
    (b) => b.status === "completed",
  );
  counts = done.request_counts as typeof counts;
});
afterAll(async () => {
  await server.close();
  await sim.close();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, { headers, redirect: "manual" });

async function loginCookie(key = KEY): Promise<Response> {
  return fetch(`${server.url}/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ key }).toString(),
    redirect: "manual",
  });
}

describe("vbatch serve's page", () => {
  it("sends a browser without a key to the login form, and keeps the API's 401", async () => {
    const page = await get("/");
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/login");
    const form = await get("/login");
    expect(form.status).toBe(200);
    expect(form.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(await form.text()).toContain('<form class="login" method="post" action="/login">');
    const api = await get("/v1/batches");
    expect(api.status).toBe(401);
  });

  it("trades the right key for an HttpOnly, SameSite=Strict cookie; a wrong one gets the form again", async () => {
    const wrong = await loginCookie("sk-wrong");
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    expect(await wrong.text()).toContain("That key is not a key of this server.");
    const ok = await loginCookie();
    expect(ok.status).toBe(303);
    const cookie = ok.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^vbatch_session=[\w-]{40,}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    expect(cookie).not.toContain(KEY);
    expect(logs).not.toContain(KEY);
  });

  it("shows the batches with their counts and links, and reads but never writes with a session", async () => {
    const cookie = ((await loginCookie()).headers.get("set-cookie") ?? "").split(";")[0] as string;
    const page = await get("/", { cookie });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`<tr data-batch="${batchId}">`);
    expect(counts.failed).toBeGreaterThan(0);
    expect(html).toContain(
      `<td>completed</td>\n<td class="n">${counts.completed}</td><td class="n">${counts.failed}</td><td class="n">13</td>`,
    );
    expect(html).not.toContain('http-equiv="refresh"'); // nothing runs
    const report = html.match(/href="(\/batches\/[^"]+\/report)"/)?.[1] as string;
    const output = html.match(/href="(\/v1\/files\/[^"]+\/content)">output/)?.[1] as string;
    const errors = html.match(/href="(\/v1\/files\/[^"]+\/content)">errors/)?.[1] as string;
    const r = await get(report, { cookie });
    expect(r.status).toBe(200);
    const rhtml = await r.text();
    expect(rhtml).toContain("<b>13 / 13</b>");
    expect(rhtml).not.toContain("<script>");
    // The first errors come from the batch's own errors file (a file id, not beside the output).
    expect(rhtml).toContain('<ul id="examples">');
    const outLines = (await (await get(output, { cookie })).text()).trim().split("\n");
    expect(outLines).toHaveLength(counts.completed);
    const errLines = (await (await get(errors, { cookie })).text()).trim().split("\n");
    expect(errLines).toHaveLength(counts.failed);
    // A session reads; creating a batch still takes the key.
    const post = await fetch(`${server.url}/v1/batches`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: "{}",
    });
    expect(post.status).toBe(401);
    // Logging out ends the session.
    const out = await fetch(`${server.url}/logout`, {
      method: "POST",
      headers: { cookie },
      redirect: "manual",
    });
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
    expect((await get("/", { cookie })).status).toBe(303);
  });

  it("answers hostile paths without echoing them as markup", async () => {
    const cookie = ((await loginCookie()).headers.get("set-cookie") ?? "").split(";")[0] as string;
    const bad = await get("/batches/%3Cscript%3Ealert(1)%3C%2Fscript%3E/report", { cookie });
    expect(bad.status).toBe(404);
    const text = await bad.text();
    expect(bad.headers.get("content-type")).toBe("application/json");
    expect(text).not.toContain("<script>");
    const missing = await get("/batches/batch_000000000000000000000000/report", { cookie });
    expect(missing.status).toBe(404);
  });

  it("reloads itself while a batch runs", async () => {
    const cookie = ((await loginCookie()).headers.get("set-cookie") ?? "").split(";")[0] as string;
    const slow = await startSim({ prefillMs: 0, stepMs: 200 });
    const s2 = await startServer({
      dataDir: join(dir, "data2"),
      port: 0,
      endpoints: [slow.url],
      run: { progressIntervalMs: 50, fsync: false },
    });
    try {
      const client = new OpenAI({ baseURL: `${s2.url}/v1`, apiKey: "none", maxRetries: 0 });
      const input = join(dir, "slow.jsonl");
      writeFileSync(input, `${JSON.stringify(chatRow(1, { model: "sim-model", maxTokens: 50 }))}\n`);
      const file = await client.files.create({ file: createReadStream(input), purpose: "batch" });
      await client.batches.create({
        input_file_id: file.id,
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
      });
      // No keys: the page is open, as the API is.
      const html = await (await fetch(`${s2.url}/`, { headers: { cookie } })).text();
      expect(html).toContain('<meta http-equiv="refresh" content="5">');
      expect(html).not.toContain("Log out");
    } finally {
      await s2.close();
      slow.kill();
    }
  });
});
