// --shard auto: the shard comes from a Kubernetes Indexed Job or a Slurm array's environment, the
// job runs exactly that shard and records it, and every missing or inconsistent variable is a
// one-line usage error (exit 2) naming it.
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseShard, resolveShard } from "../src/cli/job/flags.js";
import { shardFromEnv } from "../src/shard/env.js";
import { shardOf } from "../src/shard/shard.js";
import { type SimServer, startSim } from "../src/sim/index.js";
import { runCli } from "./helpers/cli.js";
import { readJsonl, tempDir, writeChatInput } from "./helpers/files.js";

const slurm = (id: number, min: number, max: number, count: number, step = 1) => ({
  SLURM_ARRAY_TASK_ID: String(id),
  SLURM_ARRAY_TASK_MIN: String(min),
  SLURM_ARRAY_TASK_MAX: String(max),
  SLURM_ARRAY_TASK_COUNT: String(count),
  SLURM_ARRAY_TASK_STEP: String(step),
});
const shard = (env: NodeJS.ProcessEnv, shards?: number) => {
  const { index, count } = shardFromEnv(env, shards);
  return `${index}/${count}`;
};
const usageError = (env: NodeJS.ProcessEnv, shards?: number) => {
  try {
    shardFromEnv(env, shards);
  } catch (err) {
    expect(err).toMatchObject({ code: "usage", exitCode: 2 });
    expect((err as Error).message).not.toContain("\n");
    return (err as Error).message;
  }
  throw new Error("expected a usage error");
};

describe("shardFromEnv: Kubernetes Indexed Job", () => {
  it("takes the index from JOB_COMPLETION_INDEX and the count from --shards", () => {
    expect(shard({ JOB_COMPLETION_INDEX: "0" }, 4)).toBe("0/4");
    expect(shard({ JOB_COMPLETION_INDEX: "3" }, 4)).toBe("3/4");
  });

  it("needs --shards: Kubernetes does not give the pod the Job's completions", () => {
    expect(usageError({ JOB_COMPLETION_INDEX: "1" })).toMatch(
      /--shard auto: .*needs --shards N.*completions/,
    );
  });

  it("refuses an index outside --shards", () => {
    expect(usageError({ JOB_COMPLETION_INDEX: "4" }, 4)).toMatch(
      /JOB_COMPLETION_INDEX is 4, outside 4 shards/,
    );
  });

  it("refuses a value that is not a whole number", () => {
    expect(usageError({ JOB_COMPLETION_INDEX: "x1" }, 4)).toMatch(/JOB_COMPLETION_INDEX is "x1"/);
    expect(usageError({ JOB_COMPLETION_INDEX: "-1" }, 4)).toMatch(/not a whole number/);
  });
});

describe("shardFromEnv: Slurm job array", () => {
  it("--array=0-3: the task id is the index, the count is SLURM_ARRAY_TASK_COUNT", () => {
    expect([0, 1, 2, 3].map((i) => shard(slurm(i, 0, 3, 4)))).toEqual(["0/4", "1/4", "2/4", "3/4"]);
  });

  it("--array=1-16 (not from 0): task 1 is shard 0 and task 16 shard 15", () => {
    expect(shard(slurm(1, 1, 16, 16))).toBe("0/16");
    expect(shard(slurm(16, 1, 16, 16))).toBe("15/16");
  });

  it("--array=1-7:2 (a step): tasks 1, 3, 5, 7 are shards 0..3 of 4", () => {
    expect([1, 3, 5, 7].map((i) => shard(slurm(i, 1, 7, 4, 2)))).toEqual(["0/4", "1/4", "2/4", "3/4"]);
  });

  it("--array=0-15%4 (a throttle) changes nothing: no STEP variable means 1", () => {
    const env: NodeJS.ProcessEnv = { ...slurm(9, 0, 15, 16) };
    delete env.SLURM_ARRAY_TASK_STEP;
    expect(shard(env)).toBe("9/16");
  });

  it("only SLURM_ARRAY_TASK_COUNT: an array from 0", () => {
    expect(shard({ SLURM_ARRAY_TASK_ID: "2", SLURM_ARRAY_TASK_COUNT: "5" })).toBe("2/5");
    expect(usageError({ SLURM_ARRAY_TASK_ID: "5", SLURM_ARRAY_TASK_COUNT: "5" })).toMatch(
      /SLURM_ARRAY_TASK_ID is 5, outside 5 shards/,
    );
  });

  it("a list that is no range (--array=1,4,9: Slurm sets STEP 1) is refused, pointing at --shards", () => {
    expect(usageError(slurm(4, 1, 9, 3))).toMatch(/has 3 tasks, not the 9 of a range 1-9.*--shards N/);
  });

  it("with --shards N the task id is the shard index (a resubmitted --array=3,7 keeps its shards)", () => {
    expect(shard(slurm(7, 3, 7, 2), 16)).toBe("7/16");
    expect(usageError(slurm(16, 3, 16, 2), 16)).toMatch(/SLURM_ARRAY_TASK_ID is 16, outside 16 shards/);
  });

  it("refuses a task id that is not in the array, or bounds that make no array", () => {
    expect(usageError(slurm(2, 1, 7, 4, 2))).toMatch(
      /SLURM_ARRAY_TASK_ID 2 is not an index of the array 1-7:2/,
    );
    expect(usageError(slurm(1, 1, 8, 4, 2))).toMatch(/describe no array \(1-8:2\)/);
    expect(usageError(slurm(3, 5, 2, 1))).toMatch(/describe no array/);
  });

  it("refuses a task id with no count, bounds or --shards", () => {
    expect(usageError({ SLURM_ARRAY_TASK_ID: "3" })).toMatch(/neither SLURM_ARRAY_TASK_COUNT nor .*MIN\/MAX/);
  });
});

