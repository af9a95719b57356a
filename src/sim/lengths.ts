// How many tokens a request generates. Real outputs vary in length, which spreads completions out
// in time; one fixed length makes them arrive in waves. The draw is a hash of the request body, so
// the same prompt gets the same length on every engine, every retry and every run.

/** The output length plan: every request `mean` tokens, or uniform within `mean x (1 ± spread)`. */
export interface OutputLengths {
  mean: number;
  /** Half-width of the range as a share of the mean (0 = every request the same). */
  spread: number;
}

/** A number in [0, 1) from the request text: FNV-1a, then murmur3's finaliser to mix the low bits. */
export function bodyDraw(raw: string): number {
  let h = 2166136261;
  for (let i = 0; i < raw.length; i++) h = Math.imul(h ^ raw.charCodeAt(i), 16777619);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** The tokens a request with this raw body generates before any max_tokens cap (at least 1). */
export function outputTokensFor(plan: OutputLengths, raw: string): number {
  if (plan.spread === 0) return plan.mean;
  const u = bodyDraw(raw);
  return Math.max(1, Math.round(plan.mean * (1 + plan.spread * (2 * u - 1))));
}
