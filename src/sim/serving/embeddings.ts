// POST /v1/embeddings, vLLM's pooling/embed/serving.py: a prefill only, answered with one
// unit-length vector per input, seeded by the input so a test can tell whose vector it is.
import { simEmbedding } from "../replies.js";
import { embeddingWork } from "../requests.js";
import type { RequestKind } from "./kind.js";

export const embedding: RequestKind = {
  work: (cfg, body) => embeddingWork(cfg, body),
  reply: (cfg, id, work, created) =>
    embeddingBody(id, created, cfg.model, work.inputs ?? [], cfg.embeddingDim, work.promptTokens),
};

export function embeddingBody(
  id: string,
  created: number,
  model: string,
  inputs: readonly unknown[],
  dim: number,
  promptTokens: number,
): string {
  const data = new Array(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    data[i] = { index: i, object: "embedding", embedding: simEmbedding(inputs[i], dim) };
  }
  return JSON.stringify({
    id: `embd-${id}`,
    object: "list",
    created,
    model,
    data,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens, completion_tokens: 0 },
  });
}
