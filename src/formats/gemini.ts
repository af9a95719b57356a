// Gemini API batch lines: {key, request: GenerateContentRequest}, translated to a chat completion;
// results as {key, response: GenerateContentResponse} or {key, error: Status}.
import { GeminiError } from "./gemini/fields.js";
import { geminiToChat } from "./gemini/request.js";
import { geminiFailure, geminiResult } from "./gemini/response.js";
import { translatedRow } from "./translated.js";
import type { BatchFormat } from "./types.js";

export const geminiFormat: BatchFormat = {
  name: "gemini",
  label: "Gemini",
  idField: "key",
  matches: (v) =>
    v.request !== undefined && v.url === undefined && v.body === undefined && v.params === undefined,
  parse: (value, text, customId) =>
    translatedRow({
      format: "gemini",
      member: "request",
      text,
      customId,
      translate: () => ({ url: "/v1/chat/completions", body: geminiToChat(value.request) }),
      refusal: (err) => {
        if (!(err instanceof GeminiError)) return null;
        return `${err.message.startsWith("must ") ? "request " : "request."}${err.message}`;
      },
    }),
  outputLine: (line) => `${JSON.stringify(geminiResult(JSON.parse(line)))}\n`,
  failure: geminiFailure,
};
