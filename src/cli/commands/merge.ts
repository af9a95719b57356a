// `vbatch merge`: shard outputs into one output and one errors file, refusing (exit 2) when a
// custom_id is duplicated, or with --input missing or unknown.
import type { Command } from "commander";
import type { MergeOrder } from "../../tools/merge/index.js";
import { int } from "../format.js";
import { oneOf } from "../options.js";

interface MergeFlags {
  output: string;
  force?: boolean;
  input?: string;
  order: MergeOrder;
  errorsOut?: string;
  json?: boolean;
}

export function registerMergeCommand(program: Command): void {
  program
    .command("merge")
    .description(
      "combine shard outputs (and the errors files beside them), checking every custom_id appears once",
    )
    .argument("<outputs...>", "shard output files; <stem>.errors.jsonl beside each is read too")
    .requiredOption("-o, --output <file>", "merged output (successful rows)")
    .option("--input <file>", "the original input: every row must have exactly one result")
    .option(
      "--order <order>",
      "completion (concatenate) or input (the input's line order; needs --input)",
      oneOf("--order", ["input", "completion"] as const),
      "completion",
    )
    .option("--errors-out <file>", "merged failures (default: <output stem>.errors.jsonl beside -o)")
    .option("--force", "replace output files that already exist")
    .option("--json", "print the report as JSON on stdout")
    .action(async (outputs: string[], flags: MergeFlags) => {
      const { mergeOutputs } = await import("../../tools/merge/index.js");
      const r = await mergeOutputs({
        outputs,
        output: flags.output,
        force: flags.force,
        input: flags.input,
        order: flags.order,
        errorsOut: flags.errorsOut,
      });
      process.stderr.write(
        `vbatch: merged ${r.sources.length} files: ${int(r.succeeded)} ok to ${r.output}, ${int(r.failed)} failed to ${r.errors}${r.input ? `; all ${int(r.inputRows ?? 0)} input rows accounted for` : ""} (${r.order} order)\n`,
      );
      if (flags.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    });
}
