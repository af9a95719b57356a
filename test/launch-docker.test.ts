// `--launch docker` against the stand-in `docker` CLI (test/fixtures/bin/docker), whose
// "containers" are detached stand-in vLLM processes and whose output is replayed from real
// transcripts: the exact `docker run` line, readiness, crash and restart, teardown, remote hosts,
// hosts that serve --gpus without an `nvidia` runtime, and the daemon's failures as messages.
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { VbatchError } from "../src/errors.js";
import {
  DEFAULT_VLLM_IMAGE,
  type Launch,
  type LaunchedEngine,
  type LaunchOptions,
  launchEngines,
  stopRecorded,
} from "../src/launch/index.js";
import { isAlive } from "../src/launch/process/terminate.js";
import { tempDir } from "./helpers/files.js";
import { standInPath, useStandIns } from "./helpers/stand-ins.js";

const SECRET = "hf_DOCKERsecretTOKEN987654321";
const root = tempDir("vbatch-launch-docker-");
let n = 0;

useStandIns();

/** A fresh fake daemon (state dir) per test, and the environment that points the CLI at it. */
function daemon(extra: NodeJS.ProcessEnv = {}) {
  const state = join(root, `d${++n}`);
  mkdirSync(state, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: standInPath(),
    VBATCH_HOME: join(root, "home"),
    FAKE_DOCKER_STATE: state,
    HF_TOKEN: SECRET,
    CUDA_VISIBLE_DEVICES: "",
    ...extra,
  };
  delete env.DOCKER_HOST;
  const lines = (f: string) =>
    existsSync(join(state, f))
      ? readFileSync(join(state, f), "utf8")
          .trim()
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => JSON.parse(l))
      : [];
  const containers = () =>
    readdirSync(state)
      .filter((f) => f.endsWith(".json"))
      .map((f) => JSON.parse(readFileSync(join(state, f), "utf8")) as { name: string; pid: number });
  // Engines start concurrently: order the runs by container name.
  const runs = () =>
    lines("run.jsonl").sort((a, b) =>
      String(a.argv[3]).localeCompare(String(b.argv[3]), "en", { numeric: true }),
    );
  return { state, env, runs, calls: () => lines("calls.jsonl"), containers };
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
    kind: "docker",
    model: "m-docker",
    portBase: 20000 + Math.floor(Math.random() * 20000),
    jobName: `d${n}`,
    startupTimeoutMs: 30_000,
    ...o,
  });
  launches.push(l);
  return l;
}

async function rejection(p: Promise<unknown>): Promise<VbatchError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VbatchError);
  return err as VbatchError;
}

const port = (e: LaunchedEngine | undefined) => e?.url.split(":")[2];

