// `vbatch retry <output>`: send the rows of a finished job's errors file again (all, or those
// with --codes), with the same flags as `vbatch run`. The input comes from the job's journal.

import { existsSync } from "node:fs";
import type { Command } from "commander";
import { VbatchError } from "../../errors.js";
import { resolvePaths } from "../../job/paths.js";
import { retryFailed } from "../../job/retry/retry.js";
import { Journal } from "../../journal/journal.js";
import { addJobFlags, type JobFlags } from "../job/flags.js";
import { runJobSession } from "../job/session.js";
import { type CommandResult, exitCodeOf } from "./run.js";

interface RetryFlags extends JobFlags {
  input?: string;
  codes?: string;
}

/** The input a job ran on, as its journal recorded it (stdin jobs keep a spooled copy). */
function recordedInput(output: string, journalFlag: string | undefined): string {
  const paths = resolvePaths({ input: "-", output, journal: journalFlag });
  if (!existsSync(paths.journal)) {
    throw new VbatchError("usage", `no journal at ${paths.journal}: pass the -o of the run (or --journal)`);
  }
  const journal = new Journal(paths.journal, { readonly: true });
  try {
    const input = journal.getMeta("input_path");
    if (!input) throw new VbatchError("usage", `${paths.journal} records no input; pass --input`);
    return input === "-" ? paths.stdinSpool : input;
  } finally {
    journal.close();
  }
}

export function registerRetryCommand(program: Command, result: CommandResult): void {
  const cmd = program
    .command("retry")
    .description("send the rows in a job's errors file again; what succeeds moves to the output")
    .argument("<output>", "the output file of the job (as given to run -o)")
    .option("--input <file>", "the job's input (default: as recorded in its journal)")
    .option(
      "--codes <list>",
      "only lines with these codes: HTTP statuses (429,500) or a code the line shows (connection_error; Gemini 5 or NOT_FOUND)",
    );
  addJobFlags(cmd).action(async (output: string, flags: RetryFlags) => {
    const input = flags.input ?? recordedInput(output, flags.journal);
    const codes = flags.codes
      ?.split(",")
      .map((c) => c.trim())
      .filter(Boolean);
    const summary = await runJobSession(input, { ...flags, output }, (options, lock) =>
      retryFailed({ ...options, codes }, lock),
    );
    if (summary.reopened === 0 && codes && codes.length > 0) {
      const held = Object.entries(summary.codesInErrors)
        .map(([c, n]) => `${c} (${n})`)
        .join(", ");
      const what =
        summary.linesInErrors === 0
          ? ", which is empty"
          : held
            ? `; it holds ${held}`
            : `; its ${summary.linesInErrors} lines are invalid input lines, not failed rows`;
      process.stderr.write(
        `vbatch: warning: --codes ${codes.join(",")} matched no line of the errors file${what}\n`,
      );
    }
    process.stderr.write(
      `vbatch: ${summary.reopened} row${summary.reopened === 1 ? "" : "s"} taken from the errors file and sent again\n`,
    );
    result.exitCode = exitCodeOf(summary, flags.maxFailed);
  });
}
