// OpenAI chat rows sent to Anthropic's Message Batches, where they can be carried exactly, and
// Anthropic's answers read back as chat completions. The rule is the translated formats' (see
// src/anthropic/request.ts for the other direction): what has no exact counterpart is refused
// with its line before anything is sent, never dropped or approximated. Carried: model,
// max_tokens / max_completion_tokens (Anthropic requires one), temperature up to 1 (Anthropic's
// range is 0-1, OpenAI's 0-2), top_p, stop (-> stop_sequences), n = 1, one leading system
// message, user and assistant messages whose content is a string or text parts.
import { isPlainObject } from "../../util/object.js";

type Obj = Record<string, unknown>;

export class NotCarried extends Error {}

const CARRIED = new Set([
  "model",
  "messages",
  "max_tokens",
  "max_completion_tokens",
  "temperature",
  "top_p",
  "stop",
  "n",
  "stream",
]);

function text(content: unknown, where: string): string | { type: "text"; text: string }[] {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw new NotCarried(`${where}: content must be a string or text parts`);
  return content.map((p, i) => {
    if (!isPlainObject(p) || p.type !== "text" || typeof p.text !== "string" || Object.keys(p).length !== 2) {
      throw new NotCarried(`${where}.content[${i}]: only text parts can be carried to Anthropic`);
    }
    return { type: "text" as const, text: p.text };
  });
}

/** The Anthropic params for a chat completion body, or NotCarried naming what cannot go. */
export function chatToParams(body: Obj): Obj {
  for (const k of Object.keys(body))
    if (!CARRIED.has(k)) throw new NotCarried(`body.${k} has no Anthropic counterpart`);
  if (body.stream === true) throw new NotCarried("body.stream: true");
  if (body.n !== undefined && body.n !== 1) throw new NotCarried("body.n: Anthropic answers once a request");
  const max = body.max_tokens ?? body.max_completion_tokens;
  if (typeof max !== "number") throw new NotCarried("Anthropic needs max_tokens (or max_completion_tokens)");
  if (typeof body.temperature === "number" && body.temperature > 1) {
    throw new NotCarried(`body.temperature ${body.temperature}: Anthropic's range is 0-1`);
  }
  const params: Obj = { model: body.model, max_tokens: max };
  const msgs = Array.isArray(body.messages) ? body.messages : [];
  const messages: Obj[] = [];
  msgs.forEach((m, i) => {
    const where = `body.messages[${i}]`;
    if (!isPlainObject(m)) throw new NotCarried(`${where}: not an object`);
    for (const k of Object.keys(m))
      if (k !== "role" && k !== "content") throw new NotCarried(`${where}.${k} has no Anthropic counterpart`);
    if (m.role === "system" && i === 0) params.system = text(m.content, where);
    else if (m.role === "user" || m.role === "assistant")
      messages.push({ role: m.role, content: text(m.content, where) });
    else {
      const why = m.role === "system" ? "a system message after the first" : `role ${String(m.role)}`;
      throw new NotCarried(`${where}: ${why} cannot be carried to Anthropic`);
    }
  });
  params.messages = messages;
  if (body.temperature !== undefined) params.temperature = body.temperature;
  if (body.top_p !== undefined) params.top_p = body.top_p;
  if (typeof body.stop === "string") params.stop_sequences = [body.stop];
  else if (Array.isArray(body.stop)) params.stop_sequences = body.stop;
  return params;
}

const FINISH: Record<string, string> = {
  end_turn: "stop",
  stop_sequence: "stop",
  max_tokens: "length",
  refusal: "content_filter",
};

/** An Anthropic Message as the chat completion a self-hosted run would have written. */
export function messageToChat(msg: Obj): Obj {
  const blocks = Array.isArray(msg.content) ? msg.content : [];
  const content = blocks
    .filter((b): b is Obj => isPlainObject(b) && b.type === "text")
    .map((b) => String(b.text))
    .join("");
  const usage = isPlainObject(msg.usage) ? msg.usage : {};
  const prompt = Number(usage.input_tokens ?? 0);
  const completion = Number(usage.output_tokens ?? 0);
  return {
    id: msg.id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: msg.model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content },
        finish_reason: FINISH[String(msg.stop_reason)] ?? "stop",
      },
    ],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  };
}
