// `vbatch down`: stops what a `vbatch up` recorded, the same way a run's teardown does: SIGTERM
// then SIGKILL for processes, docker stop then rm -f for containers, modal app stop for Modal.
import { readFileSync } from "node:fs";
import { execa } from "execa";
import { terminateGroup } from "./terminate.js";
import type { EngineGroupRecord, EngineRecord } from "./types.js";

export interface StopRecordedOptions {
  /** @default 10000 */
  graceMs?: number;
  /** Environment of docker/modal (PATH, credentials). @default process.env */
  env?: NodeJS.ProcessEnv;
}

export interface StopRecordedResult {
  stopped: string[];
  /** Engines that could not be stopped, or were already gone, and why. */
  problems: string[];
}

/** True when pid still runs the engine that was recorded (not a process that reused its pid). */
function stillOurs(e: EngineRecord): boolean {
  if (e.pid === undefined) return false;
  try {
    const cmdline = readFileSync(`/proc/${e.pid}/cmdline`, "utf8").split("\0");
    const port = new URL(e.url).port;
    return cmdline.includes("serve") && cmdline.includes(port);
  } catch {
    return false;
  }
}

export async function stopRecorded(
  group: EngineGroupRecord,
  o: StopRecordedOptions = {},
): Promise<StopRecordedResult> {
  const graceMs = o.graceMs ?? 10_000;
  const env = o.env ?? process.env;
  const result: StopRecordedResult = { stopped: [], problems: [] };
  const run = (cmd: string, args: string[], extra: NodeJS.ProcessEnv = {}) =>
    execa(cmd, args, {
      env: { ...env, ...extra },
      extendEnv: false,
      reject: false,
      stdin: "ignore",
      timeout: 120_000,
    });

  if (group.kind === "process") {
    await Promise.all(
      group.engines.map(async (e) => {
        if (!stillOurs(e)) {
          result.problems.push(`${e.name}: not running (pid ${e.pid ?? "?"})`);
          return;
        }
        await terminateGroup(e.pid as number, graceMs);
        result.stopped.push(e.name);
      }),
    );
  } else if (group.kind === "docker") {
    const names = group.engines.map((e) => e.container ?? e.name);
    const hostEnv = group.dockerHost ? { DOCKER_HOST: group.dockerHost } : {};
    await run("docker", ["stop", "-t", String(Math.max(1, Math.ceil(graceMs / 1000))), ...names], hostEnv);
    const rm = await run("docker", ["rm", "-f", ...names], hostEnv);
    if (rm.exitCode === 0) result.stopped.push(...names);
    else
      result.problems.push(`docker rm -f ${names.join(" ")}: ${String(rm.stderr).trim().split("\n").pop()}`);
  } else {
    const app = group.modalApp ?? group.name;
    const stop = await run("modal", ["app", "stop", app]);
    if (stop.exitCode === 0) result.stopped.push(app);
    else result.problems.push(`modal app stop ${app}: ${String(stop.stderr).trim().split("\n").pop()}`);
  }
  return result;
}
