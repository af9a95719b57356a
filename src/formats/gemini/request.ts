// A Gemini GenerateContentRequest as an OpenAI chat completion body for vLLM. What has a chat
// equivalent is carried over; what has none (blocking safety settings, cached content, files in
// Google's storage, thinking budgets, tools) is refused by name rather than dropped.
import { isPlainObject } from "../../util/object.js";
import { field, GeminiError, knownFields, type Obj, object, onlyKnown } from "./fields.js";
import { toJsonSchema } from "./schema.js";

type ChatPart = { type: "text"; text: string } | { type: "image_url"; image_url: { url: string } };

const NOT_CARRIED: Record<string, string> = {
  tools: "function calling and Google's built-in tools are not carried over to vLLM",
  toolConfig: "function calling is not carried over to vLLM",
  cachedContent: "Gemini's context cache does not exist on vLLM: put the content in the request",
};

const GENERATION_NOT_CARRIED: Record<string, string> = {
  thinkingConfig: "a thinking budget has no vLLM equivalent in a chat request",
  speechConfig: "speech output is not something vLLM's chat endpoint produces",
  imageConfig: "image output is not something vLLM's chat endpoint produces",
  mediaResolution: "vLLM has no media resolution setting",
  enableEnhancedCivicAnswers: "a Gemini-only setting",
};

const PART_NOT_CARRIED: Record<string, string> = {
  mediaResolution: "vLLM has no per-part media resolution",
  videoMetadata: "only inline images are carried over: video offsets and frame rates have no equivalent",
  partMetadata: "custom part metadata has no vLLM equivalent",
};

/** A Content's parts: what the chat message says, and (a model turn's) thought text beside it. */
interface Parts {
  parts: ChatPart[];
  thoughts: string[];
}

/** The text and image parts of one Content; `role` decides what is allowed. */
function parts(content: Obj, path: string, role: "user" | "model" | "system"): Parts {
  const list = content.parts;
  if (!Array.isArray(list) || list.length === 0)
    throw new GeminiError(`${path}.parts must be a non-empty array`);
  const out: Parts = { parts: [], thoughts: [] };
  list.forEach((raw, i) => {
    const p = `${path}.parts.${i}`;
    const part = object(raw, p);
    for (const [k, why] of Object.entries(PART_NOT_CARRIED)) {
      if (field(part, k, p) !== undefined) throw new GeminiError(`${p}.${k}: ${why}`);
    }
    const thought = part.thought;
    if (thought !== undefined && typeof thought !== "boolean")
      throw new GeminiError(`${p}.thought must be a boolean`);
    if (typeof part.text === "string") {
      onlyKnown(part, TEXT_PART, p);
      if (thought !== true) out.parts.push({ type: "text", text: part.text });
      // A model turn's thoughts reach vLLM as the assistant message's `reasoning`
      // (ConversationMessage.reasoning, vllm/entrypoints/chat_utils.py).
      else if (role === "model") out.thoughts.push(part.text);
      else throw new GeminiError(`${p}.thought: a thought from the ${role} has no vLLM equivalent`);
      return;
    }
    if (thought === true) throw new GeminiError(`${p}.thought: only text parts can be thoughts`);
    const inline = field(part, "inlineData", p);
    if (inline !== undefined) {
      onlyKnown(part, INLINE_PART, p);
      const d = object(inline, `${p}.inlineData`);
      const mime = field(d, "mimeType", `${p}.inlineData`);
      if (typeof mime !== "string" || !mime.startsWith("image/") || typeof d.data !== "string") {
        throw new GeminiError(
          `${p}.inlineData: only images (mimeType image/*, base64 data) are carried over`,
        );
      }
      out.parts.push({ type: "image_url", image_url: { url: `data:${mime};base64,${d.data}` } });
      return;
    }
    if (field(part, "fileData", p) !== undefined) {
      throw new GeminiError(
        `${p}.fileData: files in Gemini's file store or Cloud Storage cannot be read from vLLM: inline them (inlineData)`,
      );
    }
    const kind =
      Object.keys(part).find((k) => k !== "thoughtSignature" && k !== "thought_signature") ?? "part";
    throw new GeminiError(`${p}.${kind}: only text and inline image parts are carried over`);
  });
  return out;
}

