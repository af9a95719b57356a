// deploy/slurm/ against a real Slurm (the one-node cluster of test/fixtures/slurm/setup-one-node.sh,
// which .ci/run starts): submit.sh sends a 2-task array and the merge step to a non-default
// partition, task 1's engine dies mid-shard and the task is cancelled (which fails afterok for
// good), the merge (afterany) refuses naming shard 1, the task is requeued (`scontrol requeue`) and
// resumes from its journal, and the merge submitted again gives every row exactly once.
// Skipped where there is no sbatch. Nothing waits on a clock: each step polls for what it needs.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BIN } from "./helpers/cli.js";
import { idCounts, readJsonl, tempDir, writeChatInput } from "./helpers/files.js";
import { waitFor } from "./helpers/wait.js";

const root = join(import.meta.dirname, "..");
const hasSbatch = spawnSync("sbatch", ["--version"]).status === 0;
const title = hasSbatch
  ? "deploy/slurm on a real Slurm"
  : "deploy/slurm on a real Slurm (skipped: no sbatch on PATH; test/fixtures/slurm/setup-one-node.sh --install sets up a one-node Slurm)";

const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: "utf8" });
/** `Key=value` fields of `scontrol show job`, for one job or array task. */
function job(id: string): Record<string, string> {
  const r = sh("scontrol", ["show", "job", "-o", id]);
  if (r.status !== 0) return {};
  return Object.fromEntries(
    (r.stdout.split("\n")[0] ?? "").split(" ").flatMap((kv) => {
      const i = kv.indexOf("=");
      return i > 0 ? [[kv.slice(0, i), kv.slice(i + 1)]] : [];
    }),
  );
}
const lines = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").length - 1 : 0);