describe("shardFromEnv: neither or both", () => {
  it("says what it looked for when no scheduler set anything", () => {
    expect(usageError({})).toMatch(/neither JOB_COMPLETION_INDEX .* nor SLURM_ARRAY_TASK_ID .* is set/);
    expect(usageError({ JOB_COMPLETION_INDEX: "", SLURM_ARRAY_TASK_ID: " " }, 2)).toMatch(/neither/);
  });

  it("refuses both at once", () => {
    expect(usageError({ JOB_COMPLETION_INDEX: "0", ...slurm(0, 0, 1, 2) }, 2)).toMatch(/both/);
  });
});

describe("--shard and --shards flags", () => {
  it("parses auto and i/N", () => {
    expect(parseShard("auto")).toBe("auto");
    expect(parseShard("2/5")).toEqual({ index: 2, count: 5 });
    expect(() => parseShard("5/5")).toThrow(/i\/N .* or auto/);
  });

  it("--shards goes with --shard auto only", () => {
    expect(() => resolveShard({ shard: { index: 0, count: 2 }, shards: 2 }, {})).toThrow(
      /--shards N goes with --shard auto/,
    );
    expect(() => resolveShard({ shards: 2 }, {})).toThrow(/--shards N goes with --shard auto/);
    expect(resolveShard({ shard: "auto", shards: 3 }, { JOB_COMPLETION_INDEX: "2" })).toMatchObject({
      index: 2,
      count: 3,
    });
  });
});

describe("vbatch run --shard auto", () => {
  const dir = tempDir();
  let sim: SimServer;
  beforeAll(async () => {
    sim = await startSim({ prefillMs: 0, stepMs: 0 });
  });
  afterAll(async () => {
    await sim.close();
  });
  const clean = { JOB_COMPLETION_INDEX: undefined, SLURM_ARRAY_TASK_ID: undefined };
  const input = writeChatInput(join(dir, "in.jsonl"), 200);
  const idsOf = (file: string) => readJsonl(file).map((l) => l.custom_id as string);
  const recordedShard = (journal: string) => {
    const db = new Database(journal, { readonly: true });
    try {
      return (db.prepare("SELECT value FROM meta WHERE key = 'shard'").get() as { value: string }).value;
    } finally {
      db.close();
    }
  };

  it("in a Slurm array task runs exactly that shard's rows, records it, and says where it came from", async () => {
    const out = join(dir, "slurm-2.jsonl");
    const env = { ...clean, ...slurm(3, 1, 4, 4) }; // --array=1-4, task 3: shard 2 of 4
    const r = await runCli(["run", input, "-o", out, "-e", sim.url, "--shard", "auto", "--no-progress"], {
      env,
    });
    expect(r.stderr).toContain("--shard auto: shard 2/4 (SLURM_ARRAY_TASK_ID=3 of --array=1-4)");
    expect(r.code).toBe(0);
    const ids = idsOf(out);
    const expected = Array.from({ length: 200 }, (_, i) => `row-${i}`).filter((id) => shardOf(id, 4) === 2);
    expect(ids.sort()).toEqual(expected.sort());
    expect(recordedShard(join(dir, "slurm-2.vbatch.db"))).toBe("2/4");
  });

  it("in a Kubernetes Indexed Job takes --shards; a retried pod with another index is refused by the journal", async () => {
    const out = join(dir, "k8s.jsonl");
    const args = [
      "run",
      input,
      "-o",
      out,
      "-e",
      sim.url,
      "--shard",
      "auto",
      "--shards",
      "3",
      "--no-progress",
    ];
    const first = await runCli(args, { env: { ...clean, JOB_COMPLETION_INDEX: "1" } });
    expect(first.code).toBe(0);
    expect(idsOf(out).every((id) => shardOf(id, 3) === 1)).toBe(true);
    expect(recordedShard(join(dir, "k8s.vbatch.db"))).toBe("1/3");
    // The same index again resumes (nothing left to send); another index on the same files is refused.
    const sent = sim.stats().received;
    const again = await runCli(args, { env: { ...clean, JOB_COMPLETION_INDEX: "1" } });
    expect(again.code).toBe(0);
    expect(sim.stats().received).toBe(sent);
    const other = await runCli(args, { env: { ...clean, JOB_COMPLETION_INDEX: "2" } });
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/made for shard "1\/3", not "2\/3"/);
  });

  it("exits 2 with one line naming the variables when no scheduler set them, before any request", async () => {
    const before = sim.stats().received;
    const r = await runCli(["run", input, "-o", join(dir, "none.jsonl"), "-e", sim.url, "--shard", "auto"], {
      env: clean,
    });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /^vbatch: error: --shard auto: neither JOB_COMPLETION_INDEX .* nor SLURM_ARRAY_TASK_ID .* is set; give --shard i\/N$/,
    );
    expect(sim.stats().received).toBe(before);
  });

  it("exits 2 for --shards without --shard auto", async () => {
    const r = await runCli(
      ["run", input, "-o", join(dir, "x.jsonl"), "-e", sim.url, "--shard", "0/2", "--shards", "2"],
      {
        env: clean,
      },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--shards N goes with --shard auto");
  });
});
