// POST /v1/chat/completions, vLLM's chat_completion/serving.py: the engine runs it as a
// generation; its answer is a ChatCompletionResponse, with logprobs when the request asked.
import { outputTokensFor } from "../lengths.js";
import { simLogprobs } from "../logprobs.js";
import { type Generated, usage } from "../replies.js";
import { chatWork } from "../requests.js";
import type { RequestKind } from "./kind.js";

export const chat: RequestKind = {
  work: (cfg, body, raw) => chatWork(cfg, body, outputTokensFor(cfg.output, raw)),
  reply: (cfg, id, work, created) => chatCompletionBody(id, work, cfg.model, created),
};

/** `id` is the request id; vLLM names the reply chatcmpl-<id>. */
export function chatCompletionBody(id: string, r: Generated, model: string, created: number): string {
  const choices = new Array(r.choices);
  for (let i = 0; i < r.choices; i++) {
    choices[i] = {
      index: i,
      // vLLM's ChatMessage names the reasoning `reasoning` (older releases: reasoning_content).
      message: {
        role: "assistant",
        content: r.text,
        refusal: null,
        annotations: null,
        audio: null,
        function_call: null,
        tool_calls: [],
        reasoning: r.reasoning ?? null,
      },
      logprobs:
        r.topLogprobs === null || r.topLogprobs === undefined ? null : simLogprobs(r.text, r.topLogprobs),
      finish_reason: r.finishReason,
      stop_reason: null,
    };
  }
  return JSON.stringify({
    id: `chatcmpl-${id}`,
    object: "chat.completion",
    created,
    model,
    choices,
    usage: usage(r),
    prompt_logprobs: null,
  });
}
