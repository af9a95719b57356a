// The TokenCounter for a local tokenizer.json (see hf-tokenizer.ts for how close it is).
import { approximate, type TokenCounter } from "./counter.js";
import { loadHfTokenizer } from "./hf-tokenizer.js";

export function tokenizerCounter(path: string): TokenCounter {
  const tok = loadHfTokenizer(path);
  return {
    method: "tokenizer",
    description: `approximate: greedy longest match over ${path} (${tok.modelType}, ${tok.scheme}, ${tok.vocabSize} entries), plus a few tokens a chat message`,
    count: async (_row, prompt) => ({ ok: true, tokens: approximate(prompt, tok.countText) }),
  };
}
