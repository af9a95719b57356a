// Anthropic Messages params -> an OpenAI chat completion body for vLLM. Everything that has a
// chat equivalent is carried over; what has none (documents, server tools) is refused by name
// rather than silently dropped.
import { isPlainObject } from "../util/object.js";

export class TranslateError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

type Obj = Record<string, unknown>;
type ChatPart = { type: "text"; text: string } | { type: "image_url"; image_url: { url: string } };
interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}
type ChatMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string | ChatPart[] }
  | { role: "assistant"; content: string | null; tool_calls?: ToolCall[] }
  | { role: "tool"; tool_call_id: string; content: string };

function str(v: unknown, path: string): string {
  if (typeof v !== "string") throw new TranslateError(path, "must be a string");
  return v;
}

function image(block: Obj, path: string): ChatPart {
  const src = block.source;
  if (!isPlainObject(src)) throw new TranslateError(`${path}.source`, "is required");
  if (src.type === "base64") {
    const media = str(src.media_type, `${path}.source.media_type`);
    return {
      type: "image_url",
      image_url: { url: `data:${media};base64,${str(src.data, `${path}.source.data`)}` },
    };
  }
  if (src.type === "url")
    return { type: "image_url", image_url: { url: str(src.url, `${path}.source.url`) } };
  throw new TranslateError(`${path}.source.type`, `${JSON.stringify(src.type)} images are not supported`);
}

function toolResultText(content: unknown, path: string): string {
  if (content === undefined) return "";
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw new TranslateError(path, "must be a string or an array of blocks");
  return content
    .map((b, i) => {
      if (isPlainObject(b) && b.type === "text") return str(b.text, `${path}.${i}.text`);
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
    if (b.type === "text") parts.push({ type: "text", text: str(b.text, `${p}.text`) });
    else if (b.type === "image") parts.push(image(b, p));
    else if (b.type === "tool_result") {
      const text = toolResultText(b.content, `${p}.content`);
      tools.push({
        role: "tool",
        tool_call_id: str(b.tool_use_id, `${p}.tool_use_id`),
        content: b.is_error === true ? `Error: ${text}` : text,
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
  const calls: ToolCall[] = [];
  content.forEach((b, i) => {
    const p = `${path}.${i}`;
    if (!isPlainObject(b)) throw new TranslateError(p, "must be a content block object");
    if (b.type === "text") texts.push(str(b.text, `${p}.text`));
    else if (b.type === "tool_use") {
      calls.push({
        id: str(b.id, `${p}.id`),
        type: "function",
        function: { name: str(b.name, `${p}.name`), arguments: JSON.stringify(b.input ?? {}) },
      });
    } else if (b.type !== "thinking" && b.type !== "redacted_thinking") {
      throw new TranslateError(`${p}.type`, `${JSON.stringify(b.type)} blocks are not supported`);
    }
  });
  const msg: ChatMessage = { role: "assistant", content: texts.length > 0 ? texts.join("\n") : null };
  if (calls.length > 0) msg.tool_calls = calls;
  return msg;
}

function messages(v: unknown): ChatMessage[] {
  if (!Array.isArray(v) || v.length === 0) throw new TranslateError("messages", "must be a non-empty array");
  return v.flatMap((m, i): ChatMessage[] => {
    const p = `messages.${i}`;
    if (!isPlainObject(m)) throw new TranslateError(p, "must be an object");
    const content = typeof m.content === "string" ? [{ type: "text", text: m.content }] : m.content;
    if (!Array.isArray(content)) throw new TranslateError(`${p}.content`, "must be a string or an array");
    if (m.role === "user") return userMessages(content, `${p}.content`);
    if (m.role === "assistant") return [assistantMessage(content, `${p}.content`)];
    throw new TranslateError(`${p}.role`, 'must be "user" or "assistant"');
  });
}

function system(v: unknown): ChatMessage[] {
  if (v === undefined || v === null) return [];
  if (typeof v === "string") return v === "" ? [] : [{ role: "system", content: v }];
  if (!Array.isArray(v)) throw new TranslateError("system", "must be a string or an array of text blocks");
  const text = v
    .map((b, i) => {
      if (isPlainObject(b) && b.type === "text") return str(b.text, `system.${i}.text`);
      throw new TranslateError(`system.${i}`, "must be a text block");
    })
    .join("\n");
  return text === "" ? [] : [{ role: "system", content: text }];
}

function tools(v: unknown): Obj[] {
  if (!Array.isArray(v)) throw new TranslateError("tools", "must be an array");
  return v.map((t, i) => {
    if (
      !isPlainObject(t) ||
      !isPlainObject(t.input_schema) ||
      (t.type !== undefined && t.type !== "custom")
    ) {
      throw new TranslateError(`tools.${i}`, "only custom tools with an input_schema are supported");
    }
    const fn: Obj = { name: str(t.name, `tools.${i}.name`), parameters: t.input_schema };
    if (typeof t.description === "string") fn.description = t.description;
    return { type: "function", function: fn };
  });
}

function toolChoice(v: unknown, body: Obj): void {
  if (!isPlainObject(v)) throw new TranslateError("tool_choice", "must be an object");
  if (v.type === "auto") body.tool_choice = "auto";
  else if (v.type === "any") body.tool_choice = "required";
  else if (v.type === "none") body.tool_choice = "none";
  else if (v.type === "tool") {
    body.tool_choice = { type: "function", function: { name: str(v.name, "tool_choice.name") } };
  } else throw new TranslateError("tool_choice.type", "must be auto, any, tool or none");
  if (v.disable_parallel_tool_use === true) body.parallel_tool_calls = false;
}

/**
 * The chat completion body for one Anthropic request's params. `modelOptional`: Claude on Bedrock
 * names no model in the body (the batch job names it), so the default model fills in.
 */
export function anthropicToChat(params: unknown, o: { modelOptional?: boolean } = {}): Obj {
  if (!isPlainObject(params)) throw new TranslateError("params", "must be an object");
  if (params.stream === true) throw new TranslateError("stream", "is not supported in a batch");
  const maxTokens = params.max_tokens;
  if (typeof maxTokens !== "number" || !Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new TranslateError("max_tokens", "must be a positive integer");
  }
  const body: Obj = {};
  if (!(o.modelOptional && params.model === undefined)) body.model = str(params.model, "model");
  body.messages = [...system(params.system), ...messages(params.messages)];
  body.max_tokens = maxTokens;
  for (const k of ["temperature", "top_p", "top_k"] as const) {
    if (params[k] === undefined) continue;
    if (typeof params[k] !== "number") throw new TranslateError(k, "must be a number");
    body[k] = params[k];
  }
  if (params.stop_sequences !== undefined) {
    const s = params.stop_sequences;
    if (!Array.isArray(s) || !s.every((x) => typeof x === "string")) {
      throw new TranslateError("stop_sequences", "must be an array of strings");
    }
    if (s.length > 0) body.stop = s;
  }
  if (params.tools !== undefined) {
    const t = tools(params.tools);
    if (t.length > 0) body.tools = t;
  }
  if (params.tool_choice !== undefined) toolChoice(params.tool_choice, body);
  const format = isPlainObject(params.output_config) ? params.output_config.format : undefined;
  if (isPlainObject(format) && format.type === "json_schema") {
    body.response_format = { type: "json_schema", json_schema: { name: "output", schema: format.schema } };
  }
  return body;
}
