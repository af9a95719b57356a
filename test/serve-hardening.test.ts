// vbatch serve against hostile or careless clients and operators: oversized or odd multipart forms,
// bodies that trickle in, IPv6 loopback spellings, blank keys and keys read from a file.
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { isLoopback, type RunningServer, type ServerOptions, startServer } from "../src/server/index.js";
import { resolveServerOptions } from "../src/server/options.js";
import { type SimServer, startSim } from "../src/sim/index.js";
import { runCli, startCli } from "./helpers/cli.js";
import { chatRow, tempDir } from "./helpers/files.js";
import { waitFor } from "./helpers/wait.js";

const dir = tempDir("vbatch-serve-hardening-");
let n = 0;
const fresh = (name: string) => join(dir, `${name}-${++n}`);

const sims: SimServer[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

/** A server on a free port over a fresh simulated engine; its log lines are collected. */
async function serve(o: Partial<ServerOptions> = {}) {
  const engine = await startSim({ prefillMs: 0, stepMs: 0 });
  sims.push(engine);
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const dataDir = o.dataDir ?? fresh("data");
  const server = await startServer({ port: 0, endpoints: [engine.url], logger, ...o, dataDir });
  servers.push(server);
  return { server, dataDir, logs };
}

const leftovers = (dataDir: string) =>
  readdirSync(join(dataDir, "files")).filter((f) => f.startsWith(".upload-"));

interface FormPart {
  name?: string;
  filename?: string;
  value: string;
}

const BOUNDARY = "----vbatchhardening";

function formBody(parts: FormPart[]): Buffer {
  const chunks = parts.map((p) => {
    const name = p.name === undefined ? "" : `; name="${p.name}"`;
    const file = p.filename === undefined ? "" : `; filename="${p.filename}"`;
    return `--${BOUNDARY}\r\nContent-Disposition: form-data${name}${file}\r\n\r\n${p.value}\r\n`;
  });
  return Buffer.from(`${chunks.join("")}--${BOUNDARY}--\r\n`);
}

const JSONL = `${JSON.stringify(chatRow(0))}\n`;
const purpose = { name: "purpose", value: "batch" };
const file = { name: "file", filename: "in.jsonl", value: JSONL };

/** POSTs a multipart form to /v1/files; `end: false` leaves the body open after what was sent. */
function upload(
  url: string,
  parts: FormPart[] | Buffer,
  o: { end?: boolean } = {},
): Promise<{
  status: number;
  body: string;
  json: { error?: Record<string, unknown> } & Record<string, unknown>;
}> {
  const body = Buffer.isBuffer(parts) ? parts : formBody(parts);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { "content-type": `multipart/form-data; boundary=${BOUNDARY}` };
    if (o.end !== false) headers["content-length"] = String(body.length);
    const req = request(`${url}/v1/files`, { method: "POST", headers }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => {
        text += d;
      });
      res.on("end", () => {
        if (o.end === false) req.destroy();
        resolve({ status: res.statusCode ?? 0, body: text, json: JSON.parse(text) });
      });
    });
    req.on("error", reject);
    req.write(body);
    if (o.end !== false) req.end();
  });
}

