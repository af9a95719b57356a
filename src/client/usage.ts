// Token usage from an answer without parsing it: embeddings answers carry thousands of floats,
// and the runner needs two integers. vLLM writes "usage" last, so a scan from the end is short.

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

function lastInt(text: string, key: string): number {
  const at = text.lastIndexOf(key);
  if (at === -1) return 0;
  let i = at + key.length;
  while (text.charCodeAt(i) === 32) i++;
  let n = 0;
  let digits = 0;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
    digits++;
    i++;
  }
  return digits > 0 ? n : 0;
}

/**
 * The usage of an answer: prompt_tokens/completion_tokens (chat, completions, embeddings, score,
 * rerank), or input_tokens/output_tokens (the Responses API).
 */
export function extractUsage(body: string): Usage {
  if (body.lastIndexOf('"prompt_tokens"') === -1 && body.lastIndexOf('"input_tokens"') !== -1) {
    return {
      promptTokens: lastInt(body, '"input_tokens":'),
      completionTokens: lastInt(body, '"output_tokens":'),
    };
  }
  return {
    promptTokens: lastInt(body, '"prompt_tokens":'),
    completionTokens: lastInt(body, '"completion_tokens":'),
  };
}

/** Cheap check that a body can be spliced into a JSON line as a value. */
export function looksLikeJsonObject(body: string): boolean {
  let s = 0;
  let e = body.length - 1;
  while (s <= e && body.charCodeAt(s) <= 32) s++;
  while (e >= s && body.charCodeAt(e) <= 32) e--;
  return s < e && body.charCodeAt(s) === 123 && body.charCodeAt(e) === 125;
}

/** A body as a JSON value for an output line: itself if it is JSON, else as a JSON string. */
export function asJsonValue(body: string): string {
  if (body.length === 0) return "null";
  try {
    JSON.parse(body);
    return body;
  } catch {
    return JSON.stringify(body);
  }
}
