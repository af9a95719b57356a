// `vbatch down`: stops what a `vbatch up` recorded, the same way a run's teardown does: SIGTERM
// then SIGKILL for processes, docker stop then rm -f for containers, modal app stop for Modal.
import { readFileSync } from "node:fs";
import { execa } from "execa";
import { isAlive, processStartTime, terminateGroup } from "../process/terminate.js";
import type { EngineGroupRecord, EngineRecord } from "../types.js";

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
  /**
   * Engines that may still run: their pid is alive but vbatch cannot tell it is the process it
   * started, so they were left alone; their record must be kept. Each with how to stop it.
   */
  kept: { name: string; message: string }[];
}

type Ownership = { state: "ours" } | { state: "gone"; why: string } | { state: "unsure"; why: string };

/** True when pid's command line still shows the engine (`serve` and its port). */
function commandLineShows(pid: number, url: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return cmdline.includes("serve") && cmdline.includes(new URL(url).port);
  } catch {
    return false;
  }
}

/**
 * Whether the recorded pid is still the process `up` started. Its start time says so for certain
 * (a wrapper that execs something else keeps pid and start time); a record from before start
 * times were kept falls back on the command line, and a live pid that matches neither is unsure.
 */
function ownership(e: EngineRecord): Ownership {
  const pid = e.pid;
  if (pid === undefined) return { state: "gone", why: "not running (no pid recorded)" };
  if (!isAlive(pid)) return { state: "gone", why: `not running (pid ${pid})` };
  const now = processStartTime(pid);
  if (e.startTime !== undefined && now !== null) {
    return now === e.startTime
      ? { state: "ours" }
      : { state: "gone", why: `not running (pid ${pid} now belongs to another process)` };
  }
  if (commandLineShows(pid, e.url)) return { state: "ours" };
  const unknown =
    e.startTime === undefined
      ? "its record has no start time and its command line does not show `serve` and the port"
      : "its start time cannot be read here";
  return {
    state: "unsure",
    why: `pid ${pid} is running, but vbatch cannot tell it is the engine it started (${unknown}); if it is (${e.url}), stop it by hand: kill ${pid}, or kill -- -${pid} for its workers too`,
  };
}

export async function stopRecorded(
  group: EngineGroupRecord,
  o: StopRecordedOptions = {},
): Promise<StopRecordedResult> {
  const graceMs = o.graceMs ?? 10_000;
  const env = o.env ?? process.env;
  const result: StopRecordedResult = { stopped: [], problems: [], kept: [] };
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
        const owner = ownership(e);
        if (owner.state === "gone") {
          result.problems.push(`${e.name}: ${owner.why}`);
          return;
        }
        if (owner.state === "unsure") {
          result.kept.push({ name: e.name, message: `${e.name}: ${owner.why}` });
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
