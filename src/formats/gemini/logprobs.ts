// vLLM's chat logprobs (choices[].logprobs.content[] of {token, logprob, bytes, top_logprobs}) as
// Gemini's: Candidate.logprobsResult {topCandidates: [{candidates}], chosenCandidates,
// logProbabilitySum} of LogprobsResultCandidate {token, logProbability}, and Candidate.avgLogprobs
// (@google/genai 2.32.0 dist/genai.d.ts: LogprobsResult, LogprobsResultCandidate,
// LogprobsResultTopCandidates, Candidate). vLLM names tokens, not their ids, so tokenId is absent.
import { isPlainObject } from "../../util/object.js";
import type { Obj } from "./fields.js";

function candidate(e: Obj): Obj | null {
  if (typeof e.token !== "string" || typeof e.logprob !== "number") return null;
  return { token: e.token, logProbability: e.logprob };
}

/** The candidate's logprobs fields, or {} when vLLM sent none. */
export function geminiLogprobs(choice: Obj): { logprobsResult?: Obj; avgLogprobs?: number } {
  const lp = isPlainObject(choice.logprobs) ? choice.logprobs : null;
  if (!lp || !Array.isArray(lp.content)) return {};
  const steps = lp.content.filter(isPlainObject);
  const chosen: Obj[] = [];
  const top: Obj[] = [];
  let sum = 0;
  for (const step of steps) {
    const c = candidate(step);
    if (!c) continue;
    chosen.push(c);
    sum += step.logprob as number;
    const alternatives = Array.isArray(step.top_logprobs) ? step.top_logprobs.filter(isPlainObject) : [];
    top.push({ candidates: alternatives.map(candidate).filter((x): x is Obj => x !== null) });
  }
  // Top candidates exist only when they were asked for (generationConfig.logprobs > 0).
  const asked = top.some((t) => (t.candidates as Obj[]).length > 0);
  const result: Obj = asked
    ? { topCandidates: top, chosenCandidates: chosen, logProbabilitySum: sum }
    : { chosenCandidates: chosen, logProbabilitySum: sum };
  return chosen.length === 0
    ? { logprobsResult: result }
    : { logprobsResult: result, avgLogprobs: sum / chosen.length };
}
