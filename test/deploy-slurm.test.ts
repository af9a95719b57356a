// deploy/slurm/: the scripts are valid bash, their #SBATCH lines are what sbatch reads (before the
// first command), the array they declare gives every shard once through --shard auto, and the
// scripts run for real outside Slurm: a stand-in `vllm` (the simulator) per GPU group, vbatch with
// --shard auto from the array's variables, then the merge step over both shards.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { shardFromEnv } from "../src/run/shard-env.js";
import { shardOf } from "../src/tools/shard.js";
import { BIN } from "./helpers/cli.js";
import { readJsonl, tempDir, writeChatInput } from "./helpers/files.js";

const slurmDir = join(import.meta.dirname, "..", "deploy", "slurm");
const script = (name: string) => join(slurmDir, name);
const text = (name: string) => readFileSync(script(name), "utf8");

/** The #SBATCH options sbatch reads: those before the first line that is neither comment nor blank. */
function sbatchOptions(name: string): Map<string, string | true> {
  const options = new Map<string, string | true>();
  for (const line of text(name).split("\n")) {
    if (line.trim() === "" || line.startsWith("#!")) continue;
    if (!line.startsWith("#")) break;
    if (!line.startsWith("#SBATCH")) continue;
    const m = /^#SBATCH (--[a-z-]+)(?:=(\S+))?$/.exec(line);
    if (!m) throw new Error(`${name}: unparsable directive ${JSON.stringify(line)}`);
    options.set(m[1] as string, m[2] ?? true);
  }
  return options;
}

/** Slurm's environment for one task of --array=A-B[:S] (MIN, MAX, COUNT, STEP as slurmctld sets them). */
function arrayEnv(spec: string, task: number): NodeJS.ProcessEnv {
  const m = /^(\d+)-(\d+)(?::(\d+))?$/.exec(spec);
  if (!m) throw new Error(`not a range: ${spec}`);
  const [min, max, step] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 1)];
  return {
    SLURM_ARRAY_TASK_ID: String(task),
    SLURM_ARRAY_TASK_MIN: String(min),
    SLURM_ARRAY_TASK_MAX: String(max),
    SLURM_ARRAY_TASK_COUNT: String(Math.floor((max - min) / step) + 1),
    SLURM_ARRAY_TASK_STEP: String(step),
  };
}

describe("deploy/slurm scripts", () => {
  it("pass bash -n", () => {
    for (const name of ["vbatch-array.sbatch", "vbatch-merge.sbatch", "submit.sh"]) {
      const r = spawnSync("bash", ["-n", script(name)], { encoding: "utf8" });
      expect(r.stderr, name).toBe("");
      expect(r.status, name).toBe(0);
    }
  });

  it("the array script asks for a whole GPU node per task, requeue on node failure, a log per task", () => {
    const o = sbatchOptions("vbatch-array.sbatch");
    expect(o.get("--array")).toMatch(/^\d+-\d+$/);
    expect(o.get("--nodes")).toBe("1");
    expect(o.get("--gres")).toMatch(/^gpu:\d+$/);
    expect(o.get("--requeue")).toBe(true);
    expect(o.get("--open-mode")).toBe("append"); // a requeued task adds to its log
    expect(o.get("--output")).toMatch(/%A_%a/);
    expect(text("vbatch-array.sbatch")).toMatch(/run "\$INPUT" .*--shard auto/);
  });

  it("its --array gives every shard exactly once through --shard auto", () => {
    const spec = sbatchOptions("vbatch-array.sbatch").get("--array") as string;
    const [min, max] = spec.split("-").map(Number) as [number, number];
    const shards = [];
    for (let t = min; t <= max; t++) shards.push(shardFromEnv(arrayEnv(spec, t)));
    expect(shards.map((s) => s.index)).toEqual(Array.from({ length: max - min + 1 }, (_, i) => i));
    expect(new Set(shards.map((s) => s.count))).toEqual(new Set([max - min + 1]));
  });

  it("the merge step is no array, and submit.sh starts it after the whole array succeeded", () => {
    const o = sbatchOptions("vbatch-merge.sbatch");
    expect(o.has("--array")).toBe(false);
    expect(o.get("--nodes")).toBe("1");
    expect(text("submit.sh")).toContain('--dependency="afterok:$array"');
    expect(text("submit.sh")).toMatch(/sbatch --parsable .*vbatch-array\.sbatch/);
    expect(text("vbatch-merge.sbatch")).toMatch(/merge .*--input "\$INPUT" --order input/);
  });
});

/** `count` consecutive free ports on 127.0.0.1 (server i of a task listens on BASE_PORT + i). */
async function freePorts(count: number): Promise<number> {
  const tryBind = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
  for (let base = 20000 + Math.floor(Math.random() * 30000); ; base += count) {
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = await tryBind(base + i);
    if (ok) return base;
  }
}

