// Approximate subword tokenization: greedy longest match against a vocabulary. Real BPE applies
// merges in rank order and Unigram picks the likeliest split, but for counting tokens the longest
// match lands within a few percent of both, without porting either algorithm.

/** GPT-2's map from bytes to printable characters, used by byte-level BPE vocabularies ("Ġ" = space). */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map = new Array<string>(256);
  for (const b of printable) map[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (map[b] === undefined) map[b] = String.fromCharCode(256 + n++);
  }
  return map;
})();

export function byteLevel(text: string): string {
  let out = "";
  for (const b of Buffer.from(text, "utf8")) out += BYTE_TO_CHAR[b];
  return out;
}

export interface MatchOptions {
  vocab: ReadonlySet<string>;
  /** Longest vocabulary entry worth trying, in UTF-16 units. */
  maxLen: number;
  /** Prefix of non-initial pieces (WordPiece "##"), or "". */
  continuation: string;
  /** Tokens for a character no entry covers; null makes the whole word unmatched. */
  fallback: (char: string) => number | null;
}

/** Tokens in `word` by greedy longest match, or null when a character cannot be covered. */
export function greedyCount(word: string, o: MatchOptions): number | null {
  let i = 0;
  let n = 0;
  while (i < word.length) {
    const prefix = i > 0 ? o.continuation : "";
    let end = Math.min(word.length, i + o.maxLen);
    for (; end > i; end--) {
      if (o.vocab.has(prefix + word.slice(i, end))) break;
    }
    if (end > i) {
      n++;
      i = end;
      continue;
    }
    const cp = word.codePointAt(i) as number;
    const char = String.fromCodePoint(cp);
    const cost = o.fallback(char);
    if (cost === null) return null;
    n += cost;
    i += char.length;
  }
  return n;
}
