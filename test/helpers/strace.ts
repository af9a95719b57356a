// Real system-call failures for the CLI: strace fails one syscall on one file of a real run
// (`inject=fsync:error=EIO:when=3`), or kills the process there. Used where a file-operation seam
// would only test our own idea of a failure; the tests that need it run only where strace can
// trace (it needs ptrace, which some containers forbid).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { BIN, type CliResult, runCli } from "./cli.js";

function probe(): boolean {
  try {
    execFileSync("strace", ["-f", "-o", "/dev/null", "true"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export const hasStrace = probe();

export interface Injection {
  /** Only syscalls on this file are counted and failed (strace -P). */
  path: string;
  /** e.g. "fsync" or "pwrite64". */
  syscall: string;
  /** errno to fail with ("EIO", "ENOSPC"), or "KILL" to deliver SIGKILL at that call. */
  error: string;
  /** Which matching call (1-based). */
  when: number;
}

/** Runs `vbatch <args>` under strace with one injected failure. */
export function runCliInjected(args: string[], inj: Injection): Promise<CliResult> {
  const action = inj.error === "KILL" ? "signal=KILL" : `error=${inj.error}`;
  return runCli(
    [
      "-f",
      "-qq",
      "-o",
      "/dev/null",
      "-P",
      inj.path,
      "-e",
      `trace=${inj.syscall}`,
      "-e",
      `inject=${inj.syscall}:${action}:when=${inj.when}`,
      process.execPath,
      BIN,
      ...args,
    ],
    { command: "strace" },
  );
}

/** How many times a real run makes `syscall` on `path` (strace's log, counted). */
export async function countSyscalls(
  args: string[],
  path: string,
  syscall: string,
  log: string,
): Promise<number> {
  await runCli(
    ["-f", "-qq", "-o", log, "-P", path, "-e", `trace=${syscall}`, process.execPath, BIN, ...args],
    {
      command: "strace",
    },
  );
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((l) => l.includes(`${syscall}(`)).length;
}
