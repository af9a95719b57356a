// The cost estimate: GPU hours (given, from the runs' launch records, or engines x wall time) at
// a price (given, or a named GPU's from the dated table), what that makes per million tokens, and
// what the same tokens would have cost at providers' batch and real-time prices. An estimate, and
// it says from what: none of it is a bill.
import { VbatchError } from "../errors.js";
import type { JournalCounts, RunRecord, TimelineSample } from "../journal/journal.js";
import { DEFAULT_PRICES, type ModelPrice, type PriceTable } from "./price-table.js";

export interface CostOptions {
  /** GPU hours the job used (`--gpu-hours`), instead of working them out. */
  gpuHours?: number | undefined;
  /** USD per GPU hour (`--gpu-price`). */
  gpuPrice?: number | undefined;
  /** A GPU named in the price table (`--gpu`). */
  gpu?: string | undefined;
  /** Provider models to set beside it (`--compare`). */
  compare?: string[] | undefined;
  prices?: PriceTable | undefined;
}

export interface ProviderComparison {
  provider: string;
  model: string;
  /** USD for the job's tokens at the batch and real-time prices. */
  batch: number;
  realtime: number;
  prices: ModelPrice;
}

export interface CostEstimate {
  gpuHours: number;
  /** How the GPU hours were found, in words. */
  gpuHoursFrom: string;
  /** USD per GPU hour, or null when no price was given. */
  gpuPrice: number | null;
  gpuPriceFrom: string | null;
  /** USD, or null without a price. */
  total: number | null;
  /** USD per million tokens of each kind, the whole cost set against that kind alone. */
  perMillionInput: number | null;
  perMillionOutput: number | null;
  /** USD per million tokens, input and output together. */
  perMillionTokens: number | null;
  inputTokens: number;
  outputTokens: number;
  compare: ProviderComparison[];
  /** The plain sentence the page and status print. */
  note: string;
}

/** Hours of each run, from its start to its last sample. */
function runHours(r: RunRecord): number {
  return Math.max(0, r.last - r.started) / 3_600_000;
}

function gpuHoursOf(
  runs: RunRecord[],
  samples: TimelineSample[],
  given: number | undefined,
): { hours: number; from: string } {
  if (given !== undefined) return { hours: given, from: "given (--gpu-hours)" };
  if (runs.length === 0) {
    return { hours: 0, from: "nothing: this journal records no runs (pass --gpu-hours)" };
  }
  if (runs.length > 0 && runs.every((r) => r.gpus !== null)) {
    const hours = runs.reduce((n, r) => n + runHours(r) * (r.gpus ?? 0), 0);
    return { hours, from: "the GPUs the job launched x each run's wall time (launch records)" };
  }
  const engines = new Map<string, Set<string>>();
  for (const s of samples) {
    const set = engines.get(s.run.id) ?? new Set<string>();
    engines.set(s.run.id, set);
    for (const e of s.engines) set.add(e.url);
  }
  const hours = runs.reduce((n, r) => n + runHours(r) * Math.max(1, engines.get(r.id)?.size ?? 1), 0);
  return { hours, from: "engines x each run's wall time, one GPU an engine (pass --gpu-hours if not)" };
}

export function estimateCost(
  counts: JournalCounts,
  runs: RunRecord[],
  samples: TimelineSample[],
  o: CostOptions = {},
): CostEstimate {
  const table = o.prices ?? DEFAULT_PRICES;
  const { hours, from } = gpuHoursOf(runs, samples, o.gpuHours);
  let price: number | null = null;
  let priceFrom: string | null = null;
  if (o.gpuPrice !== undefined && o.gpu !== undefined) {
    throw new VbatchError("usage", "pass --gpu-price or --gpu, not both");
  }
  if (o.gpuPrice !== undefined) {
    price = o.gpuPrice;
    priceFrom = "given (--gpu-price)";
  } else if (o.gpu !== undefined) {
    const g = table.gpus.find((x) => x.name.toLowerCase() === (o.gpu as string).toLowerCase());
    if (!g) {
      throw new VbatchError(
        "usage",
        `--gpu ${o.gpu}: not in the price table (known: ${table.gpus.map((x) => x.name).join(", ")}); pass --gpu-price instead`,
      );
    }
    price = g.perHour;
    priceFrom = `${g.name} at $${g.perHour}/h: ${g.source}, as of ${g.asOf}`;
  }
  const input = counts.promptTokens;
  const output = counts.completionTokens;
  const total = price === null ? null : hours * price;
  const per = (tokens: number) => (total === null || tokens === 0 ? null : (total / tokens) * 1e6);
  const compare = (o.compare ?? []).map((name) => {
    const m = table.models.find((x) => x.model === name);
    if (!m) {
      throw new VbatchError(
        "usage",
        `--compare ${name}: no price for it (known: ${table.models.map((x) => x.model).join(", ")}); add it with --prices file.json`,
      );
    }
    const at = (p: { input: number; output: number }) => (input / 1e6) * p.input + (output / 1e6) * p.output;
    return { provider: m.provider, model: m.model, batch: at(m.batch), realtime: at(m.realtime), prices: m };
  });
  const priced = price === null ? "no GPU price given (--gpu-price or --gpu)" : `at ${priceFrom}`;
  return {
    gpuHours: hours,
    gpuHoursFrom: from,
    gpuPrice: price,
    gpuPriceFrom: priceFrom,
    total,
    perMillionInput: per(input),
    perMillionOutput: per(output),
    perMillionTokens: per(input + output),
    inputTokens: input,
    outputTokens: output,
    compare,
    note: `An estimate, not a bill: ${hoursText(hours)} GPU hours from ${from}, ${priced}; tokens as the engines reported them; provider prices from a dated table.`,
  };
}

/** GPU hours for people: three decimals, or two significant digits below 0.01. */
export function hoursText(hours: number): string {
  return hours > 0 && hours < 0.01 ? hours.toPrecision(2) : hours.toFixed(3);
}