/** thoughtSignature is Gemini's own check of a thought; vLLM has nothing to check it against. */
const TEXT_PART = knownFields(["text", "thought", "thoughtSignature"]);
const INLINE_PART = knownFields(["inlineData", "thoughtSignature"]);

function textOf(ps: ChatPart[], path: string): string {
  if (ps.some((x) => x.type !== "text"))
    throw new GeminiError(`${path}: only text parts can be a system instruction`);
  return ps.map((x) => (x as { text: string }).text).join("\n");
}

function messages(contents: unknown, system: unknown): Obj[] {
  const out: Obj[] = [];
  if (system !== undefined) {
    const s = parts(object(system, "systemInstruction"), "systemInstruction", "system");
    const text = textOf(s.parts, "systemInstruction");
    if (text !== "") out.push({ role: "system", content: text });
  }
  if (!Array.isArray(contents) || contents.length === 0)
    throw new GeminiError("contents must be a non-empty array");
  contents.forEach((raw, i) => {
    const p = `contents.${i}`;
    const c = object(raw, p);
    const role = c.role ?? "user";
    if (role !== "user" && role !== "model") throw new GeminiError(`${p}.role must be "user" or "model"`);
    const ps = parts(c, p, role);
    if (role === "model") {
      const msg: Obj = { role: "assistant", content: textOf(ps.parts, p) };
      if (ps.thoughts.length > 0) msg.reasoning = ps.thoughts.join("\n");
      out.push(msg);
    } else {
      out.push({
        role: "user",
        content: ps.parts.every((x) => x.type === "text") ? textOf(ps.parts, p) : ps.parts,
      });
    }
  });
  return out;
}

function safety(v: unknown): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) throw new GeminiError("safetySettings must be an array");
  v.forEach((raw, i) => {
    const s = object(raw, `safetySettings.${i}`);
    const t = s.threshold;
    if (t !== "BLOCK_NONE" && t !== "OFF") {
      throw new GeminiError(
        `safetySettings.${i}: threshold ${JSON.stringify(t)} asks Gemini to block content, and vLLM has no such filter (only BLOCK_NONE or OFF can be carried over)`,
      );
    }
  });
}

const GENERATION_FIELDS = knownFields([
  "candidateCount",
  "stopSequences",
  "maxOutputTokens",
  "temperature",
  "topP",
  "topK",
  "seed",
  "presencePenalty",
  "frequencyPenalty",
  "responseMimeType",
  "responseSchema",
  "responseJsonSchema",
  "responseLogprobs",
  "logprobs",
  "responseModalities",
]);

