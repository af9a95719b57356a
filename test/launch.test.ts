// `--launch process` end to end against the stand-in `vllm` (test/fixtures/bin), which runs the
// simulator: GPU groups, readiness, fast failure with the log tail, timeout, crash and restart,
// teardown, and HF_TOKEN kept out of every log line.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { VbatchError } from "../src/errors.js";
import {
  detectGpus,
  gpuGroups,
  type Launch,
  type LaunchedEngine,
  type LaunchOptions,
  launchEngines,
  parseGpuList,
  waitReady,
} from "../src/launch/index.js";
import { fatalLine, redactor, showArgs } from "../src/launch/log-lines.js";
import { isAlive } from "../src/launch/process/terminate.js";
import { tempDir } from "./helpers/files.js";
import { standInPath, useStandIns } from "./helpers/stand-ins.js";

const SECRET = "hf_TESTsecretTOKEN0123456789";
const dir = tempDir("vbatch-launch-");
let n = 0;

useStandIns();

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: standInPath(),
    VBATCH_HOME: join(dir, "home"),
    HF_TOKEN: SECRET,
    CUDA_VISIBLE_DEVICES: "",
    ...extra,
  };
}

/** A pino logger writing into an array, to look at what vbatch logged. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: pino({ level: "debug" }, stream), text: () => lines.join("") };
}

function records(path: string): { argv: string[]; cuda: string | null; pid: number }[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l));
}

const launches: Launch[] = [];
afterEach(async () => {
  await Promise.all(launches.splice(0).map((l) => l.stop({ graceMs: 2000 })));
});

async function launch(o: Partial<LaunchOptions> & { env: NodeJS.ProcessEnv }) {
  const l = await launchEngines({
    kind: "process",
    model: "m-test",
    portBase: 20000 + Math.floor(Math.random() * 20000),
    jobName: `p${++n}`,
    startupTimeoutMs: 30_000,
    ...o,
  });
  launches.push(l);
  return l;
}

/** Resolves with the next occurrence of an event. */
function next<E extends "ready" | "lost">(l: Launch, event: E): Promise<[LaunchedEngine, string?]> {
  return new Promise((resolve) => {
    let done = false;
    const cb = (e: LaunchedEngine, reason?: string) => {
      if (!done) resolve([e, reason]);
      done = true;
    };
    if (event === "ready") l.on("ready", cb);
    else l.on("lost", cb);
  });
}

async function rejection(p: Promise<unknown>): Promise<VbatchError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VbatchError);
  return err as VbatchError;
}

describe("GPUs", () => {
  it("splits GPUs into tensor-parallel groups and refuses what does not divide", () => {
    expect(gpuGroups(["0", "1", "2", "3"], 1)).toEqual([["0"], ["1"], ["2"], ["3"]]);
    expect(gpuGroups(["0", "1", "2", "3"], 2)).toEqual([
      ["0", "1"],
      ["2", "3"],
    ]);
    expect(gpuGroups([], 4)).toEqual([[]]);
    expect(() => gpuGroups(["0", "1", "2"], 2)).toThrow(/--gpus lists 3 GPUs .*--tensor-parallel-size 2/);
    expect(() => gpuGroups(["0"], 0)).toThrow(/--tensor-parallel-size must be an integer >= 1/);
    expect(parseGpuList("0, 1,2")).toEqual(["0", "1", "2"]);
    expect(() => parseGpuList("0,x")).toThrow(/--gpus: "x" is not a GPU index/);
    expect(() => parseGpuList("1,1")).toThrow(/GPU 1 is listed twice/);
  });

  it("reads GPU indices from nvidia-smi, and none without it", async () => {
    expect(await detectGpus(env({ FAKE_GPUS: "0,1,2" }))).toEqual(["0", "1", "2"]);
    expect(await detectGpus(env({ FAKE_GPUS: "" }))).toEqual([]);
    expect(await detectGpus({ PATH: "/nonexistent" })).toEqual([]);
  });
});

