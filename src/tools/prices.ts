// Provider batch prices, for `vbatch estimate` to show what the same tokens would cost elsewhere.
// A DATED SNAPSHOT: prices change and this table goes stale. Edit it freely (or pass your own
// table to estimateJob) and check the providers' pricing pages before deciding anything.

/** The month these prices describe. They were not re-checked against the live pricing pages. */
export const PRICES_AS_OF = "2025-10";

export interface ProviderPrice {
  provider: string;
  model: string;
  /** USD per million input (prompt) tokens, batch tier. */
  inputPerMillion: number;
  /** USD per million output (completion) tokens, batch tier. */
  outputPerMillion: number;
}

/** Batch-tier prices (50% of the standard price at both providers as of PRICES_AS_OF). */
export const BATCH_PRICES: readonly ProviderPrice[] = [
  { provider: "openai", model: "gpt-4o-mini", inputPerMillion: 0.075, outputPerMillion: 0.3 },
  { provider: "openai", model: "gpt-4.1-mini", inputPerMillion: 0.2, outputPerMillion: 0.8 },
  { provider: "openai", model: "gpt-4.1", inputPerMillion: 1.0, outputPerMillion: 4.0 },
  { provider: "openai", model: "gpt-5-mini", inputPerMillion: 0.125, outputPerMillion: 1.0 },
  { provider: "anthropic", model: "claude-haiku-4-5", inputPerMillion: 0.5, outputPerMillion: 2.5 },
  { provider: "anthropic", model: "claude-sonnet-4-5", inputPerMillion: 1.5, outputPerMillion: 7.5 },
];

export interface ProviderCost extends ProviderPrice {
  /** USD for the given tokens at this price. */
  cost: number;
}

export function providerCosts(
  inputTokens: number,
  outputTokens: number,
  prices: readonly ProviderPrice[] = BATCH_PRICES,
): ProviderCost[] {
  return prices.map((p) => ({
    ...p,
    cost: (inputTokens / 1e6) * p.inputPerMillion + (outputTokens / 1e6) * p.outputPerMillion,
  }));
}
