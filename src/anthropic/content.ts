// Anthropic messages and system prompt -> chat completion messages for vLLM. Each block's keys are
// checked against the SDK's block params (@anthropic-ai/sdk resources/messages/messages.d.ts):
// what has a chat equivalent is carried, the rest is refused by name rather than dropped.
import { isPlainObject } from "../util/object.js";
import { checkKeys, TranslateError } from "./keys.js";

type Obj = Record<string, unknown>;
export type ChatPart = { type: "text"; text: string } | { type: "image_url"; image_url: { url: string } };
interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}
export type ChatMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string | ChatPart[] }
  | { role: "assistant"; content: string | null; tool_calls?: ToolCall[]; reasoning?: string }
  | { role: "tool"; tool_call_id: string; content: string };

/** vLLM caches prompt prefixes on its own (automatic prefix caching), so a cache breakpoint is met. */
const CACHE = "cache_control";
const keys = (...k: string[]) => new Set(k);
const TEXT = keys("type", "text", CACHE, "citations");
const IMAGE = keys("type", "source", CACHE);
const BASE64 = keys("type", "media_type", "data");
const URL_SOURCE = keys("type", "url");
const TOOL_RESULT = keys("type", "tool_use_id", "content", "is_error", CACHE);
const TOOL_USE = keys("type", "id", "name", "input", CACHE, "caller");
const THINKING = keys("type", "thinking", "signature");
const MESSAGE = keys("role", "content");
const NO_EQUIVALENT = {
  transformations: "image transformations have no vLLM equivalent",
  toolset_name: "toolsets have no vLLM equivalent",
};

export function str(v: unknown, path: string): string {
  if (typeof v !== "string") throw new TranslateError(path, "must be a string");
  return v;
}

function text(b: Obj, p: string): string {
  checkKeys(b, TEXT, p, NO_EQUIVALENT);
  if (Array.isArray(b.citations) && b.citations.length > 0) {
    throw new TranslateError(`${p}.citations`, "citations of a document have no vLLM equivalent");
  }
  return str(b.text, `${p}.text`);
}

function image(b: Obj, p: string): ChatPart {
  checkKeys(b, IMAGE, p, NO_EQUIVALENT);
  const src = b.source;
  if (!isPlainObject(src)) throw new TranslateError(`${p}.source`, "is required");
  if (src.type === "base64") {
    checkKeys(src, BASE64, `${p}.source`);
    const media = str(src.media_type, `${p}.source.media_type`);
    return {
      type: "image_url",
      image_url: { url: `data:${media};base64,${str(src.data, `${p}.source.data`)}` },
    };
  }
  if (src.type === "url") {
    checkKeys(src, URL_SOURCE, `${p}.source`);
    return { type: "image_url", image_url: { url: str(src.url, `${p}.source.url`) } };
  }
  throw new TranslateError(`${p}.source.type`, `${JSON.stringify(src.type)} images are not supported`);
}

function toolResultText(content: unknown, path: string): string {
  if (content === undefined) return "";
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw new TranslateError(path, "must be a string or an array of blocks");
  return content
    .map((b, i) => {
      if (isPlainObject(b) && b.type === "text") return text(b, `${path}.${i}`);
      throw new TranslateError(`${path}.${i}`, "only text blocks are supported in a tool_result");
    })
    .join("\n");
}

