// Exact prompt token counts from the engine's /tokenize: chat rows are sent as {model, messages}
// (and their tools) so the model's chat template is counted, as vLLM will count it.
import type { BatchRow } from "../../input/row.js";
import type { EngineClient } from "../engine-client.js";
import type { Prompt } from "../prompt.js";
import type { CountResult, TokenCounter } from "./counter.js";

async function countPrompt(client: EngineClient, row: BatchRow, prompt: Prompt, model: string | undefined) {
  const base: Record<string, unknown> = model === undefined ? {} : { model };
  if (prompt.kind === "chat") {
    const body: Record<string, unknown> = { ...base, messages: prompt.messages };
    if (row.body.tools !== undefined) body.tools = row.body.tools;
    return client.tokenize(body);
  }
  let total = 0;
  for (const piece of prompt.pieces) {
    if (typeof piece !== "string") {
      total += piece.length;
      continue;
    }
    const r = await client.tokenize({ ...base, prompt: piece });
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
