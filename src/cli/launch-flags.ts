// Flags for starting engines (`--launch process|docker|modal`, shared by run, retry and up) and
// their mapping onto LaunchOptions. The launch library validates values and names the flag.
// --max-restarts and --keep are for a job's engines only: `up` always keeps its engines and stops
// watching them once they have all started, so it does not offer them.
import type { Command } from "commander";
import { parseGpuList } from "../launch/gpus.js";
import type { LaunchKind, LaunchOptions } from "../launch/index.js";
import { DEFAULT_VLLM_IMAGE } from "../launch/options.js";
import { collect, intFlag, numberFlag } from "./options.js";

export interface LaunchFlags {
  model?: string;
  gpus?: string;
  tensorParallelSize?: number;
  vllmArg?: string[];
  port?: number;
  hfCache?: string;
  vllmBin?: string;
  image?: string;
  dockerHost?: string;
  modalApp?: string;
  modalGpu?: string;
  startupTimeout: number;
  maxRestarts?: number;
  keep?: boolean;
}

/** How to start an engine: what `up` offers, and a job's launched engines too. */
export function addEngineFlags(cmd: Command): Command {
  return cmd
    .option(
      "--gpus <list>",
      "GPU indices to use, e.g. 0,1,2,3 (default: $CUDA_VISIBLE_DEVICES, else every GPU nvidia-smi lists)",
    )
    .option("--tensor-parallel-size <n>", "GPUs per engine", intFlag("--tensor-parallel-size"))
    .option(
      "--vllm-arg <arg>",
      "extra argument for vllm serve, e.g. --vllm-arg=--max-model-len=8192 (repeatable)",
      collect,
    )
    .option("--port <port>", "first port for launched engines (default 8000)", intFlag("--port", 1))
    .option("--hf-cache <dir>", "Hugging Face cache to use (default $HF_HOME or ~/.cache/huggingface)")
    .option("--vllm-bin <path>", "the vllm executable for --launch process (default: vllm on PATH)")
    .option("--image <image>", `container image for --launch docker (default ${DEFAULT_VLLM_IMAGE})`)
    .option(
      "--docker-host <url>",
      "run containers on this Docker host, e.g. ssh://user@gpu-box (default $DOCKER_HOST)",
    )
    .option("--modal-app <name>", "Modal app name for --launch modal")
    .option("--modal-gpu <type>", "Modal GPU type, e.g. H100")
    .option(
      "--startup-timeout <sec>",
      "time an engine gets to become ready, weights download included",
      numberFlag("--startup-timeout", 1),
      1200,
    );
}

/** The engine flags plus what only a job's own engines need: restarts mid-job, and --keep. */
export function addLaunchFlags(cmd: Command): Command {
  return addEngineFlags(cmd)
    .option(
      "--max-restarts <n>",
      "restarts per engine that crashes mid-job (default 3)",
      intFlag("--max-restarts", 0),
    )
    .option("--keep", "leave launched engines running at the end and print how to reach and stop them");
}

export function launchOptions(kind: LaunchKind, flags: LaunchFlags, model: string): LaunchOptions {
  return {
    kind,
    model,
    gpus: flags.gpus === undefined ? undefined : parseGpuList(flags.gpus, "--gpus"),
    tensorParallelSize: flags.tensorParallelSize,
    vllmArgs: flags.vllmArg,
    portBase: flags.port,
    hfCache: flags.hfCache,
    vllmBin: flags.vllmBin,
    image: flags.image,
    dockerHost: flags.dockerHost,
    modalApp: flags.modalApp,
    modalGpu: flags.modalGpu,
    startupTimeoutMs: flags.startupTimeout * 1000,
    maxRestarts: flags.maxRestarts,
    keep: flags.keep ?? false,
  };
}
