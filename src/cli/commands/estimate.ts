// `vbatch estimate`: tokens, GPU time and cost of a batch input before running it, beside what
// the same tokens would cost at provider batch prices.
import type { Command } from "commander";
import { VbatchError } from "../../errors.js";
import { FORMAT_NAMES, type FormatName } from "../../formats/index.js";
import { type BatchPrice, costOf, priceFor } from "../../provider/report.js";
import type { EstimateProgress, EstimateReport } from "../../tools/estimate/index.js";
import { BATCH_PRICES } from "../../tools/prices.js";
import { compact, duration, int, usd } from "../format.js";
import { priceFlag } from "../job/provider-flags.js";
import {
  endpointFlag,
  intFlag,
  MAX_LINE_FLAG,
  maxLineBytesOf,
  maxLineMbFlag,
  numberFlag,
  oneOf,
} from "../options.js";
import { ProgressLine } from "../progress-line.js";

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
  maxLineMb?: number;
  provider?: "openai" | "anthropic";
  price?: BatchPrice;
}

/**
 * `--provider`: the tokens at that provider's batch price, as the run's summary will price the
 * provider's own counts (--price, or the dated table's row for --model).
 */
function atBatchPrice(r: EstimateReport, flags: EstimateFlags) {
  if (!flags.provider) return undefined;
  const price = priceFor({ name: flags.provider, model: flags.model ?? null, price: flags.price ?? null });
  if (!price) {
    throw new VbatchError(
      "usage",
      `--provider ${flags.provider}: no batch price for ${flags.model ? `model ${flags.model}` : "the rows"}: pass --price <in/out> (USD per 1M tokens), or --model <id> of the table (${BATCH_PRICES.filter(
        (p) => p.provider === flags.provider,
      )
        .map((p) => p.model)
        .join(", ")})`,
    );
  }
  return {
    name: flags.provider,
    model: flags.model ?? null,
    price,
    promptTokens: r.promptTokens,
    outputTokens: r.outputTokens,
    cost: costOf(price, r.promptTokens, r.outputTokens),
  };
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

/** The progress line's text: counting the input, then the probe's rows. */
export function renderEstimateProgress(p: EstimateProgress): string {
  if (p.phase === "counting") return `counting prompt tokens: ${int(p.rows)} rows`;
  return `probing throughput: ${int(p.done)}/${int(p.rows)} rows, ${duration(p.elapsedSec)}`;
}

/** Seconds between log lines while nothing else is said (no terminal, or --json). */
const LOG_EVERY_SEC = 5;

/**
 * How an estimate says what it is doing on stderr: a line redrawn in place on a terminal; else
 * (or with --json) a line when each phase starts and every few seconds, so a long /tokenize pass
 * or probe is never a silent wait.
 */
function estimateReporter(input: string, tty: boolean) {
  if (tty) {
    const line = new ProgressLine(process.stderr);
    let last = 0;
    return {
      progress(p: EstimateProgress) {
        const now = Date.now();
        if (now - last < 100 && !(p.phase === "probing" && p.done === 0)) return;
        last = now;
        line.show(renderEstimateProgress(p));
      },
      done: () => line.clear(),
    };
  }
  let phase = "";
  let lastLog = Date.now();
  const say = (text: string) => process.stderr.write(`vbatch: estimate: ${text}\n`);
  return {
    progress(p: EstimateProgress) {
      if (p.phase !== phase) {
        phase = p.phase;
        lastLog = Date.now();
        if (p.phase === "counting") say(`counting prompt tokens in ${input} (${p.how})`);
        else say(`probing throughput with the first ${int(p.rows)} rows on ${p.endpoint}`);
      } else if (Date.now() - lastLog >= LOG_EVERY_SEC * 1000) {
        lastLog = Date.now();
        say(renderEstimateProgress(p));
      }
    },
    done: () => {},
  };
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
    .option(...MAX_LINE_FLAG, maxLineMbFlag)
    .option(
      "--provider <name>",
      "the cost at this provider's batch price (openai, anthropic): --price, or the table's row for --model",
      oneOf("--provider", ["openai", "anthropic"] as const),
    )
    .option(
      "--price <in/out>",
      "USD per 1M input / output tokens at the batch price, e.g. 0.075/0.3",
      priceFlag,
    )
    .option("--json", "print the report as JSON on stdout")
    .action(async (input: string, flags: EstimateFlags) => {
      const { estimateJob } = await import("../../tools/estimate/index.js");
      const tty = Boolean(process.stderr.isTTY) && !flags.json;
      const reporter = estimateReporter(input, tty);
      const r = await estimateJob({
        onProgress: (p) => reporter.progress(p),
        input,
        format: flags.format,
        maxLineBytes: maxLineBytesOf(flags.maxLineMb),
        endpoint: flags.endpoint,
        tokenizer: flags.tokenizer,
        model: flags.model,
        concurrency: flags.concurrency,
        assumeOutputTokens: flags.assumeOutputTokens,
        gpuHourPrice: flags.gpuHourPrice,
        throughput: flags.throughput,
        probe: flags.probe,
      }).finally(() => reporter.done());
      const probe = r.throughput?.probe;
      if (probe && !tty) {
        process.stderr.write(
          `vbatch: estimate: probe done: ${int(probe.rows)} rows in ${(probe.wallMs / 1000).toFixed(1)} s\n`,
        );
      }
      const provider = atBatchPrice(r, flags);
      let text = renderEstimate(r);
      if (provider) {
        const p = provider.price;
        text += `  --provider ${provider.name}${provider.model ? ` ${provider.model}` : ""}: ${usd(provider.cost)} at ${usd(p.inputPerMillion, 3)} / ${usd(p.outputPerMillion, 3)} per 1M in/out (${p.source}); an upper bound: every row generating its max_tokens\n`;
      }
      process.stdout.write(flags.json ? `${JSON.stringify({ ...r, provider })}\n` : text);
    });
}
