// LaunchOptions checked once and filled with defaults, before anything is started. Every bad
// value is a usage error naming the flag the CLI maps it from.
import { randomBytes } from "node:crypto";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { pino } from "pino";
import { VbatchError } from "../errors.js";
import { detectGpus, gpuGroups, parseGpuList } from "./gpus.js";
import { redactor } from "./log-lines.js";
import type { LaunchKind, LaunchOptions } from "./types.js";
import { vbatchHome } from "./up/state.js";

/**
 * The image `--launch docker` runs unless --image says otherwise (pinned: a moving tag breaks reruns).
 * v0.32.0: the newest release with public evidence found (2026-10): vllm==0.32.0 pinned and patched
 * against the v0.32.0 tag in https://raw.githubusercontent.com/syv-ai/qwen38-27b-rtx3090/master/docs/vllm-0.32.md,
 * and vllm/vllm-openai:v0.32.0 used as a base image in public build scripts. Keep in step with
 * VLLM_VERSION in deploy/modal/vllm_server.py. Since v0.20 the plain tag is a CUDA 13 build (driver
 * 580+, vllm-project/vllm#42738); drivers for CUDA 12 take the `-cu129` variant of the same tag
 * (published alongside, e.g. v0.30.0-cu129).
 */
export const DEFAULT_VLLM_IMAGE = "vllm/vllm-openai:v0.32.0";
export const DEFAULT_PORT = 8000;
export const DEFAULT_STARTUP_TIMEOUT_MS = 20 * 60_000;
export const DEFAULT_MAX_RESTARTS = 3;
const KINDS: readonly LaunchKind[] = ["process", "docker", "modal"];

export interface ResolvedLaunch {
  kind: LaunchKind;
  model: string;
  vllmBin: string;
  image: string;
  modalApp: string;
  startupTimeoutMs: number;
  maxRestarts: number;
  jobName: string;
  tp: number;
  vllmArgs: string[];
  portBase: number;
  /** GPUs per engine; [[]] is one engine seeing every GPU. */
  groups: string[][];
  hfCache: string;
  /** The daemon's address when it is not the local one (ssh://, tcp://). */
  dockerHost: string | undefined;
  /** Host that remote containers are reached at. */
  remoteHost: string | undefined;
  modalGpu: string | undefined;
  keep: boolean;
  env: NodeJS.ProcessEnv;
  logDir: string;
  logger: import("pino").Logger;
  /** Hides HF_TOKEN and friends in any text that reaches a log or an error. */
  redact: (text: string) => string;
}

// Arguments vbatch sets itself, and the flag to use instead.
const RESERVED: Record<string, string> = {
  "--host": "engines listen on 127.0.0.1 (inside containers: 0.0.0.0)",
  "--port": "use --port",
  "--model": "use --model",
  "--tensor-parallel-size": "use --tensor-parallel-size",
  "-tp": "use --tensor-parallel-size",
};

function checkVllmArgs(args: unknown): string[] {
  if (args === undefined) return [];
  if (!Array.isArray(args) || args.some((a) => typeof a !== "string")) {
    throw new VbatchError("usage", "--vllm-arg takes strings");
  }
  for (const a of args as string[]) {
    const key = a.split("=")[0] ?? a;
    const hint = RESERVED[key];
    if (hint) throw new VbatchError("usage", `--vllm-arg ${a}: vbatch sets ${key} itself; ${hint}`);
  }
  return args as string[];
}

function intIn(value: number | undefined, fallback: number, flag: string, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new VbatchError("usage", `${flag} must be an integer from ${min} to ${max} (got ${value})`);
  }
  return v;
}

function dockerTarget(value: string | undefined): { host?: string; remote?: string } {
  if (value === undefined || value === "") return {};
  const m = /^(unix|tcp|ssh|npipe):\/\/(.+)$/.exec(value);
  if (!m) {
    throw new VbatchError(
      "usage",
      `--docker-host ${value}: expected ssh://user@host, tcp://host:2376 or unix:///path/docker.sock`,
    );
  }
  if (m[1] === "unix" || m[1] === "npipe") return { host: value };
  return { host: value, remote: new URL(value).hostname.replace(/^\[|\]$/g, "") };
}

