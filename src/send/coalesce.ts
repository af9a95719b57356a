// Embedding rows are small and many: single-input /v1/embeddings rows that share a model and
// parameters are sent as one request with an `input` array, and the vectors fanned back out so
// each row still gets its own output line with its own share of the usage. Bodies stay text: the
// group's body is the first row's, with its `input` replaced.
import { memberSpan } from "../input/json-scan.js";
import { isPlainObject } from "../input/row.js";

/** Rows per coalesced request. */
export const MAX_GROUP = 64;

/** A row that may share a request: its group key (the body without its input) and its input. */
export interface Coalescible {
  key: string;
  input: string;
  /** Where the `input` value sits in the body text. */
  span: [number, number];
}

/** How a row can be coalesced, or null when it cannot. `bodyText` is the body as it will be sent. */
export function coalescible(
  url: string,
  body: Record<string, unknown>,
  bodyText: string,
): Coalescible | null {
  if (url !== "/v1/embeddings") return null;
  const input = singleInput(body.input);
  if (input === null) return null;
  const span = memberSpan(bodyText, "input");
  if (span === null) return null;
  return { key: bodyText.slice(0, span[0]) + bodyText.slice(span[1]), input, span };
}

/** The one text of a single-input row ("text" or ["text"]), else null. */
export function singleInput(input: unknown): string | null {
  if (typeof input === "string") return input;
  if (Array.isArray(input) && input.length === 1 && typeof input[0] === "string") return input[0];
  return null;
}

/** The body of the coalesced request: the first row's body with every row's input. */
export function groupBody(firstBody: string, span: [number, number], inputs: string[]): string {
  return `${firstBody.slice(0, span[0])}${JSON.stringify(inputs)}${firstBody.slice(span[1])}`;
}

/** Integer shares of `total` proportional to `weights`, summing exactly to `total`. */
export function shares(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0) || weights.length;
  const raw = weights.map((w) => (total * (sum === weights.length && w === 0 ? 1 : w)) / sum);
  const out = raw.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left <= 0) break;
    out[i] = (out[i] as number) + 1;
    left--;
  }
  return out;
}

/**
 * Splits an embeddings answer for `n` inputs into `n` single-input answers, shaped as the engine
 * would have answered each row alone. Null if the answer does not have `n` vectors.
 */
export function splitEmbeddings(text: string, weights: number[]): string[] | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isPlainObject(parsed) || !Array.isArray(parsed.data) || parsed.data.length !== weights.length)
    return null;
  const byIndex = new Array<unknown>(weights.length);
  for (const d of parsed.data) {
    if (!isPlainObject(d) || typeof d.index !== "number" || d.index < 0 || d.index >= weights.length)
      return null;
    byIndex[d.index] = d;
  }
  const usage = isPlainObject(parsed.usage) ? parsed.usage : {};
  const prompt = shares(typeof usage.prompt_tokens === "number" ? usage.prompt_tokens : 0, weights);
  const { data: _data, usage: _usage, ...rest } = parsed;
  return byIndex.map((d, i) =>
    JSON.stringify({
      ...rest,
      data: [{ ...(d as Record<string, unknown>), index: 0 }],
      usage: { prompt_tokens: prompt[i], total_tokens: prompt[i], completion_tokens: 0 },
    }),
  );
}
