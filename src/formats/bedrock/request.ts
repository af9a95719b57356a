// A Bedrock batch record's modelInput as an OpenAI request for vLLM, for the three body shapes a
// self-hosted open model can stand in for: Claude's Messages body (anthropic_version
// "bedrock-2023-05-31"), Amazon Nova's (messages of {text} blocks, inferenceConfig) and Meta
// Llama's text body (prompt, max_gen_len). Which one it is decides the result's shape too.
import { anthropicToChat, TranslateError } from "../../anthropic/request.js";
import { isPlainObject } from "../../util/object.js";

type Obj = Record<string, unknown>;

export type BedrockShape = "anthropic" | "nova" | "llama";

export class BedrockError extends Error {}

/** Which body shape a modelInput has, or null when it is none vbatch carries over. */
function shapeOf(m: Obj): BedrockShape | null {
  if (m.anthropic_version !== undefined) return "anthropic";
  if (typeof m.prompt === "string" && m.messages === undefined) {
    refuseMistral(m);
    return "llama";
  }
  if (
    Array.isArray(m.messages) &&
    (m.schemaVersion !== undefined || m.inferenceConfig !== undefined || novaBlocks(m.messages))
  )
    return "nova";
  return null;
}

/** Nova content blocks are {text} / {image} objects without Anthropic's `type`. */
function novaBlocks(messages: unknown[]): boolean {
  return messages.some(
    (msg) =>
      isPlainObject(msg) &&
      Array.isArray(msg.content) &&
      msg.content.some((b) => isPlainObject(b) && b.type === undefined),
  );
}

/**
 * Mistral's Bedrock body is Llama's look-alike: {prompt: "<s>[INST] ... [/INST]", max_tokens, stop,
 * temperature, top_p, top_k} (Bedrock user guide, model-parameters-mistral-text-completion.html).
 * Answering it as Llama would run it with another model's defaults, so it is refused. Llama 3 and
 * later take `<|begin_of_text|>` prompts; Llama 2's `[INST]` prompt is read as Llama only with
 * its own max_gen_len.
 */
function refuseMistral(m: Obj): void {
  const mistralKey = ["max_tokens", "stop", "top_k"].find((k) => m[k] !== undefined);
  const instPrompt = /^\s*(<s>)?\s*\[INST\]/.test(m.prompt as string) && m.max_gen_len === undefined;
  if (mistralKey === undefined && !instPrompt) return;
  throw new BedrockError(
    `is a Mistral body (${mistralKey ? `${mistralKey}` : "an [INST] prompt without max_gen_len"}), which vbatch does not carry over: Claude Messages, Amazon Nova and Meta Llama bodies are`,
  );
}

function anthropic(m: Obj): { url: "/v1/chat/completions"; body: Obj } {
  if (m.anthropic_version !== "bedrock-2023-05-31") {
    throw new BedrockError(
      `anthropic_version must be "bedrock-2023-05-31" (got ${JSON.stringify(m.anthropic_version)})`,
    );
  }
  if (m.anthropic_beta !== undefined && !(Array.isArray(m.anthropic_beta) && m.anthropic_beta.length === 0)) {
    throw new BedrockError("anthropic_beta: Anthropic beta features have no vLLM equivalent");
  }
  const { anthropic_version: _v, anthropic_beta: _b, ...params } = m;
  try {
    return { url: "/v1/chat/completions", body: anthropicToChat(params, { modelOptional: true }) };
  } catch (err) {
    if (err instanceof TranslateError) throw new BedrockError(err.message);
    throw err;
  }
}

const NOVA_INFERENCE: Record<string, string> = {
  maxTokens: "max_tokens",
  max_new_tokens: "max_tokens",
  temperature: "temperature",
  topP: "top_p",
  top_p: "top_p",
  topK: "top_k",
  top_k: "top_k",
};

function novaContent(content: unknown, path: string, role: string): unknown {
  if (!Array.isArray(content) || content.length === 0)
    throw new BedrockError(`${path} must be a non-empty array`);
  const parts = content.map((raw, i) => {
    const p = `${path}.${i}`;
    if (!isPlainObject(raw)) throw new BedrockError(`${p} must be an object`);
    if (typeof raw.text === "string") return { type: "text", text: raw.text };
    if (isPlainObject(raw.image) && role === "user") {
      const src = isPlainObject(raw.image.source) ? raw.image.source : {};
      if (typeof raw.image.format !== "string" || typeof src.bytes !== "string") {
        throw new BedrockError(
          `${p}.image needs a format and source.bytes (base64); images in S3 cannot be read from vLLM`,
        );
      }
      return { type: "image_url", image_url: { url: `data:image/${raw.image.format};base64,${src.bytes}` } };
    }
    const kind = Object.keys(raw)[0] ?? "block";
    throw new BedrockError(`${p}.${kind}: only text (and, from the user, base64 images) is carried over`);
  });
  return parts.every((x) => x.type === "text")
    ? parts.map((x) => (x as { text: string }).text).join("\n")
    : parts;
}

