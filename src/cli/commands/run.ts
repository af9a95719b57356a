// `vbatch run`: the flags and the session around runBatch. All the work is runBatch's.
import type { Command } from "commander";
import { runJob } from "../../job/run-batch.js";
import type { RunSummary } from "../../progress/progress.js";
import { addJobFlags, type JobFlags } from "../job/flags.js";
import { addOverflowFlags } from "../job/overflow-flags.js";
import { addProviderFlags } from "../job/provider-flags.js";
import { runJobSession } from "../job/session.js";
import { failedTooMany, type MaxFailed } from "../max-failed.js";

/** 130 when interrupted, 3 when more rows failed than --max-failed allows, else 0. */
export function exitCodeOf(summary: RunSummary, maxFailed: MaxFailed | undefined): number {
  if (summary.interrupted) return 130;
  const tooMany = failedTooMany(summary, maxFailed);
  if (tooMany === null) return 0;
  process.stderr.write(`vbatch: ${tooMany}\n`);
  return 3;
}

/** Set by the command so bin.ts can map the summary to an exit code. */
export interface CommandResult {
  exitCode: number;
}

export function registerRunCommand(program: Command, result: CommandResult): void {
  const cmd = program
    .command("run")
    .description("send every row of an OpenAI-batch JSONL file to vLLM engines; resumable")
    .argument("<input>", "input .jsonl or .jsonl.gz file, or - for stdin")
    .requiredOption("-o, --output <file>", "output JSONL for successful rows");
  addOverflowFlags(addProviderFlags(addJobFlags(cmd))).action(async (input: string, flags: JobFlags) => {
    const summary = await runJobSession(input, flags, runJob);
    result.exitCode = exitCodeOf(summary, flags.maxFailed);
  });
}