function generation(v: unknown, body: Obj): void {
  if (v === undefined) return;
  const g = object(v, "generationConfig");
  const path = "generationConfig";
  onlyKnown(g, GENERATION_FIELDS, path, GENERATION_NOT_CARRIED);
  const num = (camel: string, to: string, integer = false) => {
    const x = field(g, camel, path);
    if (x === undefined) return;
    if (typeof x !== "number" || (integer && !Number.isInteger(x))) {
      throw new GeminiError(`${path}.${camel} must be ${integer ? "an integer" : "a number"}`);
    }
    body[to] = x;
  };
  num("maxOutputTokens", "max_tokens", true);
  num("temperature", "temperature");
  num("topP", "top_p");
  num("topK", "top_k", true);
  num("seed", "seed", true);
  num("presencePenalty", "presence_penalty");
  num("frequencyPenalty", "frequency_penalty");
  num("candidateCount", "n", true);
  num("logprobs", "top_logprobs", true);
  const responseLogprobs = field(g, "responseLogprobs", path);
  if (responseLogprobs !== undefined && typeof responseLogprobs !== "boolean") {
    throw new GeminiError(`${path}.responseLogprobs must be a boolean`);
  }
  // vLLM refuses top_logprobs without logprobs ("when using `top_logprobs`, `logprobs` must be set
  // to true", ChatCompletionRequest.check_logprobs): the line is refused here instead.
  if (body.top_logprobs !== undefined && responseLogprobs !== true) {
    throw new GeminiError(`${path}.logprobs needs responseLogprobs: true`);
  }
  const stop = field(g, "stopSequences", path);
  if (stop !== undefined) {
    if (!Array.isArray(stop) || !stop.every((x) => typeof x === "string")) {
      throw new GeminiError(`${path}.stopSequences must be an array of strings`);
    }
    if (stop.length > 0) body.stop = stop;
  }
  if (responseLogprobs === true) body.logprobs = true;
  const modalities = field(g, "responseModalities", path);
  if (modalities !== undefined && !(Array.isArray(modalities) && modalities.every((m) => m === "TEXT"))) {
    throw new GeminiError(`${path}.responseModalities: only TEXT can be produced by vLLM's chat endpoint`);
  }
  const mime = field(g, "responseMimeType", path);
  const jsonSchema = field(g, "responseJsonSchema", path);
  const schema = field(g, "responseSchema", path);
  if (mime === undefined || mime === "text/plain") {
    if (jsonSchema !== undefined || schema !== undefined) {
      throw new GeminiError(`${path}: a response schema needs responseMimeType application/json`);
    }
    return;
  }
  if (mime !== "application/json") {
    throw new GeminiError(
      `${path}.responseMimeType ${JSON.stringify(mime)}: only text/plain and application/json are carried over`,
    );
  }
  if (jsonSchema !== undefined && schema !== undefined) {
    throw new GeminiError(`${path}: set responseSchema or responseJsonSchema, not both`);
  }
  const js =
    jsonSchema !== undefined
      ? object(jsonSchema, `${path}.responseJsonSchema`)
      : schema !== undefined
        ? toJsonSchema(schema, `${path}.responseSchema`)
        : null;
  body.response_format =
    js === null
      ? { type: "json_object" }
      : { type: "json_schema", json_schema: { name: "response", schema: js } };
}

const REQUEST_FIELDS = knownFields([
  "model",
  "contents",
  "systemInstruction",
  "generationConfig",
  "safetySettings",
  "labels",
  "serviceTier",
  ...Object.keys(NOT_CARRIED),
]);

/** The chat completion body for one Gemini batch request. */
export function geminiToChat(request: unknown): Obj {
  if (!isPlainObject(request)) throw new GeminiError("must be an object");
  const r = request;
  onlyKnown(r, REQUEST_FIELDS, "");
  for (const [k, why] of Object.entries(NOT_CARRIED)) {
    const v = field(r, k, "");
    if (v !== undefined && !(Array.isArray(v) && v.length === 0)) throw new GeminiError(`${k}: ${why}`);
  }
  const body: Obj = {};
  const model = r.model;
  if (model !== undefined) {
    if (typeof model !== "string" || model === "") throw new GeminiError("model must be a non-empty string");
    body.model = model.replace(/^models\//, "");
  }
  body.messages = messages(r.contents, field(r, "systemInstruction", ""));
  // A last turn of the model's is text for it to continue: vLLM does that only with
  // continue_final_message and no generation prompt (ChatCompletionRequest).
  if ((body.messages as Obj[]).at(-1)?.role === "assistant") {
    body.continue_final_message = true;
    body.add_generation_prompt = false;
  }
  safety(field(r, "safetySettings", ""));
  generation(field(r, "generationConfig", ""), body);
  const labels = r.labels;
  if (labels !== undefined && !isPlainObject(labels)) throw new GeminiError("labels must be an object");
  return body;
}