function nova(m: Obj): { url: "/v1/chat/completions"; body: Obj } {
  for (const k of Object.keys(m)) {
    if (!["schemaVersion", "system", "messages", "inferenceConfig"].includes(k)) {
      throw new BedrockError(
        k === "toolConfig"
          ? "toolConfig: tool use is not carried over to vLLM"
          : `${k} is not a Nova field vbatch can carry over`,
      );
    }
  }
  if (m.schemaVersion !== undefined && m.schemaVersion !== "messages-v1") {
    throw new BedrockError(`schemaVersion must be "messages-v1" (got ${JSON.stringify(m.schemaVersion)})`);
  }
  const messages: Obj[] = [];
  if (m.system !== undefined) {
    if (!Array.isArray(m.system)) throw new BedrockError("system must be an array of {text} blocks");
    const text = m.system
      .map((b, i) => {
        if (isPlainObject(b) && typeof b.text === "string") return b.text;
        throw new BedrockError(`system.${i} must be a {text} block`);
      })
      .join("\n");
    if (text !== "") messages.push({ role: "system", content: text });
  }
  if (!Array.isArray(m.messages) || m.messages.length === 0)
    throw new BedrockError("messages must be a non-empty array");
  m.messages.forEach((raw, i) => {
    if (!isPlainObject(raw)) throw new BedrockError(`messages.${i} must be an object`);
    if (raw.role !== "user" && raw.role !== "assistant")
      throw new BedrockError(`messages.${i}.role must be "user" or "assistant"`);
    messages.push({ role: raw.role, content: novaContent(raw.content, `messages.${i}.content`, raw.role) });
  });
  const body: Obj = { messages };
  // A final assistant turn is a prefill the model continues, as Nova does with it.
  if (messages.at(-1)?.role === "assistant") {
    body.continue_final_message = true;
    body.add_generation_prompt = false;
  }
  if (m.inferenceConfig !== undefined) {
    if (!isPlainObject(m.inferenceConfig)) throw new BedrockError("inferenceConfig must be an object");
    for (const [k, v] of Object.entries(m.inferenceConfig)) {
      const p = `inferenceConfig.${k}`;
      if (k === "stopSequences") {
        if (!Array.isArray(v) || !v.every((x) => typeof x === "string"))
          throw new BedrockError(`${p} must be an array of strings`);
        if (v.length > 0) body.stop = v;
        continue;
      }
      const to = NOVA_INFERENCE[k];
      if (!to) throw new BedrockError(`${p} is not an inference setting vbatch can carry over`);
      if (typeof v !== "number") throw new BedrockError(`${p} must be a number`);
      body[to] = v;
    }
  }
  return { url: "/v1/chat/completions", body };
}

/**
 * Bedrock's documented max_gen_len default for Meta Llama ("Default 512, Minimum 1, Maximum 2048",
 * Bedrock user guide model-parameters-meta.html, as transcribed in langchaingo's
 * llms/bedrock/internal/bedrockclient/provider_meta.go). Without it vLLM's /v1/completions would
 * stop at its own default of 16 tokens (CompletionRequest.max_tokens).
 */
export const LLAMA_DEFAULT_MAX_GEN_LEN = 512;

function llama(m: Obj): { url: "/v1/completions"; body: Obj } {
  const body: Obj = { prompt: m.prompt, max_tokens: LLAMA_DEFAULT_MAX_GEN_LEN };
  for (const [k, v] of Object.entries(m)) {
    if (k === "prompt") continue;
    if (k === "images") throw new BedrockError("images: Llama vision input is not carried over");
    const to = k === "max_gen_len" ? "max_tokens" : k === "temperature" || k === "top_p" ? k : null;
    if (!to)
      throw new BedrockError(
        `${k} is not a Llama field vbatch can carry over (prompt, max_gen_len, temperature, top_p)`,
      );
    if (typeof v !== "number") throw new BedrockError(`${k} must be a number`);
    body[to] = v;
  }
  return { url: "/v1/completions", body };
}

/** The request for one modelInput, and which shape its result takes. */
export function bedrockToOpenAI(modelInput: unknown): {
  shape: BedrockShape;
  url: "/v1/chat/completions" | "/v1/completions";
  body: Obj;
} {
  if (!isPlainObject(modelInput)) throw new BedrockError("must be an object");
  const shape = shapeOf(modelInput);
  if (shape === null) {
    throw new BedrockError(
      "is not a body vbatch can carry over: Claude Messages (anthropic_version), Amazon Nova (messages of {text} blocks) or Meta Llama (prompt)",
    );
  }
  const r =
    shape === "anthropic" ? anthropic(modelInput) : shape === "nova" ? nova(modelInput) : llama(modelInput);
  return { shape, ...r };
}