async function resolveGpus(o: LaunchOptions, env: NodeJS.ProcessEnv, remote: boolean): Promise<string[]> {
  if (o.gpus !== undefined) {
    if (o.kind === "modal") {
      throw new VbatchError(
        "usage",
        "--gpus does not apply to --launch modal; pick the GPU type with --modal-gpu",
      );
    }
    if (o.gpus.length === 0) throw new VbatchError("usage", "--gpus lists no GPU; e.g. --gpus 0,1");
    return o.gpus;
  }
  // Modal picks its own GPUs; a remote Docker host's GPUs are not visible from here.
  if (o.kind === "modal" || remote) return [];
  const visible = env.CUDA_VISIBLE_DEVICES;
  if (visible !== undefined && visible.trim() !== "") return parseGpuList(visible, "CUDA_VISIBLE_DEVICES");
  return detectGpus(env);
}

export async function resolveLaunchOptions(o: LaunchOptions): Promise<ResolvedLaunch> {
  if (!KINDS.includes(o.kind)) {
    throw new VbatchError("usage", `--launch must be one of ${KINDS.join(", ")} (got ${String(o.kind)})`);
  }
  if (typeof o.model !== "string" || o.model.trim() === "") {
    throw new VbatchError("usage", `--model is required with --launch ${o.kind}`);
  }
  const env = o.env ?? process.env;
  const tp = intIn(o.tensorParallelSize, 1, "--tensor-parallel-size", 1, 64);
  const jobName = o.jobName ?? randomBytes(3).toString("hex");
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,40}$/.test(jobName)) {
    throw new VbatchError("usage", `--name ${jobName}: use letters, digits, "_", "." and "-" (at most 41)`);
  }
  const image = o.image ?? DEFAULT_VLLM_IMAGE;
  if (image.trim() === "" || /\s/.test(image))
    throw new VbatchError("usage", `--image "${image}" is not an image name`);
  const target = dockerTarget(o.kind === "docker" ? (o.dockerHost ?? env.DOCKER_HOST) : undefined);
  const modalApp = o.modalApp ?? `vbatch-${jobName}`;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(modalApp)) {
    throw new VbatchError(
      "usage",
      `--modal-app ${modalApp}: use letters, digits, "_", "." and "-" (under 64)`,
    );
  }
  const startupTimeoutMs = o.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;
  if (!Number.isFinite(startupTimeoutMs) || startupTimeoutMs <= 0) {
    throw new VbatchError(
      "usage",
      `--startup-timeout must be a positive number of seconds (got ${startupTimeoutMs})`,
    );
  }
  const home = vbatchHome(env);
  let hfCache =
    o.hfCache ??
    (target.remote ? "vbatch-hf-cache" : (env.HF_HOME ?? join(homedir(), ".cache", "huggingface")));
  if (o.hfCache !== undefined && o.hfCache.trim() === "")
    throw new VbatchError("usage", "--hf-cache is empty");
  // A local path must be absolute for `docker run -v`; a remote one is the host's business.
  if (!target.remote && !isAbsolute(hfCache)) hfCache = resolve(hfCache);
  return {
    kind: o.kind,
    model: o.model,
    tp,
    vllmArgs: checkVllmArgs(o.vllmArgs),
    portBase: intIn(o.portBase, DEFAULT_PORT, "--port", 1, 65535),
    groups: gpuGroups(await resolveGpus(o, env, target.remote !== undefined), tp),
    hfCache,
    vllmBin: o.vllmBin ?? "vllm",
    image,
    dockerHost: target.host,
    remoteHost: target.remote,
    modalApp,
    modalGpu: o.modalGpu ?? env.VBATCH_GPU,
    startupTimeoutMs,
    maxRestarts: intIn(o.maxRestarts, DEFAULT_MAX_RESTARTS, "--max-restarts", 0, 1000),
    keep: o.keep ?? false,
    jobName,
    env,
    logDir: o.logDir ?? join(home, "logs", jobName),
    logger: o.logger ?? pino({ level: "silent" }),
    redact: redactor(env),
  };
}
