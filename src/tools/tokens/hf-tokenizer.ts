// A local, approximate token counter built from a HuggingFace tokenizer.json: it reads the vocab
// and guesses the pre-tokenization scheme (byte-level BPE as in GPT-2/Llama 3/Qwen, SentencePiece
// "▁" as in Llama 2/Mistral, or BERT WordPiece), then counts by greedy longest match.
import { readFileSync } from "node:fs";
import { VbatchError } from "../../errors.js";
import { isPlainObject } from "../../input/row.js";
import { byteLevel, greedyCount, type MatchOptions } from "./greedy.js";

export type TokenizerScheme = "byte-level" | "metaspace" | "wordpiece";

export interface HfTokenizer {
  scheme: TokenizerScheme;
  /** The model type named in the file (BPE, WordPiece, Unigram). */
  modelType: string;
  vocabSize: number;
  countText(text: string): number;
}

const GPT2_SPLIT = /'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const BERT_SPLIT = /[\p{L}\p{N}\p{M}]+|[^\s\p{L}\p{N}\p{M}]/gu;
const MAX_TRIED_LEN = 48;
const CACHE_LIMIT = 50_000;

function collectTypes(node: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(node)) for (const n of node) collectTypes(n, out);
  else if (isPlainObject(node)) {
    if (typeof node.type === "string") out.add(node.type);
    for (const v of Object.values(node)) if (typeof v === "object") collectTypes(v, out);
  }
  return out;
}

function vocabOf(model: Record<string, unknown>): string[] | null {
  const v = model.vocab;
  if (isPlainObject(v)) return Object.keys(v);
  if (Array.isArray(v)) return v.flatMap((e) => (Array.isArray(e) && typeof e[0] === "string" ? [e[0]] : []));
  return null;
}

function detectScheme(json: Record<string, unknown>, modelType: string, vocab: string[]): TokenizerScheme {
  const pre = collectTypes([json.pre_tokenizer, json.decoder], new Set());
  if (pre.has("ByteLevel")) return "byte-level";
  if (pre.has("Metaspace") || JSON.stringify(json.normalizer ?? null).includes("\u2581")) return "metaspace";
  if (modelType === "WordPiece" || pre.has("BertPreTokenizer")) return "wordpiece";
  let g = 0;
  let m = 0;
  for (const t of vocab) {
    if (t.startsWith("\u0120")) g++;
    else if (t.startsWith("\u2581")) m++;
  }
  return g >= m ? (g > 0 ? "byte-level" : "wordpiece") : "metaspace";
}

function readJson(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new VbatchError("usage", `--tokenizer ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const json: unknown = JSON.parse(text);
    if (isPlainObject(json)) return json;
  } catch {
    // reported below
  }
  throw new VbatchError("usage", `--tokenizer ${path} is not a JSON object (expected a tokenizer.json)`);
}

export function loadHfTokenizer(path: string): HfTokenizer {
  const json = readJson(path);
  const model = isPlainObject(json.model) ? json.model : {};
  const modelType = typeof model.type === "string" ? model.type : "BPE";
  const vocab = vocabOf(model);
  if (!vocab || vocab.length === 0) {
    throw new VbatchError(
      "usage",
      `--tokenizer ${path} has no model.vocab (is it a HuggingFace tokenizer.json?)`,
    );
  }
  const scheme = detectScheme(json, modelType, vocab);
  const normalizer = JSON.stringify(json.normalizer ?? null);
  const lowercase =
    collectTypes(json.normalizer, new Set()).has("Lowercase") || /"lowercase":\s*true/.test(normalizer);
  const preText = JSON.stringify(json.pre_tokenizer ?? null);
  const prefixSpace = !/"prepend_scheme":\s*"never"|"add_prefix_space":\s*false/.test(preText);
  const byteFallback = model.byte_fallback === true;
  const set = new Set(vocab);
  let maxLen = 1;
  for (const t of vocab) if (t.length > maxLen) maxLen = t.length;
  const match: MatchOptions = {
    vocab: set,
    maxLen: Math.min(maxLen, MAX_TRIED_LEN),
    continuation: scheme === "wordpiece" ? String(model.continuing_subword_prefix ?? "##") : "",
    fallback:
      scheme === "wordpiece"
        ? () => null
        : scheme === "metaspace" && byteFallback
          ? (c) => Buffer.byteLength(c, "utf8")
          : () => 1,
  };
  const cache = new Map<string, number>();
  const countWord = (word: string): number => {
    const hit = cache.get(word);
    if (hit !== undefined) return hit;
    const n = greedyCount(scheme === "byte-level" ? byteLevel(word) : word, match) ?? 1; // [UNK]
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(word, n);
    return n;
  };
  const countText = (raw: string): number => {
    const text = lowercase ? raw.toLowerCase() : raw;
    if (text.length === 0) return 0;
    let words: string[];
    if (scheme === "byte-level") words = text.match(GPT2_SPLIT) ?? [];
    else if (scheme === "wordpiece") words = text.match(BERT_SPLIT) ?? [];
    else {
      const spaced = text.replace(/ /g, "\u2581");
      words = (prefixSpace && !spaced.startsWith("\u2581") ? `\u2581${spaced}` : spaced).split(/(?=\u2581)/);
    }
    let n = 0;
    for (const w of words) n += countWord(w);
    return n;
  };
  return { scheme, modelType, vocabSize: set.size, countText };
}
