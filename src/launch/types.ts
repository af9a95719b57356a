// The launch library's public shapes: what the runner and the up/ps/down commands hand in and
// get back, kept apart from the process, container and Modal machinery behind them.
import type { Logger } from "pino";

export type LaunchKind = "process" | "docker" | "modal";

export interface LaunchOptions {
  kind: LaunchKind;
  /** Model id to serve (`--model`). Required. */
  model: string;
  /** GPU indices (`--gpus 0,1,...`). @default $CUDA_VISIBLE_DEVICES, else every GPU nvidia-smi lists, else one engine seeing all GPUs */
  gpus?: string[] | undefined;
  /** GPUs per engine (`--tensor-parallel-size`). @default 1 */
  tensorParallelSize?: number | undefined;
  /** Extra arguments for `vllm serve`, passed through (`--vllm-arg`, repeatable). */
  vllmArgs?: string[] | undefined;
  /** First port; engine i gets the first free port at or above portBase + i (`--port`). @default 8000 */
  portBase?: number | undefined;
  /** Hugging Face cache mounted into containers (`--hf-cache`). @default $HF_HOME, else ~/.cache/huggingface (a named volume `vbatch-hf-cache` on a remote Docker host) */
  hfCache?: string | undefined;
  /** The vLLM executable for kind "process" (`--vllm-bin`). @default "vllm" from PATH */
  vllmBin?: string | undefined;
  /** Container image for kind "docker" (`--image`). @default DEFAULT_VLLM_IMAGE */
  image?: string | undefined;
  /** Docker daemon to run containers on (`--docker-host`). @default $DOCKER_HOST, else the local daemon */
  dockerHost?: string | undefined;
  /** Modal app name (`--modal-app`). @default "vbatch-<jobName>" */
  modalApp?: string | undefined;
  /** Modal GPU type, e.g. "H100" or "L40S" (`--modal-gpu`). @default $VBATCH_GPU, else the app's default */
  modalGpu?: string | undefined;
  /** Time one engine gets to become ready, weights download included (`--startup-timeout`). @default 1200000 (20 min) */
  startupTimeoutMs?: number | undefined;
  /** Restarts per engine after it crashed mid-job (`--max-restarts`). @default 3 */
  maxRestarts?: number | undefined;
  /** Leave the engines running at stop(); `keepInstructions()` says how to reach and stop them (`--keep`). @default false */
  keep?: boolean | undefined;
  /** Names containers `vbatch-<jobName>-<i>` (`vbatch up --name`). @default 6 random hex digits */
  jobName?: string | undefined;
  /** Environment of vllm/docker/modal (HF_TOKEN, PATH, DOCKER_HOST...). @default process.env */
  env?: NodeJS.ProcessEnv | undefined;
  /** Where process engines write their logs. @default <vbatch home>/logs/<jobName> */
  logDir?: string | undefined;
  logger?: Logger | undefined;
}

export interface LaunchedEngine {
  /** Base URL without /v1, e.g. http://127.0.0.1:8000. */
  url: string;
  /** vbatch-<job>-<i>; also the container name (docker) or the app name (modal). */
  name: string;
  /** GPUs this engine uses; empty when it sees every GPU (or runs on Modal). */
  gpus: string[];
  kind: LaunchKind;
  /** Most requests worth keeping in flight at this URL (Modal: max_containers x max_inputs). */
  maxInFlight?: number | undefined;
  /** True when the URL load-balances over autoscaled replicas, so /metrics shows one replica only. */
  loadBalanced?: boolean | undefined;
}

export interface Launch {
  /** Calls back each time an engine becomes ready (first start and after a restart), and when one is lost. */
  on(event: "ready", cb: (e: LaunchedEngine) => void): void;
  on(event: "lost", cb: (e: LaunchedEngine, reason: string) => void): void;
  /** Resolves when the first engine is ready; rejects with a VbatchError (log tail in details) when every engine failed to start. */
  firstReady(): Promise<LaunchedEngine>;
  /** Resolves when every engine has either become ready or failed for good; the ready ones. */
  allSettled(): Promise<LaunchedEngine[]>;
  /** Engines ready right now. */
  engines(): LaunchedEngine[];
  /** SIGTERM, then SIGKILL after graceMs (default 10 s); docker stop + rm -f; modal app stop. Idempotent. With keep, only stops watching. */
  stop(options?: { graceMs?: number; keep?: boolean }): Promise<void>;
  /** Synchronous last resort for process exit (second Ctrl-C): SIGKILL / docker rm -f / modal app stop now. Registered on process "exit" until stop(). */
  stopNow(): void;
  /** What was started, for the state file (`vbatch up`). */
  record(name: string): EngineGroupRecord;
  /** Human lines: each engine's URL and how to stop it (printed with --keep). */
  keepInstructions(): string[];
}

/** One engine as the state file remembers it. */
export interface EngineRecord {
  name: string;
  url: string;
  gpus: string[];
  /** Process group leader (kind "process"). */
  pid?: number | undefined;
  /**
   * When that process started (/proc/<pid>/stat's starttime, see processStartTime): with the pid it
   * names the process `up` started, whatever its command line became. Absent in older records.
   */
  startTime?: string | undefined;
  /** Container name (kind "docker"). */
  container?: string | undefined;
  /** Log file (kind "process"). */
  log?: string | undefined;
  maxInFlight?: number | undefined;
  loadBalanced?: boolean | undefined;
}

/** What `vbatch up` started, under one name, in <vbatch home>/engines/<name>.json. */
export interface EngineGroupRecord {
  version: 1;
  name: string;
  kind: LaunchKind;
  model: string;
  createdAt: string;
  dockerHost?: string | undefined;
  modalApp?: string | undefined;
  engines: EngineRecord[];
}
