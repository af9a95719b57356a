// Nothing is left behind: a parent shaped like `vbatch run --launch` that gets Ctrl-C twice (the
// second exits at once) still takes every engine process and container with it; and `vbatch up |
// ps | down` through the state file: keep, record, probe, stop, forget.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type EngineGroupRecord,
  engineStatus,
  launchEngines,
  listEngines,
  readEngines,
  recordEngines,
  removeEngines,
  stopRecorded,
} from "../src/launch/index.js";
import { isAlive } from "../src/launch/process/terminate.js";
import { tempDir } from "./helpers/files.js";
import { FIXTURES, standInPath, useStandIns } from "./helpers/stand-ins.js";
import { until } from "./helpers/wait.js";

const root = tempDir("vbatch-launch-teardown-");
let n = 0;

useStandIns();

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const state = join(root, `s${++n}`);
  mkdirSync(state, { recursive: true });
  return {
    ...process.env,
    PATH: standInPath(),
    VBATCH_HOME: join(root, `home${n}`),
    FAKE_DOCKER_STATE: state,
    FAKE_GPUS: "0,1",
    CUDA_VISIBLE_DEVICES: "",
    ...extra,
  };
}

function lineReader(child: ChildProcess) {
  let buf = "";
  const lines: string[] = [];
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    buf += d;
    const parts = buf.split("\n");
    buf = parts.pop() ?? "";
    lines.push(...parts);
  });
  return lines;
}

const portBase = () => 20000 + Math.floor(Math.random() * 20000);

describe("teardown when the parent is interrupted twice", () => {
  it.each(["process", "docker"] as const)(
    "--launch %s: every engine is gone after exit(130)",
    async (kind) => {
      const e = env();
      const options = {
        kind,
        model: "m-int",
        portBase: portBase(),
        jobName: `int${n}`,
        logDir: join(root, `logs${n}`),
      };
      const child = spawn(
        process.execPath,
        [join(FIXTURES, "vbatch-launch-harness"), JSON.stringify(options)],
        {
          env: e,
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      const lines = lineReader(child);
      await until("the engines", () => lines.length > 0);
      const { record } = JSON.parse(lines[0] ?? "{}") as { record: EngineGroupRecord };
      expect(record.engines).toHaveLength(2);
      const pids =
        kind === "process"
          ? record.engines.map((x) => x.pid as number)
          : readdirSync(e.FAKE_DOCKER_STATE as string)
              .filter((f) => f.endsWith(".json"))
              .map(
                (f) =>
                  (
                    JSON.parse(readFileSync(join(e.FAKE_DOCKER_STATE as string, f), "utf8")) as {
                      pid: number;
                    }
                  ).pid,
              );
      expect(pids.length).toBe(2);
      expect(pids.every(isAlive)).toBe(true);

      child.kill("SIGINT");
      await until("the first Ctrl-C to be taken", () => lines.includes("draining"));
      expect(pids.every(isAlive)).toBe(true); // draining keeps the engines
      child.kill("SIGINT");
      expect(await exited).toBe(130);
      await until("every engine to be gone", () => !pids.some(isAlive));
      if (kind === "docker") {
        expect(readdirSync(e.FAKE_DOCKER_STATE as string).filter((f) => f.endsWith(".json"))).toEqual([]);
      }
    },
  );
});

describe("vbatch up | ps | down", () => {
  it("keeps engines past the launch, lists them with health and load, and stops them", async () => {
    const e = env();
    const launch = await launchEngines({
      kind: "process",
      model: "m-up",
      portBase: portBase(),
      keep: true,
      env: e,
    });
    const engines = await launch.allSettled();
    expect(engines).toHaveLength(2);
    const path = recordEngines(launch.record("work"), { env: e });
    expect(path).toBe(join(e.VBATCH_HOME as string, "engines", "work.json"));
    await launch.stop();
    expect(launch.keepInstructions()).toEqual([
      expect.stringMatching(/^vbatch-.*-0: http:\/\/127\.0\.0\.1:\d+ .*stop it: kill -TERM -- -\d+$/),
      expect.stringMatching(/-1: /),
    ]);

    const { records, problems } = listEngines({ env: e });
    expect(problems).toEqual([]);
    expect(records.map((r) => r.name)).toEqual(["work"]);
    const work = readEngines("work", { env: e });
    const pids = work.engines.map((x) => x.pid as number);
    expect(pids.every(isAlive)).toBe(true);

    const status = await engineStatus(records);
    expect(status.map((s) => [s.name, s.health, s.models, s.running, s.waiting])).toEqual(
      engines.map((x) => [x.name, "up", ["m-up"], 0, 0]),
    );

    const down = await stopRecorded(work, { graceMs: 5000, env: e });
    expect(down.stopped.sort()).toEqual(engines.map((x) => x.name).sort());
    expect(pids.some(isAlive)).toBe(false);
    expect(removeEngines("work", { env: e })).toBe(true);
    expect(listEngines({ env: e }).records).toEqual([]);

    // Stopping again finds nothing to stop, and says so.
    expect((await stopRecorded(work, { env: e })).problems).toHaveLength(2);
    expect((await engineStatus([work]))[0]?.health).toBe("down");
  });

  it("docker: down removes the recorded containers on the recorded host", async () => {
    const e = env();
    const launch = await launchEngines({
      kind: "docker",
      model: "m-up",
      portBase: portBase(),
      keep: true,
      env: e,
    });
    await launch.allSettled();
    const record = launch.record("dk");
    await launch.stop();
    const state = e.FAKE_DOCKER_STATE as string;
    expect(readdirSync(state).filter((f) => f.endsWith(".json"))).toHaveLength(2);
    expect(record.engines.map((x) => x.container)).toEqual(record.engines.map((x) => x.name));
    const down = await stopRecorded(record, { env: e, graceMs: 3000 });
    expect(down.problems).toEqual([]);
    expect(readdirSync(state).filter((f) => f.endsWith(".json"))).toEqual([]);
  });

  it("refuses bad names and reports unreadable files", () => {
    const e = env();
    expect(() => readEngines("../etc", { env: e })).toThrow(/--name \.\.\/etc/);
    expect(() => readEngines("nope", { env: e })).toThrow(/no engines named "nope" \(vbatch ps lists them/);
    mkdirSync(join(e.VBATCH_HOME as string, "engines"), { recursive: true });
    writeFileSync(join(e.VBATCH_HOME as string, "engines", "bad.json"), "{");
    const { records, problems } = listEngines({ env: e });
    expect(records).toEqual([]);
    expect(problems[0]).toMatch(/^bad\.json: .* is not a vbatch engines file/);
    expect(removeEngines("missing", { env: e })).toBe(false);
  });
});
