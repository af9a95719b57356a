// Exact prompt token counts from the engine's /tokenize: chat rows are sent as {model, messages}
// with every field that changes what the chat template renders, so the count is the one vLLM
// will make of the real request.
import type { BatchRow } from "../../input/row.js";
import type { EngineClient } from "../engine-client.js";
import type { Prompt } from "../prompt.js";
import type { CountResult, TokenCounter } from "./counter.js";

/**
 * Fields of a chat request that change its rendered prompt, all of which vLLM's /tokenize takes
 * (TokenizeChatRequest, vllm/entrypoints/serve/tokenize/protocol.py).
 */
const CHAT_TEMPLATE_FIELDS = [
  "tools",
  "add_generation_prompt",
  "continue_final_message",
  "add_special_tokens",
  "chat_template",
  "chat_template_kwargs",
  "mm_processor_kwargs",
  "media_io_kwargs",
] as const;

async function countPrompt(client: EngineClient, row: BatchRow, prompt: Prompt, model: string | undefined) {
  const base: Record<string, unknown> = model === undefined ? {} : { model };
  if (prompt.kind === "chat") {
    const body: Record<string, unknown> = { ...base, messages: prompt.messages };
    for (const f of CHAT_TEMPLATE_FIELDS) if (row.body[f] !== undefined) body[f] = row.body[f];
    return client.tokenize(body);
  }
  let total = 0;
  for (const piece of prompt.pieces) {
    if (typeof piece !== "string") {
      total += piece.length;
      continue;
    }
    // A completion's add_special_tokens (BOS) changes its count as well.
    const special = row.body.add_special_tokens;
    const r = await client.tokenize(
      special === undefined
        ? { ...base, prompt: piece }
        : { ...base, prompt: piece, add_special_tokens: special },
    );
    if (!r.ok) return r;
    total += r.count;
  }
  return { ok: true as const, count: total };
}

export function endpointCounter(client: EngineClient): TokenCounter {
  return {
    method: "tokenize",
    description: `exact: the engine's /tokenize at ${client.base}`,
    count: async (row, prompt, model): Promise<CountResult> => {
      const r = await countPrompt(client, row, prompt, model);
      if (r.ok) return { ok: true, tokens: r.count };
      return { ok: false, message: `/tokenize answered ${r.status}: ${r.message}` };
    },
  };
}
