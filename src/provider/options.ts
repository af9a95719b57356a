// What `runBatch({provider})` takes to send a job to a provider's batch API instead of engines,
// documented where it is declared. The CLI maps --provider and its flags onto it.

export type ProviderName = "openai" | "anthropic";

export const PROVIDER_NAMES: readonly ProviderName[] = ["openai", "anthropic"];

export interface ProviderOptions {
  /** Which batch API: OpenAI's (/v1/files + /v1/batches, and every API that copies it) or Anthropic's. */
  name: ProviderName;
  /** The API's base URL. @default https://api.openai.com/v1, https://api.anthropic.com */
  url?: string | undefined;
  /** The API key. @default $OPENAI_API_KEY or $ANTHROPIC_API_KEY; never logged */
  apiKey?: string | undefined;
  /** Most rows in one batch. @default the provider's limit (OpenAI 50,000; Anthropic 100,000) */
  chunkRows?: number | undefined;
  /** Largest batch input, in bytes. @default 32 MiB (the provider's limit is 200 MB / 256 MB) */
  chunkBytes?: number | undefined;
  /** First wait between polls, in ms; it grows by half while nothing changes. @default 5000 */
  pollIntervalMs?: number | undefined;
  /** Longest wait between polls, in ms. @default 300000 */
  pollMaxMs?: number | undefined;
  /**
   * How long the provider keeps a batch's output file (OpenAI `output_expires_after`, 1 hour to
   * 30 days; Anthropic keeps results 29 days and takes no setting). @default 30 days
   */
  outputRetentionSec?: number | undefined;
  /** USD per million input / output tokens at the batch price. @default the table in src/tools/prices.ts */
  price?: { inputPerMillion: number; outputPerMillion: number } | undefined;
  /** When this aborts, the job's batches still running are cancelled at the provider (second Ctrl-C). */
  cancelSignal?: AbortSignal | undefined;
}

export const OPENAI_URL = "https://api.openai.com/v1";
export const ANTHROPIC_URL = "https://api.anthropic.com";
