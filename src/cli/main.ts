// The command tree. Commands return data or throw VbatchError; only bin.ts turns that into an
// exit code.
import { Command, CommanderError } from "commander";
import { VbatchError } from "../errors.js";
import { registerBuildCommand } from "./commands/build.js";
import { registerEngineCommands } from "./commands/engines.js";
import { registerEstimateCommand } from "./commands/estimate.js";
import { registerMergeCommand } from "./commands/merge.js";
import { registerReportCommand } from "./commands/report.js";
import { registerRetryCommand } from "./commands/retry.js";
import { type CommandResult, registerRunCommand } from "./commands/run.js";
import { registerServeCommand } from "./commands/serve.js";
import { registerSimCommand } from "./commands/sim.js";
import { registerStatusCommand } from "./commands/status.js";
import { registerValidateCommand } from "./commands/validate.js";
import { printable } from "./printable.js";
import { VERSION } from "./version.js";

/**
 * The whole command tree, built but not parsed: main() runs it, and the docs test walks it so
 * docs/cli.md cannot drift from --help. `result` is where run and retry leave their exit code.
 */
export function buildProgram(result: CommandResult): Command {
  const program = new Command("vbatch")
    .description("Self-hosted batch inference over vLLM: OpenAI-batch JSONL in, every answer out, resumable.")
    .version(VERSION)
    .exitOverride()
    .configureOutput({ outputError: oneLineError("vbatch") });
  registerRunCommand(program, result);
  registerRetryCommand(program, result);
  registerSimCommand(program);
  registerServeCommand(program);
  registerBuildCommand(program);
  registerValidateCommand(program);
  registerEstimateCommand(program);
  registerStatusCommand(program);
  registerReportCommand(program);
  registerMergeCommand(program);
  registerEngineCommands(program);
  for (const cmd of program.commands) {
    cmd.exitOverride().configureOutput({ outputError: oneLineError(`vbatch ${cmd.name()}`) });
  }
  return program;
}

/**
 * commander's own errors (an unknown option, a missing argument) as every other error is said:
 * one `vbatch: error:` line, with its "did you mean" and where the usage is. commander writes
 * them through `outputError` (commander 14, lib/command.js `error()`); help is not an error.
 */
function oneLineError(command: string): (text: string, write: (s: string) => void) => void {
  return (text, write) => {
    const parts = text
      .trim()
      .replace(/^error: /, "")
      .split("\n")
      .map((l) => l.trim().replace(/^\(Did you mean (.*)\)$/, "(did you mean $1)"))
      .filter(Boolean);
    write(`vbatch: error: ${printable(parts.join(" "))}; see ${command} --help\n`);
  };
}

export async function main(argv: string[]): Promise<number> {
  const result: CommandResult = { exitCode: 0 };
  const program = buildProgram(result);
  try {
    await program.parseAsync(argv);
    return result.exitCode;
  } catch (err) {
    return reportError(err);
  }
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander already printed its message (or the help/version text).
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof VbatchError) {
    process.stderr.write(`vbatch: error: ${printable(err.message)}\n`);
    for (const d of err.details) process.stderr.write(`  ${printable(d)}\n`);
    return err.exitCode;
  }
  if (isSystemError(err)) {
    // The machine said no (a full disk, a broken pipe, a corrupt gzip stream): one line, not a trace.
    process.stderr.write(`vbatch: error: ${printable(err.message)}\n`);
    return 1;
  }
  process.stderr.write(`vbatch: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  return 1;
}

/** An error from the OS or zlib (ENOSPC, EIO, EACCES, Z_DATA_ERROR...), not a bug of ours. */
function isSystemError(err: unknown): err is Error & { code: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    err instanceof Error && typeof code === "string" && /^(E[A-Z0-9]+|Z_[A-Z_]+|ERR_FS_[A-Z_]+)$/.test(code)
  );
}
