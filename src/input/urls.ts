// The endpoints a batch line may name, as OpenAI's Batch API and vLLM's own run-batch accept them,
// and what each means for the runner (coalescing, dedupe, usage).

/** Every `url` a batch line may have; the row is POSTed to that path on the engine. */
export const SUPPORTED_URLS = [
  "/v1/chat/completions",
  "/v1/completions",
  "/v1/embeddings",
  "/v1/responses",
  "/v1/score",
  "/v1/rerank",
  // The spellings vLLM's run-batch also takes; vLLM's server answers on each of them.
  "/score",
  "/rerank",
  "/v2/rerank",
] as const;

export type BatchUrl = (typeof SUPPORTED_URLS)[number];

/** Endpoints whose answer is the same for the same request, whatever the sampling settings. */
const DETERMINISTIC: ReadonlySet<string> = new Set([
  "/v1/embeddings",
  "/v1/score",
  "/v1/rerank",
  "/score",
  "/rerank",
  "/v2/rerank",
]);

export function isDeterministicUrl(url: string): boolean {
  return DETERMINISTIC.has(url);
}
