// vbatch down stops the engine `up` started even when its command line says nothing of vLLM (a
// site's `vllm` wrapper that execs something else): the pid and its start time identify it. When
// it cannot tell, it keeps the record and says how to stop the engine by hand; it never calls a
// live engine "not running".
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isAlive } from "../src/launch/process/terminate.js";
import { runCli } from "./helpers/cli.js";
import { tempDir } from "./helpers/files.js";
import { FIXTURES, useStandIns } from "./helpers/stand-ins.js";
import { until } from "./helpers/wait.js";

useStandIns();
const root = tempDir("vbatch-down-");
const started: number[] = [];
afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

// A wrapper as sites write them: set things up, then exec the server under another argv.
const wrapperDir = join(root, "wrapper");
mkdirSync(wrapperDir);
const wrapper = join(wrapperDir, "vllm");
writeFileSync(
  wrapper,
  `#!/bin/sh
FAKE_VLLM_ARGV=$(node -e 'process.stdout.write(JSON.stringify(process.argv.slice(1)))' -- "$@")
export FAKE_VLLM_ARGV
exec node ${JSON.stringify(join(FIXTURES, "vllm"))}
`,
);
chmodSync(wrapper, 0o755);

let n = 0;
function home() {
  n++;
  return {
    PATH: `${wrapperDir}:${FIXTURES}:${process.env.PATH}`,
    VBATCH_HOME: join(root, `home${n}`),
    FAKE_GPUS: "0",
  };
}
const port = () => String(26000 + Math.floor(Math.random() * 2000) * 2);

const recordOf = (name: string) => ({
  version: 1,
  name,
  kind: "process",
  model: "org/model",
  createdAt: new Date().toISOString(),
});

async function upOne(env: NodeJS.ProcessEnv, name: string) {
  const up = await runCli(
    ["up", "--launch", "process", "-m", "org/model", "--name", name, "--port", port()],
    {
      env,
    },
  );
  expect(up.code, up.stderr).toBe(0);
  const file = join(env.VBATCH_HOME as string, "engines", `${name}.json`);
  const record = JSON.parse(readFileSync(file, "utf8"));
  const pid = record.engines[0].pid as number;
  expect(record.engines[0].startTime).toMatch(/^\d+$/);
  started.push(pid);
  expect(isAlive(pid)).toBe(true);
  // The wrapper's exec left nothing of "serve" or the port on the command line.
  expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).not.toContain("serve");
  return { file, pid };
}

describe("vbatch down", () => {
  it("stops the engine up started behind a wrapper that execs something else", async () => {
    const env = home();
    const { file, pid } = await upOne(env, "wrapped");
    const down = await runCli(["down", "wrapped"], { env });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain('stopped 1 engine of "wrapped"');
    expect(down.stderr).not.toContain("not running");
    await until("the engine to exit", () => !isAlive(pid));
    expect(() => readFileSync(file)).toThrow();
  });

  it("keeps an old record it cannot match, and says how to stop the engine by hand", async () => {
    const env = home();
    // The engine as an older `up` left it: started through the wrapper, recorded without a start time.
    const p = port();
    const engine = spawn(wrapper, ["serve", "org/model", "--host", "127.0.0.1", "--port", p], {
      detached: true,
      stdio: "ignore",
      env: { ...process.env, ...env },
    });
    const pid = engine.pid as number;
    started.push(pid);
    await until("the wrapper to exec", () => !readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("serve"));
    const dir = join(env.VBATCH_HOME, "engines");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "old.json");
    const engines = [{ name: "vbatch-old-0", url: `http://127.0.0.1:${p}`, gpus: ["0"], pid }];
    writeFileSync(file, JSON.stringify({ ...recordOf("old"), engines }));
    const down = await runCli(["down", "old"], { env });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`pid ${pid} is running`);
    expect(down.stderr).toContain(`kill ${pid}`);
    expect(down.stderr).toMatch(/^vbatch: error: kept .*old\.json: 1 engine of "old" may still be running/m);
    expect(down.stderr).not.toContain("not running");
    expect(isAlive(pid)).toBe(true);
    expect(readFileSync(file, "utf8")).toContain(String(pid));
    // Once it is stopped by hand, down forgets it.
    process.kill(-pid, "SIGTERM");
    await until("the engine to exit", () => !isAlive(pid));
    const again = await runCli(["down", "old"], { env });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`not running (pid ${pid})`);
    expect(() => readFileSync(file)).toThrow();
  });

  it("leaves alone a process that reused the pid, and forgets the engine", async () => {
    const env = home();
    const other = spawn("sleep", ["30"], { detached: true, stdio: "ignore" });
    const pid = other.pid as number;
    started.push(pid);
    const dir = join(env.VBATCH_HOME, "engines");
    mkdirSync(dir, { recursive: true });
    const record = {
      ...recordOf("reused"),
      engines: [{ name: "vbatch-reused-0", url: "http://127.0.0.1:9", gpus: [], pid, startTime: "1" }],
    };
    writeFileSync(join(dir, "reused.json"), JSON.stringify(record));
    const down = await runCli(["down", "reused"], { env });
    expect(down.code).toBe(0);
    expect(down.stderr).toContain(`not running (pid ${pid} now belongs to another process)`);
    expect(isAlive(pid)).toBe(true);
    other.kill("SIGKILL");
  });
});