function userMessages(content: unknown[], path: string): ChatMessage[] {
  const tools: ChatMessage[] = [];
  const parts: ChatPart[] = [];
  content.forEach((b, i) => {
    const p = `${path}.${i}`;
    if (!isPlainObject(b)) throw new TranslateError(p, "must be a content block object");
    if (b.type === "text") parts.push({ type: "text", text: text(b, p) });
    else if (b.type === "image") parts.push(image(b, p));
    else if (b.type === "tool_result") {
      checkKeys(b, TOOL_RESULT, p, NO_EQUIVALENT);
      const result = toolResultText(b.content, `${p}.content`);
      tools.push({
        role: "tool",
        tool_call_id: str(b.tool_use_id, `${p}.tool_use_id`),
        content: b.is_error === true ? `Error: ${result}` : result,
      });
    } else throw new TranslateError(`${p}.type`, `${JSON.stringify(b.type)} blocks are not supported`);
  });
  // Tool results answer the assistant's calls, so they come before any new user text.
  const out = [...tools];
  if (parts.length > 0) {
    const allText = parts.every((x) => x.type === "text");
    out.push({
      role: "user",
      content: allText ? parts.map((x) => (x as { text: string }).text).join("\n") : parts,
    });
  }
  return out;
}

function assistantMessage(content: unknown[], path: string): ChatMessage {
  const texts: string[] = [];
  const thoughts: string[] = [];
  const calls: ToolCall[] = [];
  content.forEach((b, i) => {
    const p = `${path}.${i}`;
    if (!isPlainObject(b)) throw new TranslateError(p, "must be a content block object");
    if (b.type === "text") texts.push(text(b, p));
    else if (b.type === "tool_use") {
      checkKeys(b, TOOL_USE, p, NO_EQUIVALENT);
      if (isPlainObject(b.caller) && b.caller.type !== "direct") {
        throw new TranslateError(
          `${p}.caller`,
          "calls made by Anthropic's server tools have no vLLM equivalent",
        );
      }
      calls.push({
        id: str(b.id, `${p}.id`),
        type: "function",
        function: { name: str(b.name, `${p}.name`), arguments: JSON.stringify(b.input ?? {}) },
      });
    } else if (b.type === "thinking") {
      // vLLM takes an earlier turn's thinking as the message's `reasoning`, for templates that
      // show it (ConversationMessage.reasoning, vllm/entrypoints/chat_utils.py).
      checkKeys(b, THINKING, p);
      thoughts.push(str(b.thinking, `${p}.thinking`));
    } else if (b.type === "redacted_thinking") {
      throw new TranslateError(p, "redacted thinking is encrypted by Anthropic and means nothing to vLLM");
    } else throw new TranslateError(`${p}.type`, `${JSON.stringify(b.type)} blocks are not supported`);
  });
  const msg: ChatMessage = { role: "assistant", content: texts.length > 0 ? texts.join("\n") : null };
  if (calls.length > 0) msg.tool_calls = calls;
  if (thoughts.length > 0) msg.reasoning = thoughts.join("\n");
  return msg;
}

/** The conversation; the last message is the assistant's when the request prefills its answer. */
export function chatMessages(v: unknown): ChatMessage[] {
  if (!Array.isArray(v) || v.length === 0) throw new TranslateError("messages", "must be a non-empty array");
  return v.flatMap((m, i): ChatMessage[] => {
    const p = `messages.${i}`;
    if (!isPlainObject(m)) throw new TranslateError(p, "must be an object");
    checkKeys(m, MESSAGE, p);
    const content = typeof m.content === "string" ? [{ type: "text", text: m.content }] : m.content;
    if (!Array.isArray(content)) throw new TranslateError(`${p}.content`, "must be a string or an array");
    if (m.role === "user") return userMessages(content, `${p}.content`);
    if (m.role === "assistant") return [assistantMessage(content, `${p}.content`)];
    throw new TranslateError(`${p}.role`, 'must be "user" or "assistant"');
  });
}

export function systemMessages(v: unknown): ChatMessage[] {
  if (v === undefined || v === null) return [];
  if (typeof v === "string") return v === "" ? [] : [{ role: "system", content: v }];
  if (!Array.isArray(v)) throw new TranslateError("system", "must be a string or an array of text blocks");
  const joined = v
    .map((b, i) => {
      if (isPlainObject(b) && b.type === "text") return text(b, `system.${i}`);
      throw new TranslateError(`system.${i}`, "must be a text block");
    })
    .join("\n");
  return joined === "" ? [] : [{ role: "system", content: joined }];
}