describe("--launch docker", () => {
  it("runs the exact docker run line per GPU, with HF_TOKEN by name only, and removes every container", async () => {
    const d = daemon({ FAKE_GPUS: "0,1" });
    const log = capture();
    const hf = join(root, "hf-cache");
    const l = await launch({
      env: d.env,
      hfCache: hf,
      vllmArgs: ["--max-num-seqs", "64"],
      logger: log.logger,
    });
    const engines = await l.allSettled();
    expect(engines.map((e) => e.name)).toEqual([`vbatch-d${n}-0`, `vbatch-d${n}-1`]);
    const runs = d.runs();
    expect(runs.map((r) => r.argv)).toEqual(
      engines.map((e, i) => [
        "run",
        "-d",
        "--name",
        e.name,
        "--label",
        "vbatch=1",
        "--gpus",
        `"device=${i}"`,
        "--ipc=host",
        "-p",
        `127.0.0.1:${port(e)}:8000`,
        "-v",
        `${hf}:/root/.cache/huggingface`,
        "-e",
        "HF_TOKEN",
        DEFAULT_VLLM_IMAGE,
        "m-docker",
        "--max-num-seqs",
        "64",
      ]),
    );
    expect(runs.every((r) => r.hfTokenSet)).toBe(true);
    expect(existsSync(hf)).toBe(true);
    expect(engines.map((e) => e.url)).toEqual(engines.map((e) => `http://127.0.0.1:${port(e)}`));
    expect((await fetch(`${engines[0]?.url}/health`)).status).toBe(200);
    expect(log.text()).toContain("Application startup complete.");
    // The model is positional: vLLM's warning about --model never shows.
    expect(log.text()).toContain("Starting vLLM server on");
    expect(log.text()).not.toContain("instead of via the `--model` option");

    const pids = d.containers().map((c) => c.pid);
    expect(pids).toHaveLength(2);
    await l.stop({ graceMs: 3000 });
    expect(d.containers()).toEqual([]);
    expect(pids.some(isAlive)).toBe(false);
    const cmds = d.calls().map((c) => c.argv[0]);
    expect(cmds).toEqual(expect.arrayContaining(["info", "run", "logs", "stop", "rm"]));
    const everything = readFileSync(join(d.state, "calls.jsonl"), "utf8") + log.text();
    expect(everything).not.toContain(SECRET);
  });

  it("gives a tensor-parallel group one container", async () => {
    const d = daemon({ FAKE_GPUS: "0,1,2,3" });
    const l = await launch({ env: d.env, tensorParallelSize: 2 });
    const engines = await l.allSettled();
    expect(engines.map((e) => e.gpus)).toEqual([
      ["0", "1"],
      ["2", "3"],
    ]);
    const argv = d.runs()[0]?.argv as string[];
    expect(argv[argv.indexOf("--gpus") + 1]).toBe('"device=0,1"');
    expect(argv.slice(argv.indexOf(DEFAULT_VLLM_IMAGE))).toEqual([
      DEFAULT_VLLM_IMAGE,
      "m-docker",
      "--tensor-parallel-size",
      "2",
    ]);
  });

  it("runs on a remote --docker-host and reaches the engines at that host's address", async () => {
    const d = daemon({ FAKE_GPUS: "0,1", HF_TOKEN: undefined });
    const l = await launch({
      env: d.env,
      dockerHost: "tcp://127.0.0.1:2375",
      image: "vllm/vllm-openai:v0.0.1",
    });
    const [e] = await l.allSettled();
    // Local GPUs say nothing about the remote host's: one engine that sees them all.
    expect(l.engines()).toHaveLength(1);
    const argv = d.runs()[0]?.argv as string[];
    expect(argv).toEqual(expect.arrayContaining(["--gpus", "all", "-p", `${port(e)}:8000`]));
    expect(argv).toContain("vbatch-hf-cache:/root/.cache/huggingface");
    expect(argv).not.toContain("-e");
    expect(argv).toContain("vllm/vllm-openai:v0.0.1");
    expect(e?.url).toBe(`http://127.0.0.1:${port(e)}`);
    expect(d.calls().every((c) => c.dockerHost === "tcp://127.0.0.1:2375")).toBe(true);
    expect(l.keepInstructions()[0]).toContain("DOCKER_HOST=tcp://127.0.0.1:2375 docker rm -f");
  });

  it("restarts a container whose engine crashed", async () => {
    const d = daemon({ FAKE_GPUS: "0", FAKE_VLLM_EXIT_AFTER: "1" });
    const l = await launch({ env: d.env, maxRestarts: 2 });
    const first = await l.firstReady();
    const lost = new Promise<string>((resolve) => l.on("lost", (_e, why) => resolve(why)));
    const ready = new Promise<LaunchedEngine>((resolve) => l.on("ready", resolve));
    await fetch(`${first.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m-docker", prompt: "x", max_tokens: 1 }),
    }).catch(() => undefined);
    expect(await lost).toMatch(/^container exited with code \d+; restarting \(1\/2\)$/);
    expect((await ready).url).toBe(first.url);
    expect(d.runs()).toHaveLength(2);
    expect(d.containers()).toHaveLength(1);
  });

  it("refuses to reuse a container name it did not create, and leaves that container alone", async () => {
    const d = daemon({ FAKE_GPUS: "0" });
    const kept = await launch({ env: d.env, jobName: "dup", keep: true });
    await kept.firstReady();
    const record = kept.record("dup");
    await kept.stop();
    const second = await launch({ env: d.env, jobName: "dup" });
    const err = await rejection(second.firstReady());
    expect(err.message).toMatch(/a container named vbatch-dup-0 already exists/);
    expect(err.details.join("\n")).toContain("docker rm -f vbatch-dup-0");
    await second.stop();
    second.stopNow();
    expect(d.containers().map((c) => c.name)).toEqual(["vbatch-dup-0"]);
    await stopRecorded(record, { env: d.env, graceMs: 2000 });
    expect(d.containers()).toEqual([]);
  });

  it("says clearly when there is no Docker daemon", async () => {
    const d = daemon({ FAKE_DOCKER_NO_DAEMON: "1" });
    const err = await rejection(launch({ env: d.env }));
    expect(err.code).toBe("engine_unavailable");
    expect(err.message).toBe("no Docker daemon is reachable on this machine");
    expect(err.details.join("\n")).toContain(
      "Cannot connect to the Docker daemon at unix:///var/run/docker.sock",
    );
    expect(err.details.join("\n")).toContain("--docker-host");
    // What `docker info --format` printed on stdout over no server info is not part of the story.
    expect(err.details).not.toContain("null");
    expect(new Set(err.details).size).toBe(err.details.length);
    expect(d.runs()).toEqual([]);
  });

  it("says clearly when we may not use the daemon", async () => {
    const d = daemon({ FAKE_DOCKER_NO_PERMISSION: "1" });
    const err = await rejection(launch({ env: d.env }));
    expect(err.message).toBe("not allowed to use the Docker daemon on this machine");
    expect(err.details.join("\n")).toContain("usermod -aG docker");
    expect(d.runs()).toEqual([]);
  });

  // Docker serves --gpus through the NVIDIA runtime, its hook alone, or CDI: docker info lists an
  // `nvidia` runtime only in the first case, and none of them may be refused for it.
  it.each(["nvidia", "hook", "cdi"])(
    "starts engines when docker info lists the runtimes of a %s host",
    async (runtimes) => {
      const d = daemon({ FAKE_GPUS: "0", FAKE_DOCKER_RUNTIMES: runtimes });
      const l = await launch({ env: d.env });
      const engines = await l.allSettled();
      expect(engines).toHaveLength(1);
      expect((await fetch(`${engines[0]?.url}/health`)).status).toBe(200);
      expect(d.calls().map((c) => c.argv[0])).toEqual(expect.arrayContaining(["info", "run"]));
    },
  );

  it("says clearly when docker run cannot give the container GPUs", async () => {
    const d = daemon({ FAKE_GPUS: "0", FAKE_DOCKER_GPU: "none" });
    const l = await launch({ env: d.env });
    const err = await rejection(l.firstReady());
    expect(err.message).toContain(
      "the Docker daemon on this machine cannot give containers GPUs (no NVIDIA Container Toolkit)",
    );
    expect(err.details.join("\n")).toContain('could not select device driver "" with capabilities: [[gpu]]');
    expect(err.details.join("\n")).toContain("nvidia-ctk cdi generate");
    expect(d.runs()).toHaveLength(1);
    expect(d.containers()).toEqual([]);
  });

  it("says the driver is too old for the image's CUDA, and names the -cu129 image", async () => {
    const d = daemon({ FAKE_GPUS: "0", FAKE_DOCKER_GPU: "cuda-too-old" });
    const l = await launch({ env: d.env });
    const err = await rejection(l.firstReady());
    expect(err.message).toContain(
      "the image needs CUDA 12.8 or newer, which the NVIDIA driver on this machine is too old for",
    );
    expect(err.details.join("\n")).toContain(`--image ${DEFAULT_VLLM_IMAGE}-cu129`);
    expect(err.details.join("\n")).toContain("driver (580 or newer");
    expect(d.runs()).toHaveLength(1);
  });

  it("refuses a malformed --docker-host", async () => {
    const d = daemon();
    const err = await rejection(launch({ env: d.env, dockerHost: "gpu-box" }));
    expect(err.code).toBe("usage");
    expect(err.message).toMatch(/--docker-host gpu-box: expected ssh:\/\/user@host/);
  });
});
