// POST /v1/completions, vLLM's completion/serving.py: a generation over a prompt, answered as a
// CompletionResponse (text_completion).
import { outputTokensFor } from "../lengths.js";
import { type Generated, usage } from "../replies.js";
import { completionWork } from "../requests.js";
import type { RequestKind } from "./kind.js";

export const completion: RequestKind = {
  work: (cfg, body, raw) => completionWork(cfg, body, outputTokensFor(cfg.output, raw)),
  reply: (cfg, id, work, created) => completionBody(id, work, cfg.model, created),
};

export function completionBody(id: string, r: Generated, model: string, created: number): string {
  const choices = new Array(r.choices);
  for (let i = 0; i < r.choices; i++) {
    choices[i] = { index: i, text: r.text, logprobs: null, finish_reason: r.finishReason, stop_reason: null };
  }
  return JSON.stringify({
    id: `cmpl-${id}`,
    object: "text_completion",
    created,
    model,
    choices,
    usage: usage(r),
  });
}
