// A wrong engine address ends at once with one line saying what is wrong and what to type
// instead; only what looks like an engine still loading (a refused connection) is waited for.
// An address pasted with an API path (/v1/chat/completions) is read as the server's root.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderProgress } from "../src/cli/progress-line.js";
import { normalizeEndpoint } from "../src/client/endpoint.js";
import { engineProblem } from "../src/client/engine-problem.js";
import type { RunProgress } from "../src/progress/progress.js";
import { runCli } from "./helpers/cli.js";
import { readJsonl, tempDir, writeChatInput } from "./helpers/files.js";
import { useSims } from "./helpers/sims.js";

const dir = tempDir();
let n = 0;
const job = () => {
  n++;
  const input = writeChatInput(join(dir, `ea-${n}.jsonl`), 3);
  return { input, output: join(dir, `ea-${n}.out.jsonl`) };
};
const sim = useSims({ prefillMs: 0, stepMs: 0 });
// Far longer than any of these cases may take: each must end long before it.
const WAIT = ["--engine-wait", "120"];
const BOUND_MS = 60_000;

/** A live web server that is not an OpenAI-compatible API: 404 to everything. */
let notFound: Server;
let notFoundUrl = "";
beforeAll(async () => {
  notFound = createServer((_req, res) => {
    res.writeHead(404, { "content-type": "text/plain" }).end("Not Found");
  });
  await new Promise<void>((r) => notFound.listen(0, "127.0.0.1", r));
  notFoundUrl = `http://127.0.0.1:${(notFound.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => notFound.close(() => r())));

async function timed(args: string[]) {
  const started = Date.now();
  const r = await runCli(args);
  return { ...r, ms: Date.now() - started };
}

describe("a wrong engine address ends fast with what to type instead", () => {
  it("a live server answering 404", async () => {
    const j = job();
    const r = await timed(["run", j.input, "-o", j.output, "-e", notFoundUrl, ...WAIT]);
    expect(r.code).toBe(2);
    expect(r.ms).toBeLessThan(BOUND_MS);
    expect(r.stderr).toMatch(
      new RegExp(
        `^vbatch: error: engine ${notFoundUrl}: answers 404 to GET /v1/models: a server is listening, but not an OpenAI-compatible API`,
        "m",
      ),
    );
    expect(r.stderr).not.toMatch(/loading/);
    expect(readJsonl(j.output)).toEqual([]);
  });

  it("a host name that does not resolve", async () => {
    const j = job();
    const r = await timed(["run", j.input, "-o", j.output, "-e", "http://vllm-box.invalid:8000", ...WAIT]);
    expect(r.code).toBe(2);
    expect(r.ms).toBeLessThan(BOUND_MS);
    expect(r.stderr).toMatch(
      /^vbatch: error: engine http:\/\/vllm-box\.invalid:8000: the host name vllm-box\.invalid does not resolve/m,
    );
    expect(r.stderr).not.toMatch(/loading/);
  });

  it("https:// to a plain-HTTP port", async () => {
    const s = await sim();
    const port = new URL(s.url).port;
    const j = job();
    const r = await timed(["run", j.input, "-o", j.output, "-e", `https://127.0.0.1:${port}`, ...WAIT]);
    expect(r.code).toBe(2);
    expect(r.ms).toBeLessThan(BOUND_MS);
    expect(r.stderr).toMatch(
      new RegExp(
        `^vbatch: error: engine https://127\\.0\\.0\\.1:${port}: the TLS handshake failed .*: the port speaks plain HTTP; pass http://127\\.0\\.0\\.1:${port}$`,
        "m",
      ),
    );
    expect(s.stats().received).toBe(0);
  });

  it("estimate --probe says the same", async () => {
    const j = job();
    const r = await timed(["estimate", j.input, "-e", notFoundUrl, "--probe", "2"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(`^vbatch: error: engine ${notFoundUrl}: answers 404 to GET /v1/models`, "m"),
    );
  });
});

describe("an endpoint pasted with an API path", () => {
  it("is read as the server's root, with a note, in -e and in --endpoints-file", async () => {
    const s = await sim();
    const j = job();
    const pasted = `${s.url}/v1/chat/completions`;
    const r = await runCli(["run", j.input, "-o", j.output, "-e", pasted]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `vbatch: note: --endpoint ${pasted} is read as ${s.url} (vbatch adds /v1/... itself)`,
    );
    expect(readJsonl(j.output)).toHaveLength(3);

    const file = join(dir, "engines.txt");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(file, `# engines\n${s.url}/v1/completions/\n`);
    const k = job();
    const f = await runCli(["run", k.input, "-o", k.output, "--endpoints-file", file]);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stderr).toContain(`vbatch: note: ${file}:2: ${s.url}/v1/completions/ is read as ${s.url}`);
    expect(readJsonl(k.output)).toHaveLength(3);
  });

  it("estimate reads it the same way", async () => {
    const s = await sim();
    const j = job();
    const r = await runCli(["estimate", j.input, "-e", `${s.url}/v1/models`, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`is read as ${s.url}`);
    expect(JSON.parse(r.stdout).method).toBe("tokenize");
  });

  it("strips every API path and trailing slashes, keeping a path prefix", () => {
    for (const path of ["", "/", "/v1", "/v1/", "/v1/chat/completions", "/v1/completions//", "/v1/models"]) {
      expect(normalizeEndpoint(`http://h:8000${path}`)).toBe("http://h:8000");
    }
    expect(normalizeEndpoint("https://proxy.example/vllm/v1/embeddings")).toBe("https://proxy.example/vllm");
  });
});

describe("what a failed first contact means", () => {
  const sys = (code: string) => Object.assign(new Error(`${code}: boom`), { cause: { code } });
  it("waits for a refused connection or a reset, as vLLM refuses until loaded", () => {
    expect(engineProblem("http://h:8000", sys("ECONNREFUSED")).kind).toBe("loading");
    expect(engineProblem("http://h:8000", sys("ECONNRESET")).kind).toBe("loading");
  });
  it("gives up on a name that does not exist, and waits out a temporary DNS failure", () => {
    expect(engineProblem("http://h:8000", sys("ENOTFOUND"))).toMatchObject({ kind: "wrong" });
    const again = engineProblem("http://h:8000", sys("EAI_AGAIN"));
    expect(again.kind).toBe("waiting");
    expect(again.reason).toMatch(/EAI_AGAIN/);
  });
});

describe("the waiting line", () => {
  const waiting: RunProgress = {
    phase: "starting",
    validating: null,
    waitingForEnginesSec: 75,
    engineWaitSec: 600,
    waitingReason: null,
    total: 0,
    succeeded: 0,
    failed: 0,
    invalid: 0,
    resumed: 0,
    inFlight: 0,
    retries: 0,
    promptTokens: 0,
    completionTokens: 0,
    elapsedMs: 0,
    rowsPerSec: 0,
    tokensPerSec: 0,
    etaSec: null,
    allEnginesDownSec: null,
    engines: ["http://gpu-box-number-one.example.internal:8000", "http://gpu-box-number-two:8000"].map(
      (url) => ({
        url,
        up: false,
        limit: 1,
        limitMode: "adaptive",
        inFlight: 0,
        running: null,
        waiting: null,
        sent: 0,
      }),
    ),
  };
  it("keeps the countdown on a narrow terminal", () => {
    for (const width of [40, 60, 80]) {
      const line = renderProgress(waiting, width);
      expect(line.length).toBeLessThan(width);
      expect(line).toContain("1:15");
      expect(line).toContain("8:45 left");
    }
    expect(renderProgress(waiting, 200)).toContain("is vLLM loading?");
  });
});
