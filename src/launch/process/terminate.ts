// Stopping a process group the way vLLM expects: SIGTERM so it frees the GPU cleanly, SIGKILL
// after a grace period. Engines run in their own group so a terminal's Ctrl-C reaches vbatch
// only, and so their worker processes go down with them.
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** True while pid exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // "pid (comm) S ...": the state letter follows the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

/**
 * When pid's process started, in clock ticks after boot (field 22 of /proc/<pid>/stat, proc(5)); an
 * exec keeps it, a new process with a reused pid does not. Null without /proc or without the pid.
 */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The fields after "pid (comm) " start at field 3 (the state): field 22 is the 20th of them.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** Signals the process group led by pid; false when no member is left. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** True while any member of the group exists. */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGTERM the group, wait up to graceMs for `exited` (or for the group to vanish), then SIGKILL.
 * `exited` is the leader's exit as seen by its parent, when we are the parent.
 */
export async function terminateGroup(pid: number, graceMs: number, exited?: Promise<unknown>): Promise<void> {
  if (!signalGroup(pid, "SIGTERM")) return;
  let leaderGone = false;
  void exited?.then(() => {
    leaderGone = true;
  });
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && !leaderGone && groupAlive(pid)) await sleep(50);
  // Workers the leader left behind, or the leader itself when it ignored SIGTERM.
  signalGroup(pid, "SIGKILL");
  if (exited) await exited;
  const killDeadline = Date.now() + 5000;
  while (Date.now() < killDeadline && groupAlive(pid)) await sleep(50);
}
