// POST /v1/score and /v1/rerank (also served at /score, /rerank and /v2/rerank), vLLM's
// pooling/score/serving.py: pooling work, a prefill and no decode, with vLLM's field names:
// ScoreRequest {text_1, text_2} or {queries, documents}, RerankRequest {query, documents, top_n};
// ScoreResponse {data: [{index, object: "score", score}]}, RerankResponse {results: [{index,
// document: {text}, relevance_score}]} (vllm/entrypoints/pooling/score/protocol.py).
import { type ErrorInfo, fieldMissing } from "../errors.js";
import type { SimConfig } from "../options.js";
import { hash16 } from "../replies.js";
import { checkModel, isErrorInfo, type Work } from "../requests.js";
import { textTokenCount } from "../tokens.js";
import type { Body, RequestKind } from "./kind.js";

function texts(v: unknown): string[] | null {
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  return null;
}

/** A stable score in (0, 1) for a pair of texts. */
export function simScore(a: string, b: string): number {
  return (Number.parseInt(hash16(`${a}\u0000${b}`).slice(0, 8), 16) % 9973) / 9973;
}

/** The pairs a score or rerank request compares, or the field that is missing. */
export function pairsOf(
  body: Body,
  rerank: boolean,
): { pairs: [string, string][]; tokens: number } | ErrorInfo {
  let left: string[] | null;
  let right: string[] | null;
  if (rerank) {
    left = typeof body.query === "string" ? [body.query] : null;
    right = texts(body.documents);
    if (!left) return fieldMissing("query");
    if (!right) return fieldMissing("documents");
  } else {
    left = texts(body.text_1 ?? body.queries);
    right = texts(body.text_2 ?? body.documents);
    if (!left) return fieldMissing(body.queries !== undefined ? "queries" : "text_1");
    if (!right) return fieldMissing(body.documents !== undefined ? "documents" : "text_2");
  }
  const pairs: [string, string][] =
    left.length === 1 ? right.map((r) => [left[0] as string, r]) : left.map((l, i) => [l, right[i] ?? ""]);
  const tokens = pairs.reduce((n, [a, b]) => n + textTokenCount(a) + textTokenCount(b), 0);
  return { pairs, tokens };
}

/** Pooling work: one prefill over every pair. `topN`: rerank's results to return (0: all). */
export function poolingWork(cfg: SimConfig, tokens: number, pairs: [string, string][], topN: number): Work {
  return {
    durationMs: cfg.prefillMs,
    kvTokens: tokens,
    inputs: null,
    pairs,
    topN,
    text: "",
    finishReason: "stop",
    choices: 0,
    promptTokens: tokens,
    completionTokens: 0,
  };
}

export function scoreBody(id: string, created: number, model: string, work: Work): string {
  const data = (work.pairs ?? []).map(([a, b], index) => ({ index, object: "score", score: simScore(a, b) }));
  return JSON.stringify({
    id: `score-${id}`,
    object: "list",
    created,
    model,
    data,
    usage: { prompt_tokens: work.promptTokens, total_tokens: work.promptTokens, completion_tokens: 0 },
  });
}

export function rerankBody(id: string, model: string, work: Work): string {
  const topN = work.topN ?? 0;
  const results = (work.pairs ?? [])
    .map(([a, b], index) => ({ index, document: { text: b }, relevance_score: simScore(a, b) }))
    .sort((x, y) => y.relevance_score - x.relevance_score);
  return JSON.stringify({
    id: `rerank-${id}`,
    model,
    usage: { prompt_tokens: work.promptTokens, total_tokens: work.promptTokens },
    results: topN > 0 ? results.slice(0, topN) : results,
  });
}

/** Score and rerank: pooling work over the pairs the body compares. */
function pairWork(cfg: SimConfig, body: Body, rerank: boolean): Work | ErrorInfo {
  const modelError = checkModel(cfg, body);
  if (modelError) return modelError;
  const p = pairsOf(body, rerank);
  if (isErrorInfo(p)) return p;
  return poolingWork(cfg, p.tokens, p.pairs, typeof body.top_n === "number" ? body.top_n : 0);
}

export const score: RequestKind = {
  work: (cfg, body) => pairWork(cfg, body, false),
  reply: (cfg, id, work, created) => scoreBody(id, created, cfg.model, work),
};

export const rerank: RequestKind = {
  work: (cfg, body) => pairWork(cfg, body, true),
  reply: (cfg, id, work) => rerankBody(id, cfg.model, work),
};
