// Which GPUs exist and how they are split into engines: one engine per group of
// `--tensor-parallel-size` GPUs, data parallel across groups.
import { VbatchError } from "../errors.js";

// CUDA_VISIBLE_DEVICES takes indices or GPU/MIG UUIDs.
const GPU_ID = /^(\d+|(GPU|MIG)-[A-Za-z0-9/-]+)$/;

/** GPU indices from `nvidia-smi --query-gpu=index --format=csv,noheader`; [] when it is absent or fails. */
export async function detectGpus(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  // Loaded here, not at the top: execa is about 130 modules, and a flag parser imports this file.
  const { execa } = await import("execa");
  const r = await execa("nvidia-smi", ["--query-gpu=index", "--format=csv,noheader"], {
    env,
    extendEnv: false,
    reject: false,
    timeout: 15_000,
    stdin: "ignore",
  });
  if (r.exitCode !== 0 || typeof r.stdout !== "string") return [];
  const ids = r.stdout
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  return ids.every((id) => /^\d+$/.test(id)) ? ids : [];
}

/** "0,1,2" (from --gpus or CUDA_VISIBLE_DEVICES) to ["0","1","2"], refusing bad or repeated ids. */
export function parseGpuList(text: string, flag = "--gpus"): string[] {
  const ids = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (ids.length === 0)
    throw new VbatchError("usage", `${flag} lists no GPU (got "${text}"); e.g. ${flag} 0,1`);
  checkGpuIds(ids, flag);
  return ids;
}

function checkGpuIds(ids: string[], flag: string): void {
  const bad = ids.find((id) => !GPU_ID.test(id));
  if (bad !== undefined) {
    throw new VbatchError("usage", `${flag}: "${bad}" is not a GPU index (or GPU-/MIG- UUID)`);
  }
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw new VbatchError("usage", `${flag}: GPU ${id} is listed twice`);
    seen.add(id);
  }
}

/**
 * Splits GPUs into engines of `tp` GPUs each, in order: [0,1,2,3] with tp 2 is [[0,1],[2,3]].
 * No GPUs at all gives one engine that sees every GPU ([[]]).
 */
export function gpuGroups(gpus: string[], tp: number): string[][] {
  if (!Number.isInteger(tp) || tp < 1) {
    throw new VbatchError("usage", `--tensor-parallel-size must be an integer >= 1 (got ${tp})`);
  }
  if (gpus.length === 0) return [[]];
  checkGpuIds(gpus, "--gpus");
  if (gpus.length % tp !== 0) {
    throw new VbatchError(
      "usage",
      `--gpus lists ${gpus.length} GPU${gpus.length === 1 ? "" : "s"} (${gpus.join(",")}), not a multiple of --tensor-parallel-size ${tp}`,
    );
  }
  const groups: string[][] = [];
  for (let i = 0; i < gpus.length; i += tp) groups.push(gpus.slice(i, i + tp));
  return groups;
}
