// The cost flags `vbatch report` and `vbatch status` share: GPU hours and their price, a named GPU,
// the providers' models to compare with, and a price file of one's own.
import type { Command } from "commander";
import { VbatchError } from "../errors.js";
import type { CostOptions } from "../report/cost.js";
import { numberFlag } from "./options.js";

export interface CostFlags {
  gpuHours?: number;
  gpuPrice?: number;
  gpu?: string;
  compare?: string;
  prices?: string;
}

export function addCostFlags(cmd: Command): Command {
  return cmd
    .option(
      "--gpu-hours <n>",
      "GPU hours the job used (default: launch records, else engines x wall time)",
      numberFlag("--gpu-hours", 0),
    )
    .option("--gpu-price <usd>", "USD per GPU hour, for the cost estimate", numberFlag("--gpu-price", 0))
    .option(
      "--gpu <name>",
      "price the GPU hours at a GPU from the dated table (H100, A100-80GB, L40S, L4, T4)",
    )
    .option(
      "--compare <models>",
      "providers' models to price the same tokens at, comma-separated (e.g. gpt-5-mini,claude-haiku-4-5)",
    )
    .option(
      "--prices <file.json>",
      "your own GPU and model prices, over the dated table (see docs/report.md)",
    );
}

/** Names the cost flags that were given, for a command that uses them only with another flag. */
export function givenCostFlags(flags: CostFlags): string[] {
  const names: [keyof CostFlags, string][] = [
    ["gpuHours", "--gpu-hours"],
    ["gpuPrice", "--gpu-price"],
    ["gpu", "--gpu"],
    ["compare", "--compare"],
    ["prices", "--prices"],
  ];
  return names.filter(([k]) => flags[k] !== undefined).map(([, n]) => n);
}

/** The flags as options; the price file is read only when given. */
export async function costOptions(flags: CostFlags): Promise<CostOptions> {
  const { loadPriceFile } = await import("../report/price-file.js");
  return {
    gpuHours: flags.gpuHours,
    gpuPrice: flags.gpuPrice,
    gpu: flags.gpu,
    compare: compareList(flags.compare),
    prices: flags.prices ? loadPriceFile(flags.prices) : undefined,
  };
}

function compareList(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const names = text.split(",").map((s) => s.trim());
  if (names.some((n) => n === "")) {
    throw new VbatchError(
      "usage",
      `--compare ${JSON.stringify(text)}: an empty model name (names are comma-separated)`,
    );
  }
  return names;
}
