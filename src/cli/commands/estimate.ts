// `vbatch estimate`: tokens, GPU time and cost of a batch input before running it, beside what
// the same tokens would cost at provider batch prices.
import type { Command } from "commander";
import { FORMAT_NAMES, type FormatName } from "../../formats/index.js";
import type { EstimateReport } from "../../tools/estimate/index.js";
import { compact, duration, int } from "../format.js";
import { endpointFlag, intFlag, numberFlag, oneOf } from "../options.js";

interface EstimateFlags {
  endpoint?: string;
  tokenizer?: string;
  model?: string;
  concurrency: number;
  assumeOutputTokens?: number;
  gpuHourPrice?: number;
  throughput?: number;
  probe?: number;
  json?: boolean;
  format?: FormatName;
}

function usd(n: number, maxDigits = 2): string {
  if (n > 0 && n < 0.0001) return "< $0.0001";
  const digits = n !== 0 && n < 0.01 ? 4 : maxDigits;
  return `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: digits })}`;
}

export function renderEstimate(r: EstimateReport): string {
  const urls = Object.entries(r.byUrl)
    .map(([u, n]) => `${u} ${int(n)}`)
    .join(", ");
  const lines = [
    `vbatch estimate: ${r.input}`,
    `  rows            ${int(r.rows)} (${urls})`,
    `  prompt tokens   ${int(r.promptTokens)} (${r.methodDescription})`,
    `  output tokens   at most ${int(r.outputTokens)} (max_tokens of each row${r.rowsWithoutMaxTokens > 0 ? `; ${int(r.rowsWithoutMaxTokens)} chat rows have none, ${int(r.assumedOutputTokens)} assumed for each` : ""})`,
  ];
  const t = r.throughput;
  if (t) {
    const how = t.probe
      ? `measured: ${int(t.probe.succeeded)} of ${int(t.probe.rows)} probe rows in ${(t.probe.wallMs / 1000).toFixed(1)} s`
      : "given with --throughput";
    lines.push(`  throughput      ${compact(t.tokensPerSec)} tokens/s (${how})`);
  }
  if (r.gpu) {
    const cost =
      r.gpu.cost === null
        ? " (pass --gpu-hour-price for a cost)"
        : ` x ${usd(r.gpu.pricePerHour ?? 0)}/h = ${usd(r.gpu.cost)}`;
    lines.push(
      `  GPU time        ${r.gpu.hours.toFixed(2)} h (${duration(r.gpu.hours * 3600)})${cost}; an upper bound: every row generating its max_tokens`,
    );
  } else {
    lines.push(
      "  GPU time        pass --throughput <tokens/s> or --probe <rows> (with --endpoint) to estimate",
    );
  }
  lines.push(
    `  provider batch prices for the same tokens (USD per 1M input / output; snapshot ${r.pricesAsOf}, may be stale):`,
  );
  for (const p of r.providers) {
    const name = `${p.provider} ${p.model}`.padEnd(28);
    const price = `${usd(p.inputPerMillion, 3)} / ${usd(p.outputPerMillion, 3)}`.padEnd(18);
    lines.push(`    ${name}${price}${usd(p.cost)}`);
  }
  return `${lines.join("\n")}\n`;
}

export function registerEstimateCommand(program: Command): void {
  program
    .command("estimate")
    .description("count a batch input's tokens and estimate GPU time and cost before running it")
    .argument("<input>", "input .jsonl or .jsonl.gz file, or - for stdin")
    .option("-e, --endpoint <url>", "a live engine: exact prompt tokens from its /tokenize", endpointFlag)
    .option("--tokenizer <file>", "a HuggingFace tokenizer.json for approximate counts without an engine")
    .option("-m, --model <id>", "model for rows without body.model (default: the engine's only model)")
    .option("-c, --concurrency <n>", "/tokenize requests in flight", intFlag("--concurrency"), 16)
    .option(
      "--assume-output-tokens <n>",
      "output tokens assumed for a chat row without max_tokens (default 512)",
      intFlag("--assume-output-tokens", 0),
    )
    .option(
      "--gpu-hour-price <usd>",
      "hourly price of what serves the endpoint",
      numberFlag("--gpu-hour-price", 0),
    )
    .option(
      "--throughput <tokens/s>",
      "prompt + output tokens per second the deployment sustains",
      numberFlag("--throughput", 0.001),
    )
    .option(
      "--probe <rows>",
      "measure throughput by running the first N rows against --endpoint",
      intFlag("--probe"),
    )
    .option(
      "--format <name>",
      "read the input as openai, anthropic, gemini or bedrock batch lines (default: each line as it is)",
      oneOf("--format", FORMAT_NAMES),
    )
    .option("--json", "print the report as JSON on stdout")
    .action(async (input: string, flags: EstimateFlags) => {
      const { estimateJob } = await import("../../tools/estimate/index.js");
      const r = await estimateJob({
        input,
        format: flags.format,
        endpoint: flags.endpoint,
        tokenizer: flags.tokenizer,
        model: flags.model,
        concurrency: flags.concurrency,
        assumeOutputTokens: flags.assumeOutputTokens,
        gpuHourPrice: flags.gpuHourPrice,
        throughput: flags.throughput,
        probe: flags.probe,
      });
      process.stdout.write(flags.json ? `${JSON.stringify(r)}\n` : renderEstimate(r));
    });
}
