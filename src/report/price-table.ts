// Dated price tables behind the report's cost estimate: what a GPU hour costs, and what a provider
// charges per million tokens in its batch and real-time tiers. A SNAPSHOT: prices move; each row
// names where it was read and when. `--prices file.json` replaces or adds rows (price-file.ts).

export interface GpuPrice {
  /** The name `--gpu` takes (case-insensitive). */
  name: string;
  /** USD per GPU hour. */
  perHour: number;
  source: string;
  asOf: string;
}

export interface TokenPrices {
  /** USD per million input (prompt) tokens. */
  input: number;
  /** USD per million output (completion) tokens. */
  output: number;
}

export interface ModelPrice {
  provider: string;
  /** The name `--compare` takes. */
  model: string;
  batch: TokenPrices;
  realtime: TokenPrices;
  source: string;
  asOf: string;
}

export interface PriceTable {
  gpus: GpuPrice[];
  models: ModelPrice[];
}

// Modal's per-second on-demand GPU prices (modal.com/pricing) as hourly figures, as quoted by
// https://techbytes.app/posts/serverless-gpu-pricing-matrix-modal-replicate-lambda-2026/
// ("Prices verified on May 7, 2026 from official vendor pricing").
const MODAL = "Modal on-demand price (modal.com/pricing)";
const MODAL_AS_OF = "2026-05-07";

export const DEFAULT_PRICES: PriceTable = {
  gpus: [
    { name: "H100", perHour: 3.9492, source: MODAL, asOf: MODAL_AS_OF },
    { name: "A100-80GB", perHour: 2.4984, source: MODAL, asOf: MODAL_AS_OF },
    { name: "L40S", perHour: 1.9512, source: MODAL, asOf: MODAL_AS_OF },
    { name: "L4", perHour: 0.7992, source: MODAL, asOf: MODAL_AS_OF },
    { name: "T4", perHour: 0.5904, source: MODAL, asOf: MODAL_AS_OF },
  ],
  models: [
    {
      provider: "openai",
      model: "gpt-5-mini",
      // https://developers.openai.com/api/docs/models/gpt-5-mini: $0.25 input, $2.00 output per
      // 1M tokens; the Batch API is half of that (OpenAI's batch guide).
      realtime: { input: 0.25, output: 2.0 },
      batch: { input: 0.125, output: 1.0 },
      source: "developers.openai.com/api/docs/models/gpt-5-mini",
      asOf: "2026-12",
    },
    {
      provider: "anthropic",
      model: "claude-haiku-4-5",
      // https://platform.claude.com/docs/en/models/haiku-4-5/overview: $1 / MTok input, $5 / MTok
      // output; Message Batches are billed at 50% of the standard price.
      realtime: { input: 1.0, output: 5.0 },
      batch: { input: 0.5, output: 2.5 },
      source: "platform.claude.com/docs/en/models/haiku-4-5/overview",
      asOf: "2026-12",
    },
  ],
};
