// Anthropic Messages params -> an OpenAI chat completion body for vLLM. Every key of
// MessageCreateParams (@anthropic-ai/sdk 0.137, resources/messages/messages.d.ts) is either carried
// into the body vLLM receives or refused by name; a key the API does not know is refused as the
// API refuses it. The vLLM side is ChatCompletionRequest (vllm/entrypoints/openai/chat_completion/
// protocol.py): chat_template_kwargs, continue_final_message, add_generation_prompt,
// reasoning_effort, and the top-level thinking_token_budget (vLLM PRs 20859 and 46727).
import { isPlainObject } from "../util/object.js";
import { type ChatMessage, chatMessages, str, systemMessages } from "./content.js";
import { checkKeys, TranslateError } from "./keys.js";

export { TranslateError } from "./keys.js";

type Obj = Record<string, unknown>;

const PARAMS = new Set([
  "model",
  "max_tokens",
  "messages",
  "system",
  "temperature",
  "top_p",
  "top_k",
  "stop_sequences",
  "stream",
  "tools",
  "tool_choice",
  "output_config",
  "thinking",
  "speed",
  // Bookkeeping with no effect on the answer: Anthropic's abuse tracking (vLLM ignores `user`
  // too), which of Anthropic's capacity tiers to use, and a prefix-cache breakpoint (vLLM caches
  // every prefix on its own).
  "metadata",
  "service_tier",
  "cache_control",
]);

const NOT_CARRIED: Record<string, string> = {
  container: "code execution containers have no vLLM equivalent",
  diagnostics: "Anthropic's prompt-cache diagnostics have no vLLM equivalent",
  inference_geo: "vbatch cannot choose where an engine runs (they run where you started them)",
  user_profile_id: "an Anthropic account setting with no meaning on vLLM",
  workspace_id: "an Anthropic account setting with no meaning on vLLM",
};

function tools(v: unknown): Obj[] {
  if (!Array.isArray(v)) throw new TranslateError("tools", "must be an array");
  const carried = new Set(["name", "description", "input_schema", "type", "cache_control"]);
  const no = "has no vLLM equivalent";
  return v.map((t, i) => {
    if (
      !isPlainObject(t) ||
      !isPlainObject(t.input_schema) ||
      (t.type !== undefined && t.type !== null && t.type !== "custom")
    ) {
      throw new TranslateError(`tools.${i}`, "only custom tools with an input_schema are supported");
    }
    checkKeys(t, carried, `tools.${i}`, {
      allowed_callers: no,
      defer_loading: no,
      eager_input_streaming: no,
      input_examples: no,
      strict: no,
    });
    const fn: Obj = { name: str(t.name, `tools.${i}.name`), parameters: t.input_schema };
    if (typeof t.description === "string") fn.description = t.description;
    return { type: "function", function: fn };
  });
}

function toolChoice(v: unknown, body: Obj): void {
  if (!isPlainObject(v)) throw new TranslateError("tool_choice", "must be an object");
  checkKeys(v, new Set(["type", "name", "disable_parallel_tool_use"]), "tool_choice");
  if (v.type === "auto") body.tool_choice = "auto";
  else if (v.type === "any") body.tool_choice = "required";
  else if (v.type === "none") body.tool_choice = "none";
  else if (v.type === "tool") {
    body.tool_choice = { type: "function", function: { name: str(v.name, "tool_choice.name") } };
  } else throw new TranslateError("tool_choice.type", "must be auto, any, tool or none");
  if (v.disable_parallel_tool_use === true) body.parallel_tool_calls = false;
}

function outputConfig(v: unknown, body: Obj): void {
  if (!isPlainObject(v)) throw new TranslateError("output_config", "must be an object");
  checkKeys(v, new Set(["format", "effort"]), "output_config");
  const format = v.format;
  if (format !== undefined && format !== null) {
    if (!isPlainObject(format) || format.type !== "json_schema" || !isPlainObject(format.schema)) {
      throw new TranslateError("output_config.format", 'must be {type: "json_schema", schema}');
    }
    checkKeys(format, new Set(["type", "schema"]), "output_config.format");
    body.response_format = { type: "json_schema", json_schema: { name: "output", schema: format.schema } };
  }
  const effort = v.effort;
  if (effort === undefined || effort === null) return;
  if (effort !== "low" && effort !== "medium" && effort !== "high") {
    throw new TranslateError(
      "output_config.effort",
      `${JSON.stringify(effort)}: vLLM's reasoning_effort is low, medium or high`,
    );
  }
  body.reasoning_effort = effort;
}

