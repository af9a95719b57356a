// What a row's prompt shares with others, found once during validation: rows with the same prefix
// key start with the same text, so an engine that has prefilled one of them holds the KV blocks the
// others need (vLLM's automatic prefix caching, vllm/v1/core/kv_cache_utils.py: blocks of tokens
// hashed in chains, a request reusing its leading cached blocks). The send pass keeps such rows
// together in time and on one engine. Cheap by design: one hash of at most 8 KiB a row.
import { hash } from "node:crypto";
import { isPlainObject } from "../util/object.js";
import { contentText } from "./content.js";

/** Characters per block: a prefix is compared in whole blocks, as vLLM compares whole KV blocks. */
export const KEY_BLOCK_CHARS = 256;
/** The longest prefix looked at: enough to tell one document or few-shot prompt from another. */
export const KEY_MAX_CHARS = 8192;

/** The part of a lone prompt kept for its key: what follows (the question) usually differs. */
const LEAD_SHARE = 0.75;

function leading(text: string): string {
  return text.slice(0, Math.floor(text.length * LEAD_SHARE));
}

function role(m: unknown): string {
  return isPlainObject(m) && typeof m.role === "string" ? m.role : "";
}

function content(m: unknown): string {
  return isPlainObject(m) ? contentText(m.content) : "";
}

/**
 * The text the key is taken from: the system message and the leading turns (every message but the
 * last); when those are shorter than a block (a lone user message holding a document and its
 * question), the first three quarters of the conversation's text instead.
 */
function chatRegion(messages: unknown[], system: string): string {
  let lead = system;
  for (let i = 0; i < messages.length - 1 && lead.length < KEY_MAX_CHARS; i++) {
    lead += `${role(messages[i])}\u0000${content(messages[i])}\u0000`;
  }
  if (lead.length >= KEY_BLOCK_CHARS || messages.length === 0) return lead;
  const last = messages[messages.length - 1];
  return `${lead}${role(last)}\u0000${leading(content(last))}`;
}

function region(body: Record<string, unknown>): string {
  const messages = body.messages;
  if (Array.isArray(messages)) return chatRegion(messages, contentText(body.system));
  if (typeof body.prompt === "string") return leading(body.prompt);
  const instructions = typeof body.instructions === "string" ? body.instructions : "";
  if (typeof body.input === "string") return instructions + leading(body.input);
  if (Array.isArray(body.input)) return chatRegion(body.input, instructions);
  return "";
}

/**
 * A row's prefix key: 48 bits of the SHA-1 of its prompt's leading whole blocks (at most 8 KiB), or
 * 0 when the prompt has no whole block to share (a short prompt costs little to prefill again).
 * Embeddings, scores and reranks get 0: nothing is generated, nothing is worth keeping together.
 */
export function prefixKey(url: string, body: Record<string, unknown>): number {
  if (url !== "/v1/chat/completions" && url !== "/v1/completions" && url !== "/v1/responses") return 0;
  const text = region(body);
  const whole = Math.min(KEY_MAX_CHARS, text.length - (text.length % KEY_BLOCK_CHARS));
  if (whole === 0) return 0;
  const key = (hash("sha1", text.slice(0, whole), "buffer") as unknown as Buffer).readUIntBE(0, 6);
  return key === 0 ? 1 : key;
}

/** The tokens a row asks to generate at most (max_completion_tokens, else max_tokens), or null. */
export function maxTokensOf(body: Record<string, unknown>): number | null {
  const m = body.max_completion_tokens ?? body.max_tokens ?? body.max_output_tokens;
  return typeof m === "number" && Number.isInteger(m) && m > 0 ? m : null;
}