describe("bad options name their flag", () => {
  it.each([
    [{ model: "" }, /--model is required with --launch process/],
    [{ vllmArgs: ["--port", "9"] }, /--vllm-arg --port: vbatch sets --port itself; use --port/],
    [{ vllmArgs: ["--tensor-parallel-size=2"] }, /use --tensor-parallel-size/],
    [{ portBase: 70000 }, /--port must be an integer from 1 to 65535/],
    [{ maxRestarts: -1 }, /--max-restarts must be/],
    [{ startupTimeoutMs: 0 }, /--startup-timeout must be a positive/],
    [{ gpus: ["0", "1", "2"], tensorParallelSize: 2 }, /not a multiple of --tensor-parallel-size 2/],
    [{ vllmBin: "/nonexistent/vllm" }, /--vllm-bin: \/nonexistent\/vllm not found/],
    [{ jobName: "a/b" }, /--name a\/b/],
  ] as [Partial<LaunchOptions>, RegExp][])("%o", async (o, message) => {
    const err = await rejection(launch({ env: env(), ...o }));
    expect(err.code).toBe("usage");
    expect(err.message).toMatch(message);
  });
});

describe("--launch process", () => {
  it("runs one engine per GPU on its own port with CUDA_VISIBLE_DEVICES", async () => {
    const record = join(dir, "gpus.jsonl");
    const l = await launch({ env: env({ FAKE_GPUS: "0,1", FAKE_VLLM_RECORD: record }) });
    const engines = await l.allSettled();
    expect(engines.map((e) => e.gpus)).toEqual([["0"], ["1"]]);
    expect(new Set(engines.map((e) => e.url)).size).toBe(2);
    const seen = records(record);
    expect(seen.map((r) => r.cuda).sort()).toEqual(["0", "1"]);
    const r0 = seen.find((r) => r.cuda === "0");
    expect(r0?.argv.slice(0, 6)).toEqual([
      "serve",
      "m-test",
      "--host",
      "127.0.0.1",
      "--port",
      engines[0]?.url.split(":")[2],
    ]);
    expect(r0?.argv).not.toContain("--tensor-parallel-size");
    const models = (await fetch(`${engines[1]?.url}/v1/models`).then((r) => r.json())) as {
      data: { id: string }[];
    };
    expect(models.data[0]?.id).toBe("m-test");
  });

  it("gives a tensor-parallel group to one engine", async () => {
    const record = join(dir, "tp.jsonl");
    const l = await launch({
      env: env({ FAKE_GPUS: "0,1", FAKE_VLLM_RECORD: record }),
      tensorParallelSize: 2,
    });
    expect((await l.allSettled()).map((e) => e.gpus)).toEqual([["0", "1"]]);
    const [only] = records(record);
    expect(only?.cuda).toBe("0,1");
    expect(only?.argv).toEqual(expect.arrayContaining(["--tensor-parallel-size", "2"]));
  });

  it("waits out a slow start, streams the engine's log and never logs HF_TOKEN", async () => {
    const log = capture();
    const l = await launch({
      env: env({ FAKE_GPUS: "0", FAKE_VLLM_STARTUP_MS: "1500", FAKE_VLLM_PRINT_TOKEN: "1" }),
      logger: log.logger,
    });
    const e = await l.firstReady();
    expect((await fetch(`${e.url}/health`)).status).toBe(200);
    const text = log.text();
    expect(text).toContain("connection refused");
    expect(text).toContain("Application startup complete.");
    expect(text).toContain("hub login with token [redacted]");
    expect(text).not.toContain(SECRET);
  });

  it("fails fast on CUDA out of memory, with the log tail", async () => {
    const log = capture();
    const l = await launch({ env: env({ FAKE_GPUS: "0", FAKE_VLLM_FAIL: "oom" }), logger: log.logger });
    const err = await rejection(l.firstReady());
    expect(err.code).toBe("engine_unavailable");
    expect(err.message).toMatch(/engine vbatch-p\d+-0 \(GPUs 0\) failed to start/);
    const all = [err.message, ...err.details].join("\n");
    expect(all).toContain("torch.OutOfMemoryError: CUDA out of memory");
    expect(all).toMatch(/full log: .*vbatch-p\d+-0\.log/);
    expect(all).not.toContain(SECRET);
    expect(l.engines()).toEqual([]);
  });

  it("fails fast on a fatal line even when the engine hangs, and kills it", async () => {
    const record = join(dir, "hang.jsonl");
    const l = await launch({
      env: env({ FAKE_GPUS: "0", FAKE_VLLM_FAIL: "engine", FAKE_VLLM_RECORD: record }),
    });
    const err = await rejection(l.firstReady());
    expect(err.message).toContain("fatal error: RuntimeError: Engine core initialization failed");
    expect(records(record).every((r) => !isAlive(r.pid))).toBe(true);
  });

  it("gives up after --startup-timeout and stops the engine", async () => {
    const record = join(dir, "slow.jsonl");
    const l = await launch({
      env: env({ FAKE_GPUS: "0", FAKE_VLLM_STARTUP_MS: "600000", FAKE_VLLM_RECORD: record }),
      startupTimeoutMs: 1500,
    });
    const err = await rejection(l.firstReady());
    expect(err.message).toMatch(
      /not ready after 1\.5 s \(--startup-timeout\); last answer: \/health: connection refused/,
    );
    expect(records(record).every((r) => !isAlive(r.pid))).toBe(true);
  });

  it("restarts an engine that crashes mid-job, a bounded number of times", async () => {
    const record = join(dir, "crash.jsonl");
    const l = await launch({
      env: env({ FAKE_GPUS: "0", FAKE_VLLM_EXIT_AFTER: "1", FAKE_VLLM_RECORD: record }),
      maxRestarts: 1,
    });
    const crash = (url: string) =>
      fetch(`${url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "m-test", prompt: "hi", max_tokens: 2 }),
      }).catch(() => undefined);

    const first = await l.firstReady();
    const lost1 = next(l, "lost");
    const ready2 = next(l, "ready");
    await crash(first.url);
    const [gone, why] = await lost1;
    expect(gone.name).toBe(first.name);
    expect(why).toMatch(/exited with code 1; restarting \(1\/1\)/);
    const [again] = await ready2;
    expect(again.url).toBe(first.url);
    expect(l.engines()).toHaveLength(1);

    const lost2 = next(l, "lost");
    await crash(again.url);
    expect((await lost2)[1]).toMatch(/not restarting: no restarts left \(--max-restarts 1\)/);
    expect(l.engines()).toEqual([]);
    const starts = records(record);
    expect(starts).toHaveLength(2);
    expect(starts.every((r) => !isAlive(r.pid))).toBe(true);
  });

  it("stop() leaves no process behind and is idempotent", async () => {
    const record = join(dir, "stop.jsonl");
    const l = await launch({ env: env({ FAKE_GPUS: "0,1", FAKE_VLLM_RECORD: record }) });
    await l.allSettled();
    const pids = records(record).map((r) => r.pid);
    expect(pids.every(isAlive)).toBe(true);
    await Promise.all([l.stop({ graceMs: 5000 }), l.stop()]);
    await l.stop();
    expect(pids.some(isAlive)).toBe(false);
    expect(l.engines()).toEqual([]);
  });

  it("stop() before any engine is ready rejects firstReady as interrupted", async () => {
    const l = await launch({ env: env({ FAKE_GPUS: "0", FAKE_VLLM_STARTUP_MS: "600000" }) });
    const first = l.firstReady();
    await l.stop({ graceMs: 2000 });
    expect((await rejection(first)).code).toBe("interrupted");
  });
});

describe("engine lines", () => {
  it("masks secrets in logged command lines and spots fatal lines", () => {
    expect(showArgs(["serve", "m", "--api-key", "k1", "--api-key=k2", "--port", "1"])).toBe(
      "serve m --api-key [redacted] --api-key=[redacted] --port 1",
    );
    expect(redactor({ HF_TOKEN: SECRET })(`token=${SECRET}!`)).toBe("token=[redacted]!");
    expect(fatalLine("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB")).toBe(true);
    expect(fatalLine("RuntimeError: Engine core initialization failed. See root cause above.")).toBe(true);
    expect(fatalLine("INFO:     Application startup complete.")).toBe(false);
  });
});

describe("waitReady", () => {
  it("times out on a port where nothing listens, naming the flag", async () => {
    const err = await rejection(waitReady("http://127.0.0.1:9/v1", { timeoutMs: 300 }));
    expect(err.message).toMatch(
      /engine at http:\/\/127\.0\.0\.1:9 not ready after 0\.3 s \(--startup-timeout\)/,
    );
  });
});
