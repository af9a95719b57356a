// `vbatch run`: the flags and the session around runBatch. All the work is runBatch's.
import type { Command } from "commander";
import { runJob } from "../../run/run-batch.js";
import { addJobFlags, type JobFlags } from "./job-flags.js";
import { runJobSession } from "./job-session.js";

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
  addJobFlags(cmd).action(async (input: string, flags: JobFlags) => {
    const summary = await runJobSession(input, flags, runJob);
    result.exitCode = summary.interrupted ? 130 : 0;
  });
}
