// A stand-in tokenizer: about four characters a token, with a few tokens of chat template around each
// message. /tokenize and the usage of every reply use these same rules, so counts always agree.
import { contentText } from "../input/content.js";

// The chat template's special tokens (ids below 100): BOS once; around each message a start of
// turn with its role, and an end of turn; then the assistant's generation prompt, followed by an
// empty think block when thinking is off. chatTokenIds lays these out and chatTokenCount counts them.
const BOS = [1] as const;
const MESSAGE_START = [2, 3] as const;
const MESSAGE_END = [4, 5] as const;
const GENERATION_PROMPT = [2, 6] as const;
const EMPTY_THINK = [7, 8, 9, 10] as const;

/** Tokens the chat template adds around each message (role markers, separators). */
export const TOKENS_PER_MESSAGE = MESSAGE_START.length + MESSAGE_END.length;

const VOCAB = 32000;

export function textTokenCount(text: string): number {
  return Math.ceil(text.length / 4);
}

export function textTokenIds(text: string): number[] {
  const n = textTokenCount(text);
  const ids = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let h = 2166136261;
    const end = Math.min(text.length, i * 4 + 4);
    for (let j = i * 4; j < end; j++) h = Math.imul(h ^ text.charCodeAt(j), 16777619);
    // ids below 100 are left to the template's special tokens
    ids[i] = 100 + ((h >>> 0) % (VOCAB - 100));
  }
  return ids;
}

function messageContent(message: unknown): string {
  if (message === null || typeof message !== "object") return "";
  return contentText((message as { content?: unknown }).content);
}

/**
 * What a request asks of the chat template, as vLLM passes it on (ChatCompletionRequest and
 * TokenizeChatRequest: add_generation_prompt, continue_final_message, chat_template_kwargs).
 */
export interface TemplateOptions {
  /** The assistant's generation prompt at the end. @default true */
  addGenerationPrompt?: boolean;
  /** Leave the last message open (no end-of-turn), for the model to continue. @default false */
  continueFinalMessage?: boolean;
  /** Qwen3-style `enable_thinking: false` writes an empty think block into the prompt. */
  thinkingOff?: boolean;
  /** `enable_thinking: true`: the sim answers with reasoning beside the content. */
  thinkingOn?: boolean;
}

/** The template options a request body sets. */
export function templateOptions(body: Record<string, unknown>): TemplateOptions {
  const kwargs = body.chat_template_kwargs;
  const thinking =
    kwargs !== null && typeof kwargs === "object"
      ? (kwargs as { enable_thinking?: unknown }).enable_thinking
      : undefined;
  return {
    addGenerationPrompt: body.add_generation_prompt !== false,
    continueFinalMessage: body.continue_final_message === true,
    thinkingOff: thinking === false,
    thinkingOn: thinking === true,
  };
}

/** Whether the template ends with the assistant's generation prompt. */
function endsWithGenerationPrompt(o: TemplateOptions): boolean {
  return o.addGenerationPrompt !== false && !o.continueFinalMessage;
}

/** The length of chatTokenIds, without building it (the sim's hot path counts every prompt). */
export function chatTokenCount(messages: readonly unknown[], o: TemplateOptions = {}): number {
  let n = BOS.length;
  for (const m of messages) n += TOKENS_PER_MESSAGE + textTokenCount(messageContent(m));
  if (o.continueFinalMessage && messages.length > 0) n -= MESSAGE_END.length;
  if (endsWithGenerationPrompt(o)) n += GENERATION_PROMPT.length + (o.thinkingOff ? EMPTY_THINK.length : 0);
  return n;
}

export function chatTokenIds(messages: readonly unknown[], o: TemplateOptions = {}): number[] {
  const ids: number[] = [...BOS];
  messages.forEach((m, i) => {
    ids.push(...MESSAGE_START);
    for (const id of textTokenIds(messageContent(m))) ids.push(id);
    // A continued final message stays open: no end-of-turn after it.
    if (!(o.continueFinalMessage && i === messages.length - 1)) ids.push(...MESSAGE_END);
  });
  if (endsWithGenerationPrompt(o)) {
    ids.push(...GENERATION_PROMPT);
    if (o.thinkingOff) ids.push(...EMPTY_THINK);
  }
  return ids;
}

/** One prompt: text, or token ids given directly. */
export type PromptInput = string | number[];

function isTokenArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => Number.isInteger(v));
}

/**
 * The prompts of a completions `prompt` or embeddings `input`: a string, a list of strings, a list of
 * token ids, or a list of token-id lists. Null when the value is none of these.
 */
export function splitInputs(value: unknown): PromptInput[] | null {
  if (typeof value === "string") return [value];
  if (!Array.isArray(value) || value.length === 0) return null;
  if (typeof value[0] === "number") return isTokenArray(value) ? [value] : null;
  const out: PromptInput[] = [];
  for (const item of value) {
    if (typeof item === "string") out.push(item);
    else if (isTokenArray(item) && item.length > 0) out.push(item);
    else return null;
  }
  return out;
}

export function inputTokenCount(input: PromptInput): number {
  return typeof input === "string" ? textTokenCount(input) : input.length;
}
