// How many prompt tokens a request holds, by one of three methods: the engine's own /tokenize
// (exact: its tokenizer and chat template), a tokenizer.json read locally (close), or a rule of
// thumb on characters (rough). Every report says which one produced its numbers.
import type { BatchRow } from "../../input/row.js";
import type { Prompt } from "../prompt.js";

export type CountMethod = "tokenize" | "tokenizer" | "chars";

export type CountResult = { ok: true; tokens: number } | { ok: false; message: string };

export interface TokenCounter {
  readonly method: CountMethod;
  /** One line for people: what the numbers mean. */
  readonly description: string;
  /** `model`: the model the row goes to (its body.model or the default). */
  count(row: BatchRow, prompt: Prompt, model: string | undefined): Promise<CountResult>;
}

/** Chat-template tokens the approximate methods add per message, and once per conversation. */
export const APPROX_TOKENS_PER_MESSAGE = 4;
export const APPROX_TOKENS_PER_CHAT = 3;

/** Sums an approximate per-text count over a prompt, adding template overhead for chat. */
export function approximate(prompt: Prompt, countText: (text: string) => number): number {
  let n = prompt.kind === "chat" ? APPROX_TOKENS_PER_CHAT : 0;
  for (const piece of prompt.pieces) {
    n += typeof piece === "string" ? countText(piece) : piece.length;
    if (prompt.kind === "chat") n += APPROX_TOKENS_PER_MESSAGE;
  }
  return n;
}

/** The rule of thumb: about four characters a token (English prose with BPE tokenizers). */
export const CHARS_PER_TOKEN = 4;

export function charsCounter(): TokenCounter {
  return {
    method: "chars",
    description: `estimated at ${CHARS_PER_TOKEN} characters a token, plus ${APPROX_TOKENS_PER_MESSAGE} a chat message; --endpoint gives exact counts`,
    count: async (_row, prompt) => ({
      ok: true,
      tokens: approximate(prompt, (t) => Math.ceil(t.length / CHARS_PER_TOKEN)),
    }),
  };
}
