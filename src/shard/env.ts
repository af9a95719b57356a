// `--shard auto`: this process's shard, read from the scheduler that started it (a Kubernetes
// Indexed Job or a Slurm job array), so one manifest or one sbatch script serves every index.
import { VbatchError } from "../errors.js";
import type { Shard } from "./shard.js";

export type { Shard };

/** A shard found in the environment, and where it came from (for the line the CLI prints). */
export interface AutoShard extends Shard {
  from: string;
}

const fail = (message: string) => new VbatchError("usage", `--shard auto: ${message}`);

/** A variable that holds a whole number, or undefined when it is unset or empty. */
function whole(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d+$/.test(raw)) throw fail(`${name} is ${JSON.stringify(raw)}, not a whole number`);
  return Number(raw);
}

function inRange(index: number, count: number, what: string): Shard {
  if (index >= count) throw fail(`${what} is ${index}, outside ${count} shards (0..${count - 1})`);
  return { index, count };
}

/**
 * The shard given by the environment.
 * - Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` is the index; the count is `shards` (the Job's
 *   `completions`, which Kubernetes does not put in the pod's environment).
 * - Slurm job array: with `shards`, `SLURM_ARRAY_TASK_ID` is the index itself (so a resubmitted
 *   subset, `--array=3,7`, keeps its shards); without, the index is the task's position in the
 *   array, `(ID - MIN) / STEP`, out of `(MAX - MIN) / STEP + 1` tasks, which must equal
 *   `SLURM_ARRAY_TASK_COUNT` (a list such as `--array=1,4,9` is no range: it needs `shards`).
 * Throws a usage error naming the variable when neither scheduler is there or the values disagree.
 */
export function shardFromEnv(env: NodeJS.ProcessEnv, shards?: number): AutoShard {
  const k8s = whole(env, "JOB_COMPLETION_INDEX");
  const task = whole(env, "SLURM_ARRAY_TASK_ID");
  if (k8s !== undefined && task !== undefined) {
    throw fail(
      "both JOB_COMPLETION_INDEX (Kubernetes) and SLURM_ARRAY_TASK_ID (Slurm) are set; give --shard i/N",
    );
  }
  if (k8s !== undefined) {
    if (shards === undefined) {
      throw fail(
        "in a Kubernetes Indexed Job it needs --shards N, the Job's completions (Kubernetes does not tell the pod)",
      );
    }
    return { ...inRange(k8s, shards, "JOB_COMPLETION_INDEX"), from: `JOB_COMPLETION_INDEX=${k8s}` };
  }
  if (task === undefined) {
    throw fail(
      "neither JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) nor SLURM_ARRAY_TASK_ID (a Slurm job array) is set; give --shard i/N",
    );
  }
  if (shards !== undefined) {
    return { ...inRange(task, shards, "SLURM_ARRAY_TASK_ID"), from: `SLURM_ARRAY_TASK_ID=${task}` };
  }
  return slurmArrayShard(env, task);
}

function slurmArrayShard(env: NodeJS.ProcessEnv, task: number): AutoShard {
  const min = whole(env, "SLURM_ARRAY_TASK_MIN");
  const max = whole(env, "SLURM_ARRAY_TASK_MAX");
  const count = whole(env, "SLURM_ARRAY_TASK_COUNT");
  const step = whole(env, "SLURM_ARRAY_TASK_STEP") ?? 1;
  const from = `SLURM_ARRAY_TASK_ID=${task}`;
  if (min === undefined || max === undefined) {
    if (count === undefined) {
      throw fail(
        "SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MIN/MAX; give --shards N",
      );
    }
    // No bounds: an array numbered from 0.
    return { ...inRange(task, count, "SLURM_ARRAY_TASK_ID"), from: `${from} of ${count}` };
  }
  const array = `${min}-${max}${step === 1 ? "" : `:${step}`}`;
  if (step < 1 || min > max || (max - min) % step !== 0) {
    throw fail(`SLURM_ARRAY_TASK_MIN/MAX/STEP describe no array (${array})`);
  }
  if (task < min || task > max || (task - min) % step !== 0) {
    throw fail(`SLURM_ARRAY_TASK_ID ${task} is not an index of the array ${array}`);
  }
  const n = (max - min) / step + 1;
  if (count !== undefined && count !== n) {
    throw fail(
      `the array has ${count} tasks, not the ${n} of a range ${array} (a list such as --array=1,4,9?); ` +
        "give --shards N, and SLURM_ARRAY_TASK_ID is then the shard index",
    );
  }
  return { index: (task - min) / step, count: n, from: `${from} of --array=${array}` };
}
