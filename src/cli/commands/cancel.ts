// `vbatch cancel`: cancels a provider job's running batches from another shell (see
// src/provider/cancel.ts); exit 1 when the provider refused one.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { VbatchError } from "../../errors.js";
import type { CommandResult } from "./run.js";

interface CancelFlags {
  journal?: string;
  providerKeyFile?: string;
  json?: boolean;
}

export function registerCancelCommand(program: Command, result: CommandResult): void {
  program
    .command("cancel")
    .description(
      "cancel a --provider job's running batches at the provider (a second Ctrl-C, from another shell)",
    )
    .argument("[output]", "the job's output file (or its .vbatch.db); default: the only *.vbatch.db here")
    .option("--journal <file>", "the job's journal, if not beside its output")
    .option(
      "--provider-key-file <file>",
      "the provider's API key (default: $OPENAI_API_KEY / $ANTHROPIC_API_KEY)",
    )
    .option("--json", "print the report as JSON on stdout")
    .action(async (output: string | undefined, flags: CancelFlags) => {
      let apiKey: string | undefined;
      if (flags.providerKeyFile !== undefined) {
        try {
          apiKey = readFileSync(flags.providerKeyFile, "utf8").trim();
        } catch (err) {
          throw new VbatchError(
            "usage",
            `--provider-key-file ${flags.providerKeyFile}: ${(err as Error).message}`,
          );
        }
      }
      const { cancelJob } = await import("../../provider/cancel.js");
      const r = await cancelJob({ output, journal: flags.journal, apiKey });
      if (flags.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else {
        const lines = [`vbatch cancel: ${r.journal} (${r.provider})`];
        if (r.signalled !== null)
          lines.push(`  told the running job (pid ${r.signalled}) to stop submitting`);
        lines.push(
          `  cancelled ${r.cancelled.length} batch${r.cancelled.length === 1 ? "" : "es"}${r.cancelled.length ? `: ${r.cancelled.join(", ")}` : ""}`,
        );
        for (const f of r.failed) lines.push(`  could not cancel ${f.batch}: ${f.error}`);
        process.stderr.write(`${lines.join("\n")}\n`);
      }
      result.exitCode = r.failed.length > 0 ? 1 : 0;
    });
}