/**
 * Extended thinking on a reasoning model: the chat template's switch (`enable_thinking`, as Qwen3's
 * and others' templates name it) and vLLM's hard cap on reasoning tokens for the budget. Thinking
 * comes back as the answer's `reasoning`, which the result turns into a thinking block.
 */
function thinking(v: unknown, maxTokens: number, body: Obj): void {
  if (!isPlainObject(v)) throw new TranslateError("thinking", "must be an object");
  const type = v.type;
  if (type === "disabled") {
    checkKeys(v, new Set(["type"]), "thinking");
    body.chat_template_kwargs = { enable_thinking: false };
    return;
  }
  if (type !== "enabled" && type !== "adaptive") {
    throw new TranslateError(
      "thinking.type",
      `${JSON.stringify(type)}: only enabled, adaptive and disabled have a vLLM equivalent`,
    );
  }
  checkKeys(
    v,
    new Set(type === "enabled" ? ["type", "budget_tokens", "display"] : ["type", "display"]),
    "thinking",
  );
  if (v.display === "omitted") {
    throw new TranslateError(
      "thinking.display",
      '"omitted" (a signature without the thinking) has no vLLM equivalent',
    );
  }
  if (v.display !== undefined && v.display !== null && v.display !== "summarized") {
    throw new TranslateError("thinking.display", 'must be "summarized" or "omitted"');
  }
  body.chat_template_kwargs = { enable_thinking: true };
  if (type === "adaptive") return;
  const budget = v.budget_tokens;
  // "Must be ≥1024 and less than max_tokens" (ThinkingConfigEnabled.budget_tokens).
  if (typeof budget !== "number" || !Number.isInteger(budget) || budget < 1024 || budget >= maxTokens) {
    throw new TranslateError("thinking.budget_tokens", "must be an integer >= 1024 and less than max_tokens");
  }
  body.thinking_token_budget = budget;
}

/**
 * A conversation that ends with the assistant's turn asks the model to continue that text
 * (Anthropic: "the response content will continue directly from that last turn"); vLLM does so
 * only with continue_final_message and no generation prompt, and answers with the continuation.
 */
function prefill(messages: ChatMessage[], body: Obj): void {
  const last = messages.at(-1);
  if (last?.role !== "assistant") return;
  if (last.tool_calls || last.content === null) {
    throw new TranslateError(
      `messages.${messages.length - 1}`,
      "a final assistant turn can only be text for the model to continue",
    );
  }
  body.continue_final_message = true;
  body.add_generation_prompt = false;
}

/**
 * The chat completion body for one Anthropic request's params. `modelOptional`: Claude on Bedrock
 * names no model in the body (the batch job names it), so the default model fills in.
 */
export function anthropicToChat(params: unknown, o: { modelOptional?: boolean } = {}): Obj {
  if (!isPlainObject(params)) throw new TranslateError("", "must be an object");
  checkKeys(params, PARAMS, "", NOT_CARRIED);
  if (params.stream === true) throw new TranslateError("stream", "is not supported in a batch");
  const maxTokens = params.max_tokens;
  if (typeof maxTokens !== "number" || !Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new TranslateError("max_tokens", "must be a positive integer");
  }
  const body: Obj = {};
  if (!(o.modelOptional && params.model === undefined)) body.model = str(params.model, "model");
  const conversation = chatMessages(params.messages);
  body.messages = [...systemMessages(params.system), ...conversation];
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
  if (params.output_config !== undefined) outputConfig(params.output_config, body);
  if (params.thinking !== undefined) thinking(params.thinking, maxTokens, body);
  if (params.speed !== undefined && params.speed !== null && params.speed !== "standard") {
    throw new TranslateError("speed", `${JSON.stringify(params.speed)}: vLLM has one speed`);
  }
  checkBookkeeping(params);
  prefill(conversation, body);
  return body;
}

function checkBookkeeping(params: Obj): void {
  const m = params.metadata;
  if (m !== undefined && m !== null) {
    if (!isPlainObject(m)) throw new TranslateError("metadata", "must be an object");
    checkKeys(m, new Set(["user_id"]), "metadata");
  }
  const tier = params.service_tier;
  if (tier !== undefined && tier !== "auto" && tier !== "standard_only") {
    throw new TranslateError("service_tier", 'must be "auto" or "standard_only"');
  }
}
