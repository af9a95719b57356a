// estimateJob(): how many tokens a batch input holds, how long it would take and cost on your own
// GPUs, and what the same tokens would cost at provider batch prices. Prompt tokens are exact
// with an engine's /tokenize, close with a tokenizer.json, rough by characters otherwise.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { VbatchError } from "../../errors.js";
import type { FormatName } from "../../formats/types.js";
import { notJsonlMessage } from "../../input/not-jsonl.js";
import { EngineClient, type ServedModel } from "../engine-client.js";
import { ModelTargets } from "../model-target.js";
import {
  BATCH_PRICES,
  PRICES_AS_OF,
  type ProviderCost,
  type ProviderPrice,
  providerCosts,
} from "../prices.js";
import { problemsError } from "../problems.js";
import { type CountMethod, charsCounter, type TokenCounter } from "../tokens/counter.js";
import { endpointCounter } from "../tokens/endpoint.js";
import { tokenizerCounter } from "../tokens/tokenizer-counter.js";
import { countInput } from "./count.js";
import { type ProbeResult, probeThroughput } from "./probe.js";

/** Output tokens assumed for a chat row without max_tokens / max_completion_tokens. */
export const DEFAULT_ASSUMED_OUTPUT_TOKENS = 512;

export interface EstimateOptions {
  input: string;
  /** Read every line as this format (openai, anthropic, gemini, bedrock). @default each line's own */
  format?: FormatName | undefined;
  /** Longest line accepted, in bytes. @default 64 MiB */
  maxLineBytes?: number | undefined;
  /** A live engine: exact prompt tokens from its /tokenize; needed for `probe`. */
  endpoint?: string | undefined;
  /** A HuggingFace tokenizer.json for approximate counts without an engine. */
  tokenizer?: string | undefined;
  /** Model for rows without body.model. @default the engine's only model */
  model?: string | undefined;
  apiKey?: string | undefined;
  /** /tokenize calls in flight. @default 16 */
  concurrency?: number | undefined;
  /** @default DEFAULT_ASSUMED_OUTPUT_TOKENS */
  assumeOutputTokens?: number | undefined;
  /** Price of whatever serves the endpoint, USD per hour. */
  gpuHourPrice?: number | undefined;
  /** Tokens (prompt + output) per second the deployment sustains. */
  throughput?: number | undefined;
  /** Measure throughput by running the first N rows against `endpoint`. */
  probe?: number | undefined;
  /** Where the probe's temporary files go. @default os.tmpdir() */
  scratchDir?: string | undefined;
  /** @default BATCH_PRICES */
  prices?: readonly ProviderPrice[] | undefined;
  /** What it is doing: counting the input's tokens, then running the probe (about every second). */
  onProgress?: ((p: EstimateProgress) => void) | undefined;
}

/** How far an estimate has got, for a progress line or log lines. */
export type EstimateProgress =
  | { phase: "counting"; rows: number /** what counts the tokens */; how: string }
  | { phase: "probing"; rows: number; done: number; elapsedSec: number; endpoint: string };

export interface EstimateReport {
  input: string;
  rows: number;
  byUrl: Record<string, number>;
  method: CountMethod;
  methodDescription: string;
  promptTokens: number;
  /** An upper bound: every row generating its max_tokens. */
  outputTokens: number;
  totalTokens: number;
  rowsWithoutMaxTokens: number;
  assumedOutputTokens: number;
  throughput: { tokensPerSec: number; source: "flag" | "probe"; probe: ProbeResult | null } | null;
  /** GPU time for totalTokens at the throughput; cost with a price. */
  gpu: { hours: number; pricePerHour: number | null; cost: number | null } | null;
  providers: ProviderCost[];
  pricesAsOf: string;
}

function checkOptions(o: EstimateOptions): void {
  if (o.throughput !== undefined && o.probe !== undefined) {
    throw new VbatchError("usage", "--throughput and --probe both give the throughput: pass one");
  }
  if (o.probe !== undefined && o.endpoint === undefined) {
    throw new VbatchError("usage", "--probe runs rows against an engine: pass --endpoint");
  }
  if (o.endpoint !== undefined && o.tokenizer !== undefined) {
    throw new VbatchError(
      "usage",
      "--endpoint counts tokens exactly; --tokenizer is for estimating without one: pass one",
    );
  }
  if (o.throughput !== undefined && !(o.throughput > 0))
    throw new VbatchError("usage", "--throughput must be > 0");
}

