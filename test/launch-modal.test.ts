// `--launch modal` against the stand-in `modal` CLI, which replays real `modal deploy` output:
// the URL read from it (wrapped by Rich or not) or asked of Modal when it is missing, a cold start
// answering 503 first, `modal app stop` at the end (or not, with keep); the app file compiles; and
// a request past Modal's 150 s limit is followed through its 303 result URL, until Ctrl-C.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { HttpTransport } from "../src/client/http-transport.js";
import { TransportFailure } from "../src/client/wire.js";
import { VbatchError } from "../src/errors.js";
import {
  followModalResult,
  type Launch,
  type LaunchOptions,
  launchEngines,
  MODAL_APP_FILE,
  stopRecorded,
} from "../src/launch/index.js";
import { isAlive } from "../src/launch/process/terminate.js";
import { tempDir } from "./helpers/files.js";
import { MODAL_PYTHON, standInPath, useStandIns } from "./helpers/stand-ins.js";

const SECRET = "hf_MODALsecretTOKEN55555";
const root = tempDir("vbatch-launch-modal-");
let n = 0;

useStandIns();

function modal(extra: NodeJS.ProcessEnv = {}) {
  const state = join(root, `m${++n}`);
  mkdirSync(state, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: standInPath(),
    VBATCH_HOME: join(root, "home"),
    FAKE_MODAL_STATE: state,
    HF_TOKEN: SECRET,
    ...extra,
  };
  const lines = (f: string) =>
    existsSync(join(state, f))
      ? readFileSync(join(state, f), "utf8")
          .trim()
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => JSON.parse(l))
      : [];
  const app = (name: string) =>
    existsSync(join(state, `${name}.json`))
      ? (JSON.parse(readFileSync(join(state, `${name}.json`), "utf8")) as { pid: number; port: number })
      : undefined;
  return {
    env,
    deploys: () => lines("deploy.jsonl"),
    calls: () => lines("calls.jsonl"),
    lookups: () => lines("lookups.jsonl"),
    app,
  };
}

function capture() {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      out.push(String(chunk));
      cb();
    },
  });
  return { logger: pino({ level: "debug" }, stream), text: () => out.join("") };
}

const launches: Launch[] = [];
afterEach(async () => {
  await Promise.all(launches.splice(0).map((l) => l.stop({ graceMs: 2000 })));
});

async function launch(o: Partial<LaunchOptions> & { env: NodeJS.ProcessEnv }) {
  const l = await launchEngines({
    kind: "modal",
    model: "m-modal",
    jobName: `j${n}`,
    startupTimeoutMs: 30_000,
    ...o,
  });
  launches.push(l);
  return l;
}

