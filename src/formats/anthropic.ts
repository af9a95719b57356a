// Anthropic Message Batch lines: {custom_id, params}, translated to a chat completion; results as
// Anthropic's {custom_id, result: {type, message | error}}.
import { anthropicToChat, TranslateError } from "../anthropic/request.js";
import { toAnthropicLine } from "../output/anthropic.js";
import { refuseLossyNumbers } from "./lossless.js";
import type { BatchFormat, ParseResult } from "./types.js";

export const anthropicFormat: BatchFormat = {
  name: "anthropic",
  label: "Anthropic",
  idField: "custom_id",
  matches: (v) => v.params !== undefined,
  parse(value, text, customId): ParseResult {
    const lossy = refuseLossyNumbers(text, "params", customId);
    if (lossy) return lossy;
    try {
      const body = anthropicToChat(value.params);
      return {
        ok: true,
        row: {
          customId,
          url: "/v1/chat/completions",
          body,
          bodyText: JSON.stringify(body),
          format: "anthropic",
        },
      };
    } catch (err) {
      if (err instanceof TranslateError) return { ok: false, message: `params.${err.message}`, customId };
      throw err;
    }
  },
  outputLine: (line) => toAnthropicLine(line),
};
