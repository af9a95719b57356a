// launchEngines(): checks the options and the tools (vllm, docker + NVIDIA runtime, modal) before
// anything starts, picks ports, and hands the engines to the supervisor. Returns without waiting
// for readiness: the runner takes engines as they come (on "ready") and starts on the first.
import { mkdirSync } from "node:fs";
import { VbatchError } from "../errors.js";
import { findExecutable } from "../util/which.js";
import { checkDocker } from "./docker/preflight.js";
import { DockerDriver, dockerEnv } from "./docker-driver.js";
import type { Driver, EngineSlot } from "./driver.js";
import { ModalDriver } from "./modal-driver.js";
import { type ResolvedLaunch, resolveLaunchOptions } from "./options.js";
import { pickPorts } from "./ports.js";
import { ProcessDriver } from "./process-driver.js";
import { Supervisor } from "./supervisor.js";
import type { Launch, LaunchOptions } from "./types.js";

function makeCacheDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new VbatchError("usage", `--hf-cache ${dir}: cannot create it (${(err as Error).message})`);
  }
}

async function preflight(r: ResolvedLaunch): Promise<Driver> {
  switch (r.kind) {
    case "process":
      if (!findExecutable(r.vllmBin, r.env)) {
        throw new VbatchError(
          "usage",
          `--vllm-bin: ${r.vllmBin} not found${r.vllmBin.includes("/") ? "" : " on PATH"}; install vLLM (pip install vllm) or pass --vllm-bin /path/to/vllm`,
        );
      }
      return new ProcessDriver(r);
    case "docker":
      if (!findExecutable("docker", r.env)) {
        throw new VbatchError(
          "usage",
          "--launch docker: the docker CLI is not on PATH (install Docker, or use --launch process)",
        );
      }
      await checkDocker(dockerEnv(r), r.dockerHost, (runtimes) =>
        r.logger.debug({ runtimes }, "docker info: daemon answers"),
      );
      // Made here, as the user: a missing bind-mount source would be created by the daemon, as root.
      if (!r.remoteHost) makeCacheDir(r.hfCache);
      return new DockerDriver(r);
    case "modal":
      if (!findExecutable("modal", r.env)) {
        throw new VbatchError(
          "usage",
          "--launch modal: the modal CLI is not on PATH (pip install modal, then modal setup)",
        );
      }
      return new ModalDriver(r);
  }
}

export async function launchEngines(options: LaunchOptions): Promise<Launch> {
  const r = await resolveLaunchOptions(options);
  const driver = await preflight(r);
  // Local ports are probed (a busy one is skipped); a remote host's cannot be, and Modal has none.
  const probe = r.kind === "process" || (r.kind === "docker" && r.remoteHost === undefined);
  const ports = r.kind === "modal" ? [0] : await pickPorts(r.portBase, r.groups.length, { probe });
  const slots: EngineSlot[] = r.groups.map((gpus, index) => ({
    index,
    // A Modal app is its one engine, so it goes by the app's name.
    name: r.kind === "modal" ? r.modalApp : `vbatch-${r.jobName}-${index}`,
    gpus,
    port: ports[index] ?? 0,
  }));
  r.logger.info(
    {
      kind: r.kind,
      model: r.model,
      engines: slots.map((s) => ({ name: s.name, gpus: s.gpus.join(",") || "all", port: s.port })),
    },
    `launching ${slots.length} engine${slots.length === 1 ? "" : "s"}`,
  );
  const supervisor = new Supervisor(driver, slots, r);
  supervisor.start();
  return supervisor;
}
