// One batch request line from a rendered prompt: chat (system + user message), completions
// (prompt) or embeddings (input), in the OpenAI batch shape `vbatch run` reads.
import type { BatchUrl } from "../../input/row.js";

export const ENDPOINT_KINDS = ["chat", "completions", "embeddings"] as const;
export type EndpointKind = (typeof ENDPOINT_KINDS)[number];

export const KIND_URL: Record<EndpointKind, BatchUrl> = {
  chat: "/v1/chat/completions",
  completions: "/v1/completions",
  embeddings: "/v1/embeddings",
};

export interface RequestParams {
  kind: EndpointKind;
  model: string;
  maxTokens?: number | undefined;
  temperature?: number | undefined;
}

export function requestLine(customId: string, p: RequestParams, text: string, system?: string): string {
  const body: Record<string, unknown> = { model: p.model };
  if (p.kind === "chat") {
    body.messages = [
      ...(system === undefined ? [] : [{ role: "system", content: system }]),
      { role: "user", content: text },
    ];
  } else if (p.kind === "completions") body.prompt = text;
  else body.input = text;
  if (p.maxTokens !== undefined) body.max_tokens = p.maxTokens;
  if (p.temperature !== undefined) body.temperature = p.temperature;
  return `${JSON.stringify({ custom_id: customId, method: "POST", url: KIND_URL[p.kind], body })}\n`;
}
