// What a request line asks of the engine, read the way vLLM reads it: the prompt (chat messages,
// completion prompts or embedding inputs), its size in characters, and the most tokens it may
// generate. validate and estimate both size requests from this.

import { contentText } from "../input/content.js";
import { type BatchRow, isPlainObject } from "../input/row.js";

/** One prompt: text, or token ids given directly. */
export type PromptPiece = string | number[];

export interface Prompt {
  kind: "chat" | "completion" | "embedding";
  /** Chat messages as sent (chat only). */
  messages: unknown[];
  /** The text of each message (chat), or each prompt / input. */
  pieces: PromptPiece[];
  /** Characters of text across all pieces (token-id pieces count as 0). */
  chars: number;
}

/** vLLM's CompletionRequest.max_tokens default. */
export const COMPLETION_DEFAULT_MAX_TOKENS = 16;

function splitPieces(value: unknown): PromptPiece[] {
  if (typeof value === "string") return [value];
  if (!Array.isArray(value) || value.length === 0) return [];
  if (typeof value[0] === "number") return [value.filter((v): v is number => typeof v === "number")];
  const out: PromptPiece[] = [];
  for (const item of value) {
    if (typeof item === "string") out.push(item);
    else if (Array.isArray(item)) out.push(item.filter((v): v is number => typeof v === "number"));
  }
  return out;
}

export function promptOf(row: BatchRow): Prompt {
  const body = row.body;
  let kind: Prompt["kind"];
  let messages: unknown[] = [];
  let pieces: PromptPiece[];
  if (row.url === "/v1/chat/completions") {
    kind = "chat";
    messages = Array.isArray(body.messages) ? body.messages : [];
    pieces = messages.map((m) => (isPlainObject(m) ? contentText(m.content) : ""));
  } else if (row.url === "/v1/completions") {
    kind = "completion";
    pieces = splitPieces(body.prompt);
  } else {
    kind = "embedding";
    pieces = splitPieces(body.input);
  }
  let chars = 0;
  for (const p of pieces) if (typeof p === "string") chars += p.length;
  return { kind, messages, pieces, chars };
}

function positiveInt(v: unknown): number | null {
  return typeof v === "number" && Number.isInteger(v) && v > 0 ? v : null;
}

/** The generation cap a row sets (max_completion_tokens, else max_tokens), or null for none. */
export function requestedMaxTokens(row: BatchRow): number | null {
  if (row.url === "/v1/embeddings") return 0;
  return positiveInt(row.body.max_completion_tokens) ?? positiveInt(row.body.max_tokens);
}

/** Sequences generated per prompt (`n`). */
export function choices(row: BatchRow): number {
  return positiveInt(row.body.n) ?? 1;
}