describe("--launch modal", () => {
  it("deploys, reads the URL, waits out the cold start's 503s, and stops the app", async () => {
    const m = modal({ FAKE_MODAL_COLD_503: "3", VBATCH_MAX_CONTAINERS: "3", VBATCH_MAX_NUM_SEQS: "100" });
    const log = capture();
    const l = await launch({
      env: m.env,
      modalGpu: "L40S",
      tensorParallelSize: 2,
      vllmArgs: ["--max-model-len", "8192"],
      logger: log.logger,
    });
    const e = await l.firstReady();
    const app = m.app(`vbatch-j${n}`);
    expect(e).toEqual({
      url: `http://127.0.0.1:${app?.port}`,
      name: `vbatch-j${n}`,
      gpus: [],
      kind: "modal",
      maxInFlight: 300,
      loadBalanced: true,
    });
    expect(m.deploys()).toEqual([
      {
        path: MODAL_APP_FILE,
        app: `vbatch-j${n}`,
        model: "m-modal",
        gpu: "L40S",
        gpuCount: "2",
        vllmArgs: '["--max-model-len","8192"]',
        // Wide enough that Rich does not wrap the URL (Rich reads COLUMNS when not on a terminal).
        columns: "1000",
        hfTokenSet: true,
      },
    ]);
    expect(log.text()).toContain("HTTP 503");
    expect(log.text()).toContain("Created web function serve =>");
    expect(log.text()).not.toContain(SECRET);
    const models = (await fetch(`${e.url}/v1/models`).then((r) => r.json())) as { data: { id: string }[] };
    expect(models.data[0]?.id).toBe("m-modal");

    await l.stop();
    expect(m.calls().map((c) => c.argv)).toContainEqual(["app", "stop", `vbatch-j${n}`]);
    expect(m.app(`vbatch-j${n}`)).toBeUndefined();
    expect(isAlive(app?.pid ?? 0)).toBe(false);
  });

  it("with keep leaves the app up, says how to stop it, and vbatch down stops it", async () => {
    const m = modal({ FAKE_MODAL_COLD_503: "0" });
    const l = await launch({ env: m.env, keep: true, modalApp: "kept-app" });
    await l.firstReady();
    const record = l.record("kept");
    await l.stop();
    expect(m.calls().map((c) => c.argv[0])).toEqual(["deploy"]);
    expect(l.keepInstructions()).toEqual([expect.stringContaining("stop it: modal app stop kept-app")]);
    expect(m.app("kept-app")).toBeDefined();
    expect(record).toMatchObject({ kind: "modal", modalApp: "kept-app", engines: [{ name: "kept-app" }] });

    const down = await stopRecorded(record, { env: m.env });
    expect(down).toEqual({ stopped: ["kept-app"], problems: [], kept: [] });
    expect(m.app("kept-app")).toBeUndefined();
  });

  it("fails with modal's own output when deploy fails", async () => {
    const m = modal({ FAKE_MODAL_NO_TOKEN: "1" });
    const l = await launch({ env: m.env });
    const err = (await l.firstReady().catch((e: unknown) => e)) as VbatchError;
    expect(err).toBeInstanceOf(VbatchError);
    expect(err.message).toMatch(/failed to start: modal deploy failed \(exit 1\)/);
    expect(err.details.join("\n")).toContain("Token missing. Could not authenticate client.");
  });

  it("refuses --gpus (Modal picks GPUs by type)", async () => {
    const m = modal();
    await expect(launch({ env: m.env, gpus: ["0"] })).rejects.toThrow(
      /--gpus does not apply to --launch modal/,
    );
  });

  // What the real CLI prints when COLUMNS does not reach it (an older CLI, a wrapper script).
  it.each(["wrapped", "wrapped-split"])("reads the URL from %s modal deploy output", async (name) => {
    const m = modal({ FAKE_MODAL_COLD_503: "0", FAKE_MODAL_TRANSCRIPT: name });
    const l = await launch({ env: m.env });
    const e = await l.firstReady();
    expect(e.url).toBe(`http://127.0.0.1:${m.app(`vbatch-j${n}`)?.port}`);
    expect(m.lookups()).toEqual([]);
    const models = (await fetch(`${e.url}/v1/models`).then((r) => r.json())) as { data: { id: string }[] };
    expect(models.data[0]?.id).toBe("m-modal");
  });

  it("asks Modal for the URL when deploy printed only View Deployment", async () => {
    const m = modal({
      FAKE_MODAL_COLD_503: "0",
      FAKE_MODAL_TRANSCRIPT: "view-only",
      PATH: `${MODAL_PYTHON}:${standInPath()}`,
    });
    const l = await launch({ env: m.env });
    const e = await l.firstReady();
    expect(e.url).toBe(`http://127.0.0.1:${m.app(`vbatch-j${n}`)?.port}`);
    expect(m.lookups()).toEqual([{ app: `vbatch-j${n}`, fn: "serve" }]);
  });

  it("stops the app and says so when neither deploy nor Modal gives the URL", async () => {
    const m = modal({
      FAKE_MODAL_COLD_503: "0",
      FAKE_MODAL_TRANSCRIPT: "view-only",
      FAKE_MODAL_LOOKUP_FAIL: "1",
      PATH: `${MODAL_PYTHON}:${standInPath()}`,
    });
    const l = await launch({ env: m.env });
    const err = (await l.firstReady().catch((e: unknown) => e)) as VbatchError;
    expect(err).toBeInstanceOf(VbatchError);
    expect(err.message).toContain(
      `modal deploy printed no web URL for vbatch-j${n}, and Modal could not be asked for it`,
    );
    expect(err.details.join("\n")).toContain("Lookup failed for Function 'serve'");
    expect(m.lookups()).toHaveLength(1);
    expect(m.calls().map((c) => c.argv)).toContainEqual(["app", "stop", `vbatch-j${n}`]);
    expect(m.app(`vbatch-j${n}`)).toBeUndefined();
  });

  it.skipIf(!hasPython())("the app file compiles (python3 -m py_compile)", () => {
    execFileSync("python3", ["-m", "py_compile", MODAL_APP_FILE], {
      env: { ...process.env, PYTHONPYCACHEPREFIX: join(root, "pycache") },
    });
  });
});

