// The exact `docker run` line for one engine, kept pure so tests can compare it word for word.
// HF_TOKEN is passed by name (`-e HF_TOKEN`): docker reads the value from its own environment,
// so the token is never in argv, where `ps` would show it. The image's entrypoint is `vllm serve`,
// which takes the model positionally (`--model` is deprecated there and warned about).

import { urlHost } from "../../util/url-host.js";
import type { EngineSlot } from "../driver.js";
import type { ResolvedLaunch } from "../options.js";

/** The port vLLM listens on inside the container (the image's default). */
export const CONTAINER_PORT = 8000;

export type DockerRunInput = Pick<
  ResolvedLaunch,
  "model" | "tp" | "vllmArgs" | "image" | "hfCache" | "remoteHost" | "env"
>;

/** `--gpus` value: '"device=0,1"' (the quotes keep docker's CSV parser off the comma), or all. */
export function gpusFlag(gpus: string[]): string {
  return gpus.length === 0 ? "all" : `"device=${gpus.join(",")}"`;
}

export function dockerRunArgs(r: DockerRunInput, slot: EngineSlot): string[] {
  // Loopback only on this machine; a remote host's engines must be reachable from here.
  const publish = r.remoteHost
    ? `${slot.port}:${CONTAINER_PORT}`
    : `127.0.0.1:${slot.port}:${CONTAINER_PORT}`;
  const args = [
    "run",
    "-d",
    "--name",
    slot.name,
    "--label",
    "vbatch=1",
    "--gpus",
    gpusFlag(slot.gpus),
    "--ipc=host",
    "-p",
    publish,
    "-v",
    `${r.hfCache}:/root/.cache/huggingface`,
  ];
  for (const name of ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"]) {
    if (r.env[name] !== undefined && r.env[name] !== "") args.push("-e", name);
  }
  args.push(r.image, r.model);
  if (r.tp > 1) args.push("--tensor-parallel-size", String(r.tp));
  return [...args, ...r.vllmArgs];
}

/** Where this machine reaches the engine. */
export function dockerEngineUrl(r: Pick<ResolvedLaunch, "remoteHost">, port: number): string {
  return `http://${urlHost(r.remoteHost ?? "127.0.0.1")}:${port}`;
}
