// `vbatch report`: one self-contained HTML page about a job (charts over its life, engines,
// latency, errors, resumes, the cost beside providers' prices), from its journal.
import type { Command } from "commander";
import { addCostFlags, type CostFlags, costOptions } from "../cost-flags.js";

interface ReportFlags extends CostFlags {
  out?: string;
  journal?: string;
  json?: boolean;
}

export function registerReportCommand(program: Command): void {
  const cmd = program
    .command("report")
    .description("write one self-contained HTML page about a job: charts, engines, errors, resumes, cost")
    .argument("[output]", "the job's output file (or its .vbatch.db); default: the only *.vbatch.db here")
    .option(
      "-o, --out <file.html>",
      "where to write the page (default: <output stem>.report.html beside the journal)",
    )
    .option("--journal <file>", "the job's journal, if not beside its output")
    .option("--json", "also print the figures and the cost as JSON on stdout");
  addCostFlags(cmd).action(async (output: string | undefined, flags: ReportFlags) => {
    const { buildReport } = await import("../../report/index.js");
    const r = buildReport({ output, journal: flags.journal, out: flags.out, ...(await costOptions(flags)) });
    process.stderr.write(`vbatch: report written to ${r.path} (${(r.bytes / 1024).toFixed(0)} KiB)\n`);
    if (flags.json)
      process.stdout.write(
        `${JSON.stringify({ path: r.path, bytes: r.bytes, figures: r.figures, cost: r.cost })}\n`,
      );
  });
}
