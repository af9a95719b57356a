// The simulator's /v1/responses (answered as a chat turn, in the Responses API's shape) and its
// score and rerank endpoints (pooling work: a prefill, no decode), with vLLM's field names:
// ScoreRequest {text_1, text_2} or {queries, documents}, RerankRequest {query, documents, top_n};
// ScoreResponse {data: [{index, object: "score", score}]}, RerankResponse {results: [{index,
// document: {text}, relevance_score}]} (vllm/entrypoints/pooling/score/protocol.py).
import { contentText } from "../input/content.js";
import { isPlainObject } from "../util/object.js";
import { type ErrorInfo, fieldMissing } from "./errors.js";
import type { SimConfig } from "./options.js";
import { type Generated, hash16 } from "./replies.js";
import type { Work } from "./requests.js";
import { textTokenCount } from "./tokens.js";

type Body = Record<string, unknown>;

/** A Responses API request as the chat request it is simulated by. */
export function responsesAsChat(body: Body): Body | ErrorInfo {
  const input = body.input;
  if (input === undefined) return fieldMissing("input");
  const messages: Body[] = [];
  if (typeof body.instructions === "string") messages.push({ role: "system", content: body.instructions });
  if (typeof input === "string") messages.push({ role: "user", content: input });
  else if (Array.isArray(input)) {
    for (const item of input) {
      if (isPlainObject(item))
        messages.push({ role: item.role ?? "user", content: contentText(item.content) });
    }
  }
  const chat: Body = { messages };
  if (body.model !== undefined) chat.model = body.model;
  if (typeof body.max_output_tokens === "number") chat.max_tokens = body.max_output_tokens;
  return chat;
}

/**
 * A Responses API answer with every field the openai SDK's `Response` type requires
 * (openai/resources/responses/responses.d.ts; `output_text` excepted: the SDK computes it from
 * `output` when it parses a response, in lib/ResponsesParser addOutputText).
 */
export function responsesBody(id: string, r: Generated, model: string, created: number): string {
  const incomplete = r.finishReason === "length";
  return JSON.stringify({
    id: `resp_${id}`,
    object: "response",
    created_at: created,
    model,
    status: incomplete ? "incomplete" : "completed",
    error: null,
    incomplete_details: incomplete ? { reason: "max_output_tokens" } : null,
    instructions: null,
    metadata: null,
    output: [
      {
        id: `msg_${id}`,
        type: "message",
        role: "assistant",
        status: incomplete ? "incomplete" : "completed",
        content: [{ type: "output_text", text: r.text, annotations: [] }],
      },
    ],
    parallel_tool_calls: true,
    temperature: null,
    tool_choice: "auto",
    tools: [],
    top_p: null,
    usage: {
      input_tokens: r.promptTokens,
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      output_tokens: r.completionTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: r.promptTokens + r.completionTokens,
    },
  });
}

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