describe("multipart uploads: only the file part is streamed; other fields are small and few", () => {
  it("accepts a file with small fields, unknown field names ignored, a file part without a filename", async () => {
    const { server, dataDir } = await serve();
    const fields = Array.from({ length: 10 }, (_, i) => ({ name: `x-extra-${i}`, value: "y".repeat(1000) }));
    // The file part itself is not a field: 60 KB of it stays within the 16 KiB field total.
    const big = { ...file, value: JSONL.repeat(Math.ceil(60_000 / JSONL.length)) };
    const ok = await upload(server.url, [purpose, ...fields, big]);
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ object: "file", purpose: "batch", bytes: big.value.length });
    // curl -F 'file=<in.jsonl' sends no filename: still the file, streamed like any other.
    const bare = await upload(server.url, [purpose, { name: "file", value: JSONL }]);
    expect(bare.status).toBe(200);
    expect(bare.json).toMatchObject({ bytes: JSONL.length, filename: "upload.jsonl" });
    expect(leftovers(dataDir)).toEqual([]);
  });

  it.each([
    {
      what: "a field over 4 KiB",
      parts: [purpose, { name: "x-pad", value: "y".repeat(5000) }, file],
      message: /x-pad.*4096 bytes/,
      param: "x-pad",
    },
    {
      what: "fields over 16 KiB together",
      parts: [
        purpose,
        ...Array.from({ length: 5 }, (_, i) => ({ name: `x-${i}`, value: "y".repeat(4000) })),
        file,
      ],
      message: /16384 bytes/,
      param: null,
    },
    {
      what: "more than 32 parts",
      parts: [purpose, ...Array.from({ length: 40 }, (_, i) => ({ name: `x-${i}`, value: "y" })), file],
      message: /more than 32 parts/,
      param: null,
    },
    {
      what: "a part with no name",
      parts: [purpose, { value: "anonymous" }, file],
      message: /no name/,
      param: null,
    },
    {
      what: "a second file part",
      parts: [purpose, file, file],
      message: /more than one 'file' part/i,
      param: "file",
    },
    {
      what: "a file sent under another field name",
      parts: [purpose, { name: "document", filename: "in.jsonl", value: JSONL }, file],
      message: /document.*'file'/,
      param: "document",
    },
    {
      what: "a field sent twice",
      parts: [purpose, { name: "purpose", value: "fine-tune" }, file],
      message: /purpose.*more than once/,
      param: "purpose",
    },
  ])(
    "refuses $what with an OpenAI-shaped 400 and leaves no upload behind",
    async ({ parts, message, param }) => {
      const { server, dataDir } = await serve();
      const r = await upload(server.url, parts);
      expect(r.status).toBe(400);
      expect(r.json.error).toEqual({
        message: expect.stringMatching(message),
        type: "invalid_request_error",
        param,
        code: null,
      });
      expect(leftovers(dataDir)).toEqual([]);
      expect(readdirSync(join(dataDir, "files"))).toEqual([]);
    },
  );

  it("answers as soon as a field crosses its cap, without waiting for (or buffering) the rest of the body", async () => {
    const { server, dataDir } = await serve();
    // One 64 KB field of what could be thousands: the body is never ended, so only an answer
    // given mid-body can arrive.
    const head = Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="x-0"\r\n\r\n${"y".repeat(64_000)}`,
    );
    const r = await upload(server.url, head, { end: false });
    expect(r.status).toBe(400);
    expect(r.json.error?.message).toMatch(/4096 bytes/);
    expect(leftovers(dataDir)).toEqual([]);
  });
});

describe("request timeout: a body that trickles in or stalls is cut off, and its partial upload removed", () => {
  /** A raw connection that starts an upload and then sends the rest a byte at a time, or nothing. */
  function slowUpload(url: string, mode: "stall" | "trickle") {
    const { hostname, port } = new URL(url);
    const head =
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="in.jsonl"\r\n\r\n${JSONL}`;
    return new Promise<{ response: string; bytesSent: number }>((resolve) => {
      const socket = connect(Number(port), hostname);
      let response = "";
      let bytesSent = 0;
      let timer: NodeJS.Timeout | undefined;
      socket.on("connect", () => {
        const start =
          `POST /v1/files HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
          `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: 10000000\r\n\r\n${head}`;
        socket.write(start);
        bytesSent = start.length;
        // Each byte keeps the connection busy, so an inactivity timeout alone would never fire.
        // Bounded, so a server that never cuts it off fails the test instead of hanging it.
        if (mode === "trickle") {
          timer = setInterval(() => {
            if (bytesSent > start.length + 1000) return socket.destroy();
            socket.write("x");
            bytesSent++;
          }, 10);
        } else {
          timer = setTimeout(() => socket.destroy(), 15_000);
        }
      });
      socket.setEncoding("utf8").on("data", (d: string) => {
        response += d;
        clearInterval(timer);
      });
      socket.on("error", () => {});
      socket.on("close", () => {
        clearInterval(timer);
        clearTimeout(timer);
        resolve({ response, bytesSent });
      });
    });
  }

  it.each(["stall", "trickle"] as const)(
    "a client that %ss mid-upload gets 408, the connection closes, no partial file remains",
    async (mode) => {
      const { server, dataDir, logs } = await serve({ requestTimeoutMs: 300 });
      const r = await slowUpload(server.url, mode);
      expect(r.response).toMatch(/^HTTP\/1\.1 408 /);
      // Once the handler has finished with the request, nothing of the upload is left.
      await waitFor(
        () => logs.filter((l) => l.msg === "request" && l.path === "/v1/files").length,
        (count) => count === 1,
      );
      expect(leftovers(dataDir)).toEqual([]);
      expect(readdirSync(join(dataDir, "files"))).toEqual([]);
      // An abort is not a server error.
      expect(logs.filter((l) => l.msg === "request failed")).toEqual([]);
      expect(logs.some((l) => l.msg === "request aborted")).toBe(true);
      // The server keeps serving (a body-less request, so the short timeout cannot cut it).
      expect(await get(server.url, "unused", "/health")).toBe(200);
    },
  );

  it("refuses a request timeout below 1 ms, and defaults to 10 minutes", async () => {
    await expect(serve({ requestTimeoutMs: 0 })).rejects.toMatchObject({ code: "usage", exitCode: 2 });
    expect(resolveServerOptions({ endpoints: ["http://127.0.0.1:9"] }).requestTimeoutMs).toBe(600_000);
  });
});

/** Whether this machine can listen on IPv6 loopback at all. */
const ipv6 = await new Promise<boolean>((resolve) => {
  const probe = createServer();
  probe.once("error", () => resolve(false));
  probe.listen(0, "::1", () => probe.close(() => resolve(true)));
});

describe("IPv6 loopback", () => {
  it("accepts every loopback spelling and nothing else", () => {
    for (const host of [
      "127.0.0.1",
      "127.3.2.1",
      "localhost",
      "::1",
      "[::1]",
      "0:0:0:0:0:0:0:1",
      "[0:0:0:0:0:0:0:1]",
      "0::1",
      "::ffff:127.0.0.1",
      "[::ffff:127.0.0.1]",
      "::ffff:7f00:1",
    ]) {
      expect(isLoopback(host), host).toBe(true);
    }
    for (const host of [
      "0.0.0.0",
      "::",
      "[::]",
      "0:0:0:0:0:0:0:0",
      "::2",
      "fe80::1",
      "::ffff:10.0.0.1",
      "::ffff:0.0.0.0",
      "10.0.0.1",
      "128.0.0.1",
      "127.0.0.256",
      "localhost.example.com",
      "127.0.0.1.nip.io",
      "[::1",
      "::1]",
      "[[::1]]",
      "::1%lo",
      "",
    ]) {
      expect(isLoopback(host), host).toBe(false);
    }
  });

  it.runIf(ipv6)("listens on [::1] without a key, as typed in a URL", async () => {
    const { server } = await serve({ host: "[::1]" });
    expect(server.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
    const r = await upload(server.url, [purpose, file]);
    expect(r.status).toBe(200);
  });

  it.runIf(ipv6)("the CLI takes --host [::1] without a key too", async () => {
    const cli = startCli([
      "serve",
      "--host",
      "[::1]",
      "--port",
      "0",
      "--launch",
      "sim",
      "--data",
      fresh("data"),
    ]);
    const url = await listeningUrl(cli);
    expect(url).toMatch(/^http:\/\/\[::1\]:\d+$/);
    expect((await upload(url, [purpose, file])).status).toBe(200);
    cli.child.kill("SIGTERM");
    expect((await cli.done).code).toBe(0);
  });

  it("still refuses 0.0.0.0 and :: without a key", async () => {
    for (const host of ["0.0.0.0", "::", "[::]"]) {
      await expect(serve({ host })).rejects.toMatchObject({ code: "usage", message: /without an API key/ });
    }
  });
});

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

/** Runs `vbatch serve` expecting a refusal; a server that starts anyway is stopped (and exits 0). */
async function serveCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const cli = startCli(["serve", "--port", "0", "--launch", "sim", "--data", fresh("data"), ...args], {
    env: { VBATCH_API_KEYS: undefined, ...env },
  });
  listeningUrl(cli).then(
    () => cli.child.kill("SIGTERM"),
    () => {},
  );
  return cli.done;
}

/** The status of a GET with the key as a Bearer token. */
function get(url: string, key: string, path = "/v1/files"): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    request(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on("error", reject)
      .end();
  });
}

describe("API keys: never blank, trimmed, and offered without putting them in ps", () => {
  it("startServer refuses a blank key instead of silently serving without one", async () => {
    for (const apiKeys of [["   "], [""], ["k1", " \t "]]) {
      await expect(serve({ apiKeys })).rejects.toMatchObject({
        code: "usage",
        message: expect.stringMatching(/empty or only whitespace/),
      });
    }
    const { server } = await serve({ apiKeys: [" k-trimmed \t"] });
    expect(await get(server.url, "k-trimmed")).toBe(200);
    expect(await get(server.url, "k-other")).toBe(401);
  });

  it.each([
    {
      what: "--api-key of spaces",
      args: ["--api-key", "   "],
      env: {},
      message: /--api-key .*empty or only whitespace/,
    },
    {
      what: "an empty --api-key",
      args: ["--api-key", ""],
      env: {},
      message: /--api-key .*empty or only whitespace/,
    },
    {
      what: "VBATCH_API_KEYS of blanks",
      args: [],
      env: { VBATCH_API_KEYS: " , " },
      message: /VBATCH_API_KEYS .*entry 1.*empty or only whitespace/,
    },
    {
      what: "VBATCH_API_KEYS with an empty entry",
      args: ["--host", "0.0.0.0"],
      env: { VBATCH_API_KEYS: "sk-env-secret-1,,sk-env-secret-2" },
      message: /VBATCH_API_KEYS .*entry 2.*empty or only whitespace/,
    },
  ])("the CLI refuses $what (exit 2), naming where it came from", async ({ args, env, message }) => {
    const r = await serveCli(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).not.toMatch(/listening/);
    expect(r.stdout + r.stderr).not.toContain("sk-env-secret");
  });

  it("--api-key-file: one key a line, # comments, blank lines and CR/whitespace ignored; with VBATCH_API_KEYS", async () => {
    const keyFile = fresh("keys.txt");
    writeFileSync(
      keyFile,
      "\uFEFF# team keys\r\n\r\n  sk-file-one  \r\nsk-file-two\t\r\n   \r\n# sk-file-commented\r\nsk-file-three",
    );
    const cli = startCli(
      [
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "0",
        "--launch",
        "sim",
        "--data",
        fresh("data"),
        "--api-key-file",
        keyFile,
        "--log-level",
        "debug",
      ],
      { env: { VBATCH_API_KEYS: " sk-env-one " } },
    );
    const url = (await listeningUrl(cli)).replace("0.0.0.0", "127.0.0.1");
    for (const key of ["sk-file-one", "sk-file-two", "sk-file-three", "sk-env-one"]) {
      expect(await get(url, key), key).toBe(200);
    }
    for (const key of ["sk-file-commented", "# sk-file-commented", "sk-file", "sk-nope"]) {
      expect(await get(url, key), key).toBe(401);
    }
    cli.child.kill("SIGTERM");
    const r = await cli.done;
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/sk-file|sk-env/);
  });

  it("--api-key-file: a missing, unreadable or keyless file is a usage error naming the file, never a key", async () => {
    const missing = fresh("no-such-keys.txt");
    const aDir = fresh("keys-dir");
    mkdirSync(aDir);
    const comments = fresh("comments.txt");
    writeFileSync(comments, "# sk-file-secret-commented\n\n   \n");
    const control = fresh("control.txt");
    writeFileSync(control, "sk-file-secret-ok\nsk-file-secret-\u0007bell\n");
    const cases: [string, RegExp][] = [
      [missing, /--api-key-file .*no-such-keys\.txt.*(no such file|cannot read)/],
      [aDir, /--api-key-file .*keys-dir.*cannot read/],
      [comments, /--api-key-file .*comments\.txt.*no key/],
      [control, /control\.txt-\d+ line 2: .*control character/],
    ];
    if (process.getuid?.() !== 0) {
      // Root reads any file, so only an ordinary user can test permissions.
      const locked = fresh("locked.txt");
      writeFileSync(locked, "sk-file-secret-locked\n");
      chmodSync(locked, 0o000);
      cases.push([locked, /--api-key-file .*locked\.txt.*cannot read/]);
    }
    for (const [path, message] of cases) {
      const r = await serveCli(["--api-key-file", path]);
      expect(r.code, path).toBe(2);
      expect(r.stderr, path).toMatch(message);
      expect(r.stdout + r.stderr).not.toContain("sk-file-secret");
    }
  });

  it("--help documents the key file, VBATCH_API_KEYS and the upload timeout", async () => {
    const r = await runCli(["serve", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--api-key-file <file>/);
    expect(r.stdout).toMatch(/VBATCH_API_KEYS/);
    expect(r.stdout).toMatch(/--upload-timeout <duration>/);
    const bad = await serveCli(["--upload-timeout", "soon"]);
    expect(bad.code).toBe(2);
  });
});

describe("one server per data directory", () => {
  it("refuses a second server on the same --data (pid and start time), and starts once the first stops", async () => {
    const first = await serve();
    const engine = await startSim({ prefillMs: 0, stepMs: 0 });
    sims.push(engine);
    const second = startServer({ port: 0, endpoints: [engine.url], dataDir: first.dataDir });
    await expect(second).rejects.toMatchObject({
      code: "job_running",
      exitCode: 2,
      message: expect.stringMatching(new RegExp(`already running: pid ${process.pid} on .*, since \\d{4}-`)),
    });
    await first.server.close();
    servers.splice(servers.indexOf(first.server), 1);
    const third = await startServer({ port: 0, endpoints: [engine.url], dataDir: first.dataDir });
    servers.push(third);
  });

  it("the CLI: the second `vbatch serve` exits 2 at once; the first keeps serving", async () => {
    const data = fresh("cli-data");
    const first = startCli(["serve", "--data", data, "--port", "0", "--launch", "sim"]);
    await waitFor(
      () => first.stdout(),
      (out) => out.includes("listening on"),
    );
    const second = await runCli(["serve", "--data", data, "--port", "0", "--launch", "sim"]);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`already running: pid ${first.child.pid}`);
    first.child.kill("SIGTERM");
    expect((await first.done).code).toBe(0);
  });
});
