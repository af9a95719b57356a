// `vbatch status`: where a job stands, read from its journal without disturbing it.
import type { Command } from "commander";
import { VbatchError } from "../../errors.js";
import type { StatusReport } from "../../tools/status/index.js";
import { addCostFlags, type CostFlags, costOptions, givenCostFlags } from "../cost-flags.js";
import { compact, duration, int } from "../format.js";
import { numberFlag } from "../options.js";

interface StatusFlags extends CostFlags {
  journal?: string;
  sample: number;
  json?: boolean;
}

export function renderStatus(r: StatusReport): string {
  const done = r.succeeded + r.failed;
  const since = r.lastUpdate
    ? `, last update ${duration((Date.now() - Date.parse(r.lastUpdate)) / 1000)} ago`
    : "";
  const lines = [
    `vbatch status: ${r.journal}`,
    `  state      ${r.state}${r.validated ? "" : " (still validating the input)"}${since}`,
    `  rows       ${int(done)}/${int(r.total)} done (${r.percent.toFixed(1)}%): ${int(r.succeeded)} ok, ${int(r.failed)} failed, ${int(r.pending)} pending${r.invalid ? `, ${int(r.invalid)} invalid` : ""}`,
    `  tokens     ${int(r.promptTokens)} prompt, ${int(r.completionTokens)} completion`,
  ];
  if (r.rate) {
    lines.push(
      `  rate       ${compact(r.rate.rowsPerSec)} rows/s, ${compact(r.rate.tokensPerSec)} tok/s (${r.rate.meaning})`,
    );
  }
  if (r.runningBy) lines.push(`  run by     ${r.runningBy}`);
  if (r.etaSec !== null) lines.push(`  ETA        ${duration(r.etaSec)}`);
  if (r.createdAt) lines.push(`  started    ${r.createdAt}`);
  if (r.input) lines.push(`  input      ${r.input}`);
  if (r.output) lines.push(`  output     ${r.output}`);
  if (r.errors) lines.push(`  errors     ${r.errors}`);
  if (r.state === "stopped") lines.push("  re-run the same `vbatch run` command to resume");
  return `${lines.join("\n")}\n`;
}

export function registerStatusCommand(program: Command): void {
  const cmd = program
    .command("status")
    .description("rows done, failed and pending, rate and ETA of a running or stopped job")
    .argument("[output]", "the job's output file (or its .vbatch.db); default: the only *.vbatch.db here")
    .option("--journal <file>", "the job's journal, if not beside its output")
    .option(
      "--sample <sec>",
      "for a running job, watch this long to measure the current rate (0: average only)",
      numberFlag("--sample", 0),
      2,
    )
    .option("--json", "print the report as JSON on stdout, with the report's figures and cost estimate");
  addCostFlags(cmd).action(async (output: string | undefined, flags: StatusFlags) => {
    const cost = givenCostFlags(flags);
    if (!flags.json && cost.length > 0) {
      throw new VbatchError("usage", `${cost.join(", ")}: the cost estimate is part of --json; add --json`);
    }
    const { jobStatus } = await import("../../tools/status/index.js");
    const r = await jobStatus({ output, journal: flags.journal, sampleMs: flags.sample * 1000 });
    if (!flags.json) {
      process.stdout.write(renderStatus(r));
      return;
    }
    const { statusFigures } = await import("../../report/index.js");
    const extra = statusFigures({ output, journal: flags.journal }, await costOptions(flags));
    process.stdout.write(`${JSON.stringify({ ...r, ...extra })}\n`);
  });
}
