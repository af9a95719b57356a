// Log probabilities for the simulator's replies, in vLLM's chat shape (ChatCompletionLogProbs in
// vllm/entrypoints/openai/chat_completion/protocol.py): choices[].logprobs.content[] of
// {token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}, one entry a generated token.
import { hash16 } from "./replies.js";
import { textTokenCount } from "./tokens.js";

interface TokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
}

export interface LogprobsContent extends TokenLogprob {
  top_logprobs: TokenLogprob[];
}

/** A stable log probability in (-2, 0] for a token at a position. */
function simLogprob(token: string, position: number, rank: number): number {
  const h = Number.parseInt(hash16(`${position}\u0000${token}`).slice(0, 6), 16) / 0xffffff;
  return -Math.round((h + rank) * 2_000) / 1_000;
}

function entry(token: string, logprob: number): TokenLogprob {
  return { token, logprob, bytes: [...Buffer.from(token, "utf8")] };
}

/** The logprobs of `text` cut into the sim's tokens (four characters each), `top` alternatives each. */
export function simLogprobs(text: string, top: number): { content: LogprobsContent[] } {
  const content: LogprobsContent[] = [];
  for (let i = 0; i < textTokenCount(text); i++) {
    const token = text.slice(i * 4, i * 4 + 4);
    const chosen = entry(token, simLogprob(token, i, 0));
    const alternatives: TokenLogprob[] = [];
    for (let r = 0; r < top; r++) {
      alternatives.push(r === 0 ? chosen : entry(`${token}~${r}`, simLogprob(token, i, r)));
    }
    content.push({ ...chosen, top_logprobs: alternatives });
  }
  return { content };
}