function hasPython(): boolean {
  try {
    execFileSync("python3", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("requests past Modal's 150 s limit", () => {
  it("follows the 303 result URL until the answer is there", async () => {
    let polls = 0;
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      if (req.method === "POST") {
        res.writeHead(303, { location: "/v1/chat/completions?__modal_function_call_id=fc-1" }).end();
      } else if (url.searchParams.get("__modal_function_call_id") === "fc-1" && ++polls < 3) {
        res.writeHead(303, { location: url.pathname + url.search }).end();
      } else {
        res.writeHead(200, { "content-type": "application/json" }).end('{"id":"chatcmpl-1"}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const first = await fetch(`${base}/v1/chat/completions`, {
        method: "POST",
        body: "{}",
        redirect: "manual",
      });
      expect(first.status).toBe(303);
      const result = await followModalResult(
        `${base}/v1/chat/completions`,
        first.headers.get("location") ?? "",
      );
      expect(result).toEqual({ status: 200, body: '{"id":"chatcmpl-1"}', hops: 3 });
      polls = -100;
      await expect(
        followModalResult(
          `${base}/v1/chat/completions`,
          "/v1/chat/completions?__modal_function_call_id=fc-1",
          {
            maxHops: 2,
          },
        ),
      ).rejects.toThrow(/still not ready after 2 redirects/);
    } finally {
      server.close();
    }
  });

  it("stops the chain when the signal aborts (Ctrl-C), mid-hop or before one", async () => {
    let gets = 0;
    const held: import("node:http").ServerResponse[] = [];
    const controller = new AbortController();
    const server = createServer((_req, res) => {
      gets++;
      // Two quick redirects, then a result that takes Modal's 150 s: abort while it is held.
      if (gets <= 2) res.writeHead(303, { location: `/r?__modal_function_call_id=fc-${gets}` }).end();
      else {
        held.push(res);
        controller.abort(new Error("interrupted"));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const err = await followModalResult(`${base}/v1/chat/completions`, "/r?__modal_function_call_id=fc-0", {
        signal: controller.signal,
      }).catch((e: unknown) => e as Error);
      // Whatever reason the abort carries, the caller sees an AbortError (an interrupted row, not a
      // connection failure to retry), and nothing more is asked of Modal.
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).name).toBe("AbortError");
      expect(gets).toBe(3);
      const again = await followModalResult(`${base}/v1/chat/completions`, "/r", {
        signal: controller.signal,
      }).catch((e: unknown) => e as Error);
      expect((again as Error).name).toBe("AbortError");
      expect(gets).toBe(3);
    } finally {
      for (const res of held) res.destroy();
      server.close();
    }
  });

  it("a run that stops (Ctrl-C) stops the transport's follow of a held result", async () => {
    const held: import("node:http").ServerResponse[] = [];
    let gets = 0;
    const server = createServer((req, res) => {
      if (req.method === "POST") res.writeHead(303, { location: "/r?__modal_function_call_id=fc-1" }).end();
      else {
        gets++;
        held.push(res); // the result is still being computed
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const transport = new HttpTransport({ base, timeoutMs: 60_000, connections: 4 });
    try {
      const sent = transport
        .send({ path: "/v1/chat/completions", body: "{}", requestId: "r-1" })
        .catch((e: unknown) => e);
      while (gets === 0) await new Promise((r) => setTimeout(r, 10));
      await transport.close(); // what a stopping run does to every engine's transport
      const err = await sent;
      expect(err).toBeInstanceOf(TransportFailure);
      expect((err as TransportFailure).kind).toBe("aborted");
    } finally {
      for (const res of held) res.destroy();
      server.close();
    }
  });
});
