// vbatch run --launch process and vbatch up | ps | down, end to end: the stand-in `vllm` on PATH
// starts real simulator processes, and nothing is left running afterwards.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startSim } from "../src/sim/index.js";
import { runCli, startCli } from "./helpers/cli.js";
import { idCounts, readJsonl, tempDir, writeChatInput } from "./helpers/files.js";
import { standInPath, useStandIns } from "./helpers/stand-ins.js";

useStandIns();
const dir = tempDir();
let n = 0;
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  PATH: standInPath(),
  VBATCH_HOME: join(dir, "home"),
  ...extra,
});
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const starts = (file: string): { pid: number; cuda: string | null }[] =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
// Ports from a range no other test uses, so parallel test files do not collide.
const portBase = () => 23000 + Math.floor(Math.random() * 2000) * 4;

describe("run --launch process", () => {
  it("starts one engine per GPU, runs the job on them, and stops them all", async () => {
    n++;
    const input = writeChatInput(join(dir, `l${n}.jsonl`), 400, { model: "org/model" });
    const output = join(dir, `l${n}.out.jsonl`);
    const record = join(dir, `l${n}.starts`);
    const r = await runCli(
      [
        "run",
        input,
        "-o",
        output,
        "--launch",
        "process",
        "--model",
        "org/model",
        "--port",
        String(portBase()),
        "--json",
      ],
      { env: env({ FAKE_GPUS: "0,1", FAKE_VLLM_RECORD: record }) },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ succeeded: 400, failed: 0 });
    const s = starts(record);
    expect(s.map((x) => x.cuda).sort()).toEqual(["0", "1"]);
    expect(s.some((x) => alive(x.pid))).toBe(false);
  });

  it("keeps going when its engine crashes mid-job: it is restarted and every row ends once", async () => {
    n++;
    const input = writeChatInput(join(dir, `l${n}.jsonl`), 600, { model: "org/model" });
    const output = join(dir, `l${n}.out.jsonl`);
    const record = join(dir, `l${n}.starts`);
    const r = await runCli(
      [
        "run",
        input,
        "-o",
        output,
        "--launch",
        "process",
        "--model",
        "org/model",
        "--port",
        String(portBase()),
        "--json",
      ],
      {
        // One engine, so the crash cannot be dodged by sending the rows elsewhere.
        env: env({
          FAKE_GPUS: "0",
          FAKE_VLLM_RECORD: record,
          FAKE_VLLM_EXIT_AFTER: "150",
          FAKE_VLLM_CRASH_ONCE: join(dir, `l${n}.crashed`),
        }),
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ succeeded: 600, failed: 0 });
    const counts = idCounts(output);
    expect(counts.size).toBe(600);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    const s = starts(record);
    expect(s.length).toBe(2);
    expect(s.some((x) => alive(x.pid))).toBe(false);
  });

  it("needs --model, and fails fast with the engine's log when it cannot start", async () => {
    n++;
    const input = writeChatInput(join(dir, `l${n}.jsonl`), 5, { model: "org/model" });
    const output = join(dir, `l${n}.out.jsonl`);
    const noModel = await runCli(["run", input, "-o", output, "--launch", "process"], { env: env() });
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toMatch(/--model/);
    const oom = await runCli(
      [
        "run",
        input,
        "-o",
        output,
        "--launch",
        "process",
        "--model",
        "org/model",
        "--port",
        String(portBase()),
      ],
      { env: env({ FAKE_GPUS: "0", FAKE_VLLM_FAIL: "oom" }) },
    );
    expect(oom.code).toBe(1);
    expect(oom.stderr).toMatch(/CUDA out of memory/);
  });
});

describe("vbatch up | ps | down", () => {
  it("starts engines once, runs two jobs on them, lists and stops them", async () => {
    const record = join(dir, "up.starts");
    const e = env({ FAKE_GPUS: "0,1", FAKE_VLLM_RECORD: record });
    const up = await runCli(
      ["up", "--launch", "process", "--model", "org/model", "--name", "team", "--port", String(portBase())],
      { env: e },
    );
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/2 engines up as "team"/);
    // The same name again: refused before anything starts; the first engines stay listed.
    const again = await runCli(
      ["up", "--launch", "process", "--model", "org/model", "--name", "team", "--port", String(portBase())],
      { env: e },
    );
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/2 engines are already up as "team": stop them with `vbatch down team`/);
    expect(starts(record)).toHaveLength(2);
    for (let i = 0; i < 2; i++) {
      n++;
      const input = writeChatInput(join(dir, `u${n}.jsonl`), 50, { model: "org/model" });
      const output = join(dir, `u${n}.out.jsonl`);
      const r = await runCli(["run", input, "-o", output, "--engines", "team"], { env: e });
      expect(r.code, r.stderr).toBe(0);
      expect(readJsonl(output)).toHaveLength(50);
    }
    const ps = await runCli(["ps", "--json"], { env: e });
    expect(ps.code).toBe(0);
    const listed = JSON.parse(ps.stdout).engines;
    expect(listed).toHaveLength(2);
    expect(
      listed.every((x: { health: string; group: string }) => x.health === "up" && x.group === "team"),
    ).toBe(true);
    const down = await runCli(["down", "team"], { env: e });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toMatch(/stopped 2 engines/);
    expect(starts(record).some((x) => alive(x.pid))).toBe(false);
    const after = await runCli(["ps", "--json"], { env: e });
    expect(JSON.parse(after.stdout).engines).toHaveLength(0);
  });
});

describe("a job that is already running", () => {
  it("is refused before any engine is launched for the second run", async () => {
    n++;
    const sim = await startSim({ model: "org/model", maxNumSeqs: 2, stepMs: 20, outputTokens: 8 });
    try {
      const input = writeChatInput(join(dir, `busy${n}.jsonl`), 500, { model: "org/model" });
      const output = join(dir, `busy${n}.out.jsonl`);
      const record = join(dir, `busy${n}.starts`);
      const first = startCli(["run", input, "-o", output, "-e", sim.url, "--concurrency", "2"]);
      while (!existsSync(output) || readFileSync(output, "utf8").length === 0)
        await new Promise((r) => setTimeout(r, 20));
      const second = await runCli(
        [
          "run",
          input,
          "-o",
          output,
          "--launch",
          "process",
          "--model",
          "org/model",
          "--port",
          String(portBase()),
        ],
        { env: env({ FAKE_GPUS: "0,1", FAKE_VLLM_RECORD: record }) },
      );
      expect(second.code).toBe(2);
      expect(second.stderr).toContain("already running");
      expect(existsSync(record)).toBe(false); // no stand-in vllm was started
      first.child.kill("SIGKILL");
      await first.done;
    } finally {
      await sim.close();
    }
  });
});
