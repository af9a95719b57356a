// Anthropic Message Batch lines: {custom_id, params}, translated to a chat completion; results as
// Anthropic's {custom_id, result: {type, message | error}}.
import { anthropicToChat, TranslateError } from "../anthropic/request.js";
import { toAnthropicLine } from "../output/anthropic.js";
import { isPlainObject } from "../util/object.js";
import { translatedRow } from "./translated.js";
import type { BatchFormat } from "./types.js";

export const anthropicFormat: BatchFormat = {
  name: "anthropic",
  label: "Anthropic",
  idField: "custom_id",
  matches: (v) => v.params !== undefined,
  parse: (value, text, customId) =>
    translatedRow({
      format: "anthropic",
      member: "params",
      text,
      customId,
      translate: () => ({ url: "/v1/chat/completions", body: anthropicToChat(value.params) }),
      refusal: (err) => (err instanceof TranslateError ? err.under("params") : null),
    }),
  outputLine: (line) => toAnthropicLine(line),
  // {custom_id, result: {type: "errored", error: {error: {type}}}}, or an expired / canceled result.
  failure: (v) => {
    const result = isPlainObject(v.result) ? v.result : null;
    if (typeof v.custom_id !== "string" || !result || result.type === "succeeded") return null;
    if (result.type !== "errored") return { id: v.custom_id, codes: [String(result.type)] };
    const outer = isPlainObject(result.error) ? result.error : {};
    const inner = isPlainObject(outer.error) ? outer.error : {};
    return { id: v.custom_id, codes: typeof inner.type === "string" ? [inner.type] : [] };
  },
};