describe("deploy/slurm scripts, run outside Slurm with a simulated vLLM", () => {
  const dir = tempDir();
  // The stand-in `vllm serve MODEL --host H --port P --tensor-parallel-size N`: the simulator on
  // that port, noting which GPUs it was given.
  const vllm = join(dir, "vllm");
  writeFileSync(
    vllm,
    `#!/bin/bash
set -eu
[[ "$1" == serve ]] || exit 64
model=$2; shift 2
while (( $# )); do case "$1" in --port) port=$2; shift 2;; --host) host=$2; shift 2;; *) shift;; esac; done
echo "$CUDA_VISIBLE_DEVICES" > "${dir}/gpus-$port"
exec "${process.execPath}" "${BIN}" sim --host "$host" --port "$port" --model "$model" --prefill-ms 0 --step-ms 0
`,
  );
  chmodSync(vllm, 0o755);
  const input = writeChatInput(join(dir, "corpus.jsonl"), 120);
  const workdir = join(dir, "work");
  const env = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    INPUT: input,
    WORKDIR: workdir,
    MODEL: "sim-model",
    VLLM: vllm,
    VBATCH: `${process.execPath} ${BIN}`,
    HEALTH_POLL: "0.1",
    ...extra,
  });
  const run = (name: string, e: NodeJS.ProcessEnv) =>
    spawnSync("bash", [script(name)], { env: e, encoding: "utf8", timeout: 120_000 });

  it("each task starts a server per GPU group, waits for /health, and runs its shard", async () => {
    // Task 1 of --array=0-1: two GPUs, one server each.
    const base1 = await freePorts(2);
    const t1 = run(
      "vbatch-array.sbatch",
      env({ ...arrayEnv("0-1", 1), CUDA_VISIBLE_DEVICES: "0,1", BASE_PORT: `${base1}` }),
    );
    expect(t1.stderr).toContain("--shard auto: shard 1/2 (SLURM_ARRAY_TASK_ID=1 of --array=0-1)");
    expect(t1.status).toBe(0);
    expect(t1.stdout).toContain("2 vLLM servers ready");
    expect(readFileSync(join(dir, `gpus-${base1}`), "utf8").trim()).toBe("0");
    expect(readFileSync(join(dir, `gpus-${base1 + 1}`), "utf8").trim()).toBe("1");
    const ids1 = readJsonl(join(workdir, "shards", "1", "answers.jsonl")).map((l) => l.custom_id as string);
    expect(ids1.length).toBeGreaterThan(0);
    expect(ids1.every((id) => shardOf(id, 2) === 1)).toBe(true);

    // Task 0: four GPUs in groups of two (TP=2), so two servers of two GPUs.
    const base0 = await freePorts(2);
    const t0 = run(
      "vbatch-array.sbatch",
      env({ ...arrayEnv("0-1", 0), CUDA_VISIBLE_DEVICES: "0,1,2,3", TP: "2", BASE_PORT: `${base0}` }),
    );
    expect(t0.status).toBe(0);
    expect(readFileSync(join(dir, `gpus-${base0}`), "utf8").trim()).toBe("0,1");
    expect(readFileSync(join(dir, `gpus-${base0 + 1}`), "utf8").trim()).toBe("2,3");
    // The servers are stopped when the task ends.
    const probe = spawnSync("curl", ["-sf", `http://127.0.0.1:${base0}/health`]);
    expect(probe.status).not.toBe(0);

    // The merge step: both shards, every row once, in input order.
    const merge = run("vbatch-merge.sbatch", env({}));
    expect(merge.status).toBe(0);
    const merged = readJsonl(join(workdir, "answers.jsonl")).map((l) => l.custom_id);
    expect(merged).toEqual(Array.from({ length: 120 }, (_, i) => `row-${i}`));
  });

  it("a requeued task resumes: the same task again sends nothing and exits 0", async () => {
    const out = join(workdir, "shards", "1", "answers.jsonl");
    expect(existsSync(out)).toBe(true);
    const before = readFileSync(out, "utf8");
    const base = await freePorts(1);
    const again = run(
      "vbatch-array.sbatch",
      env({
        ...arrayEnv("0-1", 1),
        CUDA_VISIBLE_DEVICES: "0",
        BASE_PORT: `${base}`,
        SLURM_RESTART_COUNT: "1",
      }),
    );
    expect(again.status).toBe(0);
    expect(again.stdout).toContain("restart 1");
    expect(readFileSync(out, "utf8")).toBe(before);
  });

  it("stops at once with the server's log when vLLM exits instead of becoming healthy", async () => {
    const broken = join(dir, "vllm-broken");
    writeFileSync(broken, "#!/bin/bash\necho 'CUDA error: no kernel image is available' >&2\nexit 1\n");
    chmodSync(broken, 0o755);
    const r = run(
      "vbatch-array.sbatch",
      env({
        ...arrayEnv("0-3", 2),
        CUDA_VISIBLE_DEVICES: "0",
        BASE_PORT: `${await freePorts(1)}`,
        VLLM: broken,
      }),
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("vLLM server 0 exited");
    expect(r.stderr).toContain("CUDA error: no kernel image is available");
    expect(execFileSync("ls", [join(workdir, "shards")], { encoding: "utf8" })).toContain("2");
  });
});
