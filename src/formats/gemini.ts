// Gemini API batch lines: {key, request: GenerateContentRequest}, translated to a chat completion;
// results as {key, response: GenerateContentResponse} or {key, error: Status}.
import { GeminiError } from "./gemini/fields.js";
import { geminiToChat } from "./gemini/request.js";
import { geminiResult } from "./gemini/response.js";
import { refuseLossyNumbers } from "./lossless.js";
import type { BatchFormat, ParseResult } from "./types.js";

export const geminiFormat: BatchFormat = {
  name: "gemini",
  label: "Gemini",
  idField: "key",
  matches: (v) =>
    v.request !== undefined && v.url === undefined && v.body === undefined && v.params === undefined,
  parse(value, text, customId): ParseResult {
    const lossy = refuseLossyNumbers(text, "request", customId);
    if (lossy) return lossy;
    try {
      const body = geminiToChat(value.request);
      return {
        ok: true,
        row: {
          customId,
          url: "/v1/chat/completions",
          body,
          bodyText: JSON.stringify(body),
          format: "gemini",
        },
      };
    } catch (err) {
      if (err instanceof GeminiError) {
        const where = err.message.startsWith("must ") ? "request " : "request.";
        return { ok: false, message: `${where}${err.message}`, customId };
      }
      throw err;
    }
  },
  outputLine: (line) => `${JSON.stringify(geminiResult(JSON.parse(line)))}\n`,
};