async function pickCounter(
  o: EstimateOptions,
): Promise<{ counter: TokenCounter; served: ServedModel[] | null; base?: string }> {
  if (o.endpoint !== undefined) {
    const client = new EngineClient(o.endpoint, { apiKey: o.apiKey });
    return { counter: endpointCounter(client), served: await client.models(), base: client.base };
  }
  if (o.tokenizer !== undefined) return { counter: tokenizerCounter(o.tokenizer), served: null };
  return { counter: charsCounter(), served: null };
}

export async function estimateJob(o: EstimateOptions): Promise<EstimateReport> {
  checkOptions(o);
  const { counter, served, base } = await pickCounter(o);
  const assumed = o.assumeOutputTokens ?? DEFAULT_ASSUMED_OUTPUT_TOKENS;
  const dir =
    o.probe !== undefined ? mkdtempSync(join(o.scratchDir ?? tmpdir(), "vbatch-probe-")) : undefined;
  const how = base !== undefined ? `${base}/tokenize` : (o.tokenizer ?? "about 4 characters a token");
  o.onProgress?.({ phase: "counting", rows: 0, how });
  try {
    const totals = await countInput({
      onRows: (rows) => o.onProgress?.({ phase: "counting", rows, how }),
      input: o.input,
      format: o.format,
      maxLineBytes: o.maxLineBytes,
      counter,
      targets: new ModelTargets(served, o.model, undefined, base),
      concurrency: o.concurrency ?? 16,
      assumeOutputTokens: assumed,
      probe: dir && o.probe !== undefined ? { rows: o.probe, file: join(dir, "probe.in.jsonl") } : undefined,
    });
    refuseProblems(o, totals);
    const throughput = await throughputOf(o, dir, base, totals.rows);
    const totalTokens = totals.promptTokens + totals.outputTokens;
    let gpu: EstimateReport["gpu"] = null;
    if (throughput && throughput.tokensPerSec > 0) {
      const hours = totalTokens / throughput.tokensPerSec / 3600;
      const price = o.gpuHourPrice ?? null;
      gpu = { hours, pricePerHour: price, cost: price === null ? null : hours * price };
    }
    return {
      input: o.input === "-" ? "stdin" : resolve(o.input),
      rows: totals.rows,
      byUrl: totals.byUrl,
      method: counter.method,
      methodDescription: counter.description,
      promptTokens: totals.promptTokens,
      outputTokens: totals.outputTokens,
      totalTokens,
      rowsWithoutMaxTokens: totals.rowsWithoutMaxTokens,
      assumedOutputTokens: assumed,
      throughput,
      gpu,
      providers: providerCosts(totals.promptTokens, totals.outputTokens, o.prices ?? BATCH_PRICES),
      pricesAsOf: PRICES_AS_OF,
    };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

type Totals = Awaited<ReturnType<typeof countInput>>;

/** An input that is not JSONL, has invalid lines or no rows is refused, as `vbatch run` would. */
function refuseProblems(o: EstimateOptions, totals: Totals): void {
  if (totals.notJsonl && totals.rows === 0) {
    throw new VbatchError(
      "invalid_input",
      notJsonlMessage(o.input === "-" ? "stdin" : o.input, totals.notJsonl),
    );
  }
  if (totals.problems.count > 0) {
    throw problemsError(o.input, totals.problems, "problem", "Run `vbatch validate` for the whole picture.");
  }
  if (totals.rows === 0)
    throw new VbatchError("invalid_input", `${o.input} has no request lines (empty file)`);
}

/** Tokens a second: as --throughput gives, or measured by a probe of the first rows; else null. */
async function throughputOf(
  o: EstimateOptions,
  dir: string | undefined,
  base: string | undefined,
  inputRows: number,
): Promise<EstimateReport["throughput"]> {
  let throughput: EstimateReport["throughput"] = null;
  if (o.throughput !== undefined) throughput = { tokensPerSec: o.throughput, source: "flag", probe: null };
  else if (dir && o.endpoint !== undefined) {
    const endpoint = base ?? o.endpoint;
    const rows = Math.min(o.probe ?? 0, inputRows);
    o.onProgress?.({ phase: "probing", rows, done: 0, elapsedSec: 0, endpoint });
    const probe = await probeThroughput({
      file: join(dir, "probe.in.jsonl"),
      dir,
      endpoint: o.endpoint,
      model: o.model,
      apiKey: o.apiKey,
      onProgress: (p) =>
        o.onProgress?.({
          phase: "probing",
          rows,
          done: p.succeeded + p.failed,
          elapsedSec: p.elapsedMs / 1000,
          endpoint,
        }),
    });
    throughput = { tokensPerSec: probe.tokensPerSec, source: "probe", probe };
  }
  return throughput;
}
