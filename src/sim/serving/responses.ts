// POST /v1/responses, vLLM's responses/serving.py: simulated as the chat turn it amounts to,
// answered in the Responses API's shape.
import { contentText } from "../../input/content.js";
import { isPlainObject } from "../../util/object.js";
import { type ErrorInfo, fieldMissing } from "../errors.js";
import { outputTokensFor } from "../lengths.js";
import type { Generated } from "../replies.js";
import { chatWork, isErrorInfo } from "../requests.js";
import type { Body, RequestKind } from "./kind.js";

export const responses: RequestKind = {
  work: (cfg, body, raw) => {
    const chat = responsesAsChat(body);
    return isErrorInfo(chat) ? chat : chatWork(cfg, chat, outputTokensFor(cfg.output, raw));
  },
  reply: (cfg, id, work, created) => responsesBody(id, work, cfg.model, created),
};

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