describe.skipIf(!hasSbatch)(title, () => {
  const dir = tempDir("vbatch-slurm-");
  const submitted: string[] = [];
  afterAll(() => {
    if (submitted.length) sh("scancel", submitted);
  });

  it("a cancelled task stops the merge with its name; requeued, it resumes and the merge gives every row once", async () => {
    const ping = sh("scontrol", ["ping"]);
    expect(
      ping.stdout,
      `no Slurm controller answers; run test/fixtures/slurm/setup-one-node.sh\n${ping.stderr}`,
    ).toMatch(/is UP/);
    const input = writeChatInput(join(dir, "corpus.jsonl"), 200);
    const workdir = join(dir, "work");
    // The stand-in vLLM; task 1's first engine dies on its 50th request, leaving the task stuck
    // mid-shard with some rows committed, the way a task looks when its node is lost.
    const crashed = join(dir, "crashed");
    const vllm = join(dir, "vllm");
    writeFileSync(
      vllm,
      `#!/bin/bash
if [[ \${SLURM_ARRAY_TASK_ID:-} == 1 && ! -e ${crashed} ]]; then touch ${crashed}; export FAKE_VLLM_EXIT_AFTER=50; fi
exec ${join(root, "test", "fixtures", "bin", "vllm")} "$@"
`,
    );
    chmodSync(vllm, 0o755);
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      INPUT: input,
      WORKDIR: workdir,
      MODEL: "sim-model",
      VLLM: vllm,
      VBATCH: `${process.execPath} ${BIN}`,
      HEALTH_POLL: "0.2",
    };
    // One fake GPU and one CPU a task: both tasks fit the 2-CPU node at once.
    const args = ["--array=0-1", "--gres=gpu:1", "--cpus-per-gpu=1", "--time=10", "--partition=other"];
    const submit = spawnSync(join(root, "deploy", "slurm", "submit.sh"), args, {
      cwd: dir,
      env,
      encoding: "utf8",
    });
    expect(submit.stderr).toBe("");
    expect(submit.status).toBe(0);
    const [, array = "", merge = ""] = /array job (\d+); merge job (\d+)/.exec(submit.stdout) ?? [];
    submitted.push(array, merge);
    // Site options reach both jobs.
    expect(job(merge).Partition).toBe("other");
    expect(job(merge).Dependency).toBe(`afterany:${array}_*(unfulfilled)`);

    const shard1 = join(workdir, "shards", "1", "answers.jsonl");
    await waitFor(
      () =>
        existsSync(crashed) && lines(shard1) > 0 && lines(join(workdir, "shards", "0", "answers.jsonl")) > 0,
      Boolean,
      60_000,
    );
    const task = `${array}_1`;
    expect(job(task).Partition).toBe("other");
    // Task 0 ends; task 1 is cancelled. Every task has ended, so the merge runs (afterany), finds
    // shard 1 incomplete, names it, and fails without writing anything.
    await waitFor(
      () => job(`${array}_0`).JobState,
      (s) => s === "COMPLETED",
      60_000,
    );
    expect(sh("scancel", [task]).status).toBe(0);
    const refused = await waitFor(
      () => job(merge),
      (j) => j.JobState === "FAILED",
      60_000,
    );
    expect(refused.ExitCode).toBe("1:0");
    const refusal = readFileSync(join(dir, `vbatch-merge-${merge}.log`), "utf8");
    expect(refusal).toMatch(
      /^vbatch: shard 1\/2, task 1 \(.*\): stopped with \d+ rows pending; rerun it: scontrol requeue \d+_1/m,
    );
    expect(refusal).toContain(`submit this step again: deploy/slurm/submit.sh --merge-after ${array}`);
    expect(existsSync(join(workdir, "answers.jsonl"))).toBe(false);

    // As the refusal says: requeue the task, submit the merge step again.
    const committed = lines(shard1);
    expect(sh("scontrol", ["requeue", task]).status).toBe(0);
    // Requeued, it waits for its BeginTime, about 120 s on (Slurm's credential lifetime + 1):
    // deploy/slurm/README.md says so and how to skip the wait, which is what happens next.
    const pending = await waitFor(
      () => job(task),
      (j) => j.JobState === "PENDING" && j.Reason === "BeginTime",
      30_000,
    );
    expect(Number(pending.Restarts)).toBe(1);
    const wait = (Date.parse(pending.EligibleTime ?? "") - Date.parse(pending.SubmitTime ?? "")) / 1000;
    expect(wait).toBeGreaterThanOrEqual(100);
    const again = spawnSync(
      join(root, "deploy", "slurm", "submit.sh"),
      ["--merge-after", array, "--partition=other"],
      { cwd: dir, env, encoding: "utf8" },
    );
    expect(again.stderr).toBe("");
    const [, merge2 = ""] = /merge job (\d+)/.exec(again.stdout) ?? [];
    submitted.push(merge2);
    expect(job(merge2).Partition).toBe("other");
    expect(sh("scontrol", ["update", `JobId=${task}`, "StartTime=now"]).status).toBe(0);

    const done = await waitFor(
      () => job(merge2),
      (j) => ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"].includes(j.JobState ?? ""),
      90_000,
    );
    const mergeLog = join(dir, `vbatch-merge-${merge2}.log`);
    expect(done.JobState, readFileSync(mergeLog, "utf8")).toBe("COMPLETED");
    expect(job(task).JobState).toBe("COMPLETED");

    const log = readFileSync(join(dir, `vbatch-${array}_1.log`), "utf8");
    expect(log).toContain("restart 0");
    expect(log).toContain("restart 1");
    expect(log).toContain(`"resumed":${committed}`); // the rows committed before the requeue were not sent again
    expect(readFileSync(mergeLog, "utf8")).toContain("all 200 input rows accounted for");
    expect(readJsonl(join(workdir, "answers.jsonl")).map((l) => l.custom_id)).toEqual(
      Array.from({ length: 200 }, (_, i) => `row-${i}`),
    );
    const counts = idCounts(join(workdir, "shards", "0", "answers.jsonl"), shard1);
    expect(counts.size).toBe(200);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  }, 180_000);
});
