// Runs the built CLI as a real child process.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

export const BIN = join(import.meta.dirname, "..", "..", "dist", "cli", "bin.js");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  /** What the child reads on stdin (bytes as they are, for binary input such as gzip). */
  input?: string | Buffer;
  /** Extra environment variables. */
  env?: NodeJS.ProcessEnv;
  /** Run this program with `args` instead of `node dist/cli/bin.js` (e.g. strace around it). */
  command?: string;
}

export function startCli(
  args: string[],
  options: CliOptions = {},
): {
  child: ChildProcess;
  done: Promise<CliResult>;
  /** stderr so far. */
  stderr: () => string;
  /** stdout so far. */
  stdout: () => string;
} {
  const child = spawn(options.command ?? process.execPath, options.command ? args : [BIN, ...args], {
    cwd: options.cwd,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", ...options.env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  if (options.input !== undefined) child.stdin?.end(options.input);
  else child.stdin?.end();
  const done = new Promise<CliResult>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done, stderr: () => stderr, stdout: () => stdout };
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).done;
}
