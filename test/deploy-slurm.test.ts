// deploy/slurm/: the scripts are valid bash, their #SBATCH lines are what sbatch reads (before the
// first command), the array they declare gives every shard once through --shard auto, and the
// scripts run for real outside Slurm: a stand-in `vllm` (the simulator) per GPU group, vbatch with
// --shard auto from the array's variables, then the merge step over both shards.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { shardFromEnv } from "../src/shard/env.js";
import { shardOf } from "../src/shard/shard.js";
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

  it("the array script asks for GPUs and CPUs per GPU (no --exclusive), requeue on node failure, a log per task", () => {
    const o = sbatchOptions("vbatch-array.sbatch");
    expect(o.get("--array")).toMatch(/^\d+-\d+$/);
    expect(o.get("--nodes")).toBe("1");
    expect(o.get("--gres")).toMatch(/^gpu:\d+$/);
    // --exclusive would give every GPU of the node whatever --gres says (transcript
    // slurm-exclusive-gres.txt), and the script starts a server per GPU it is given.
    expect(o.has("--exclusive")).toBe(false);
    // CPUs follow the GPUs; a fixed --cpus-per-task larger than a node pends forever
    // (slurm-cpus-too-many.txt), and sbatch refuses it beside --cpus-per-gpu.
    expect(o.get("--cpus-per-gpu")).toMatch(/^\d+$/);
    expect(o.has("--cpus-per-task")).toBe(false);
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

  it("the merge step is no array and waits for every task to end, however it ended", () => {
    const o = sbatchOptions("vbatch-merge.sbatch");
    expect(o.has("--array")).toBe(false);
    expect(o.get("--nodes")).toBe("1");
    // afterok fails for good once a task was cancelled, even if it is requeued and completes
    // (slurm-afterok-requeued-task.txt): afterany, and the merge checks the shards itself.
    expect(text("submit.sh")).toContain('--dependency="afterany:$1"');
    expect(text("submit.sh")).not.toMatch(/--dependency="?afterok/);
    expect(text("vbatch-merge.sbatch")).toMatch(/merge .*--input "\$INPUT" --order input/);
  });
});

describe("deploy/slurm/submit.sh, with a stand-in sbatch", () => {
  const dir = tempDir();
  const calls = join(dir, "calls");
  // sbatch: records its arguments; --test-only fails when TEST_ONLY_FAILS is set, as sbatch
  // 22.05 does (slurm-cpus-too-many.txt); otherwise prints the next job id. squeue: knows every job.
  writeFileSync(
    join(dir, "sbatch"),
    `#!/bin/bash
echo "$*" >> "${calls}"
if [[ " $* " == *" --test-only "* ]]; then
  if [[ -n "\${TEST_ONLY_FAILS:-}" ]]; then echo "allocation failure: Requested node configuration is not available" >&2; exit 1; fi
  echo "sbatch: Job 99 to start at 2026-12-06T02:14:07 using 1 processors on nodes n1 in partition gpu" >&2; exit 0
fi
n=$(wc -l < "${calls}"); echo "$((100 + n));cluster"
`,
  );
  writeFileSync(join(dir, "squeue"), "#!/bin/bash\necho 101\n");
  chmodSync(join(dir, "sbatch"), 0o755);
  chmodSync(join(dir, "squeue"), 0o755);
  const input = writeChatInput(join(dir, "in.jsonl"), 2);
  const submit = (args: string[], extra: NodeJS.ProcessEnv = {}) => {
    writeFileSync(calls, "");
    const r = spawnSync(script("submit.sh"), args, {
      cwd: dir,
      env: { PATH: `${dir}:${process.env.PATH}`, INPUT: input, WORKDIR: join(dir, "work"), ...extra },
      encoding: "utf8",
    });
    return { ...r, calls: readFileSync(calls, "utf8").trim().split("\n").filter(Boolean) };
  };

  it("gives site options to both jobs and the rest to the array only, after asking --test-only", () => {
    const r = submit([
      "--array=0-3",
      "--gres=gpu:4",
      "--partition",
      "gpu",
      "-A",
      "proj",
      "--qos=high",
      "-pgpu2",
    ]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const [testArray, testMerge, array, merge] = r.calls as [string, string, string, string];
    expect(r.calls).toHaveLength(4);
    expect(testArray).toMatch(/^--test-only .*vbatch-array\.sbatch$/);
    expect(testMerge).toMatch(/^--test-only .*vbatch-merge\.sbatch$/);
    const site = "--partition gpu -A proj --qos=high -pgpu2";
    expect(array).toBe(
      `--parsable --export=ALL --array=0-3 --gres=gpu:4 ${site} ${script("vbatch-array.sbatch")}`,
    );
    expect(merge).toBe(
      `--parsable --export=ALL ${site} --dependency=afterany:103 ${script("vbatch-merge.sbatch")}`,
    );
    expect(r.stdout).toContain("array job 103; merge job 104");
  });

  it("refuses what no node can run, with one error line and nothing submitted (exit 2)", () => {
    const r = submit(["--gres=gpu:16"], { TEST_ONLY_FAILS: "1" });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^vbatch: error: sbatch --test-only refuses an array task: Requested node configuration is not available: no node it may use has the GPUs \(--gres\), CPUs/,
    );
    expect(r.calls.every((c) => c.startsWith("--test-only"))).toBe(true);
  });

  it("--merge-after submits the merge step alone, after that array, with the site options", () => {
    const r = submit(["--merge-after", "101", "--account=proj"]);
    expect(r.status).toBe(0);
    expect(r.calls.at(-1)).toBe(
      `--parsable --export=ALL --account=proj --dependency=afterany:101 ${script("vbatch-merge.sbatch")}`,
    );
    const bad = submit(["--merge-after", "101", "--gres=gpu:1"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(
      /^vbatch: error: --merge-after submits the merge step alone: --gres=gpu:1 would be lost/,
    );
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

    // The merge before task 0 ran: shard 0 is named as missing, nothing is written.
    const early = run("vbatch-merge.sbatch", env({ VBATCH_ARRAY_JOB: "21" }));
    expect(early.status).toBe(1);
    expect(early.stderr).toContain(
      `vbatch: shard 0/2: no journal of it under ${workdir}/shards: its task never ran vbatch`,
    );
    expect(early.stderr).toContain(
      "vbatch: error: not every shard is complete (above), nothing merged; once they are, submit this step again: deploy/slurm/submit.sh --merge-after 21",
    );
    expect(existsSync(join(workdir, "answers.jsonl"))).toBe(false);

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

  it("the merge refuses a shard that stopped with rows pending, and one that never got a journal", async () => {
    const w = join(dir, "work-stopped");
    // Shard 0 stopped: its only engine died after 20 requests and vbatch gave up waiting for it,
    // rows still pending. (An engine that never answers leaves no journal: that is task 1's case.)
    mkdirSync(join(w, "shards", "0"), { recursive: true });
    const port = await freePorts(1);
    const sim = spawn(process.execPath, [BIN, "sim", "--port", `${port}`, "--exit-after", "20"], {
      stdio: "ignore",
    });
    const r = spawnSync(
      process.execPath,
      [BIN, "run", input, "-o", join(w, "shards", "0", "answers.jsonl"), "--shard", "0/2"].concat([
        "-e",
        `http://127.0.0.1:${port}`,
        "--engine-wait",
        "5",
        "--no-progress",
      ]),
      { encoding: "utf8" },
    );
    sim.kill();
    expect(r.status).toBe(1);
    mkdirSync(join(w, "shards", "1")); // a task that died before vbatch started
    const m = run("vbatch-merge.sbatch", env({ WORKDIR: w, VBATCH_ARRAY_JOB: "21" }));
    expect(m.status).toBe(1);
    const pending = 120 - readJsonl(join(workdir, "shards", "1", "answers.jsonl")).length;
    const done = readJsonl(join(w, "shards", "0", "answers.jsonl")).length;
    expect(m.stderr).toContain(
      `vbatch: shard 0/2, task 0 (${w}/shards/0): stopped with ${pending - done} rows pending; rerun it: scontrol requeue 21_0 (it resumes from its journal)`,
    );
    expect(m.stderr).toContain(
      `vbatch: task 1 (${w}/shards/1): no journal: the task stopped before vbatch sent a request`,
    );
    expect(m.stderr).toContain("vbatch: shard 1/2: no journal of it");
    expect(m.stderr).toMatch(/vbatch: error: not every shard is complete \(above\), nothing merged/);
    expect(existsSync(join(w, "answers.jsonl"))).toBe(false);
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

/** A transcript of what Slurm printed (test/fixtures/transcripts), without its source line. */
const transcript = (name: string) =>
  readFileSync(join(import.meta.dirname, "fixtures", "transcripts", `${name}.txt`), "utf8")
    .split("\n")
    .slice(1)
    .join("\n");

describe("deploy/slurm/README.md says what the real Slurm printed", () => {
  const readme = readFileSync(join(slurmDir, "README.md"), "utf8").replace(/\s+/g, " ");

  it("a requeued task waits 121 s (BeginTime), and how to see it and skip it", () => {
    const t = transcript("slurm-requeue-begintime");
    const [, submit = "", eligible = ""] = /SubmitTime=(\S+) EligibleTime=(\S+)/.exec(t) ?? [];
    expect((Date.parse(eligible) - Date.parse(submit)) / 1000).toBe(121);
    expect(t).toMatch(/PD .*\(BeginTime\)/);
    expect(readme).toContain("121 s by default");
    expect(readme).toContain("(BeginTime)");
    expect(readme).toContain("StartTime=now");
  });

  it("afterok never runs once a task was cancelled and requeued; afterany does", () => {
    const t = transcript("slurm-afterok-requeued-task");
    expect(t).toContain("JobState=PENDING Reason=DependencyNeverSatisfied Dependency=afterok:19_*(failed)");
    expect(t).toMatch(/JobId=19 ArrayJobId=19 ArrayTaskId=1[\s\S]*?JobState=COMPLETED/);
    expect(readme).toContain("DependencyNeverSatisfied");
    expect(readme).toContain("--dependency=afterany");
  });

  it("--exclusive hands a task every GPU of the node, and a task larger than any node pends on PartitionConfig", () => {
    expect(transcript("slurm-exclusive-gres")).toMatch(/--exclusive --gres=gpu:1[^\n]*\n\d+\nCVD=0,1,2,3 /);
    const cpus = transcript("slurm-cpus-too-many");
    expect(cpus).toMatch(/PD .*\(PartitionConfig\)/);
    expect(cpus).toContain("vbatch: error: sbatch --test-only refuses an array task");
    expect(readme).toContain("(PartitionConfig)");
    expect(readme).toContain("CUDA_VISIBLE_DEVICES=0,1,2,3");
  });
});
