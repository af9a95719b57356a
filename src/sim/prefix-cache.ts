// The engine's automatic prefix cache, the way vLLM V1 keeps it: the prompt is cut into blocks of
// 16 tokens, each full block is named by a hash chained over its parent's hash and its own token ids
// (vllm/v1/core/kv_cache_utils.py: hash_block_tokens / hash_request_tokens; a partial last block is
// not hashed), and a request's leading blocks found in the cache skip their prefill. Cached blocks
// are evicted least recently used first (vllm/v1/core/block_pool.py: the free block queue hands out
// the least recently freed block, dropping its hash from cached_block_hash_to_block).
// Simplification: the cache is a pool of prefix blocks of its own; vLLM shares one pool between the
// running sequences and the cached ones.

/** vLLM's default block size on GPUs (CacheConfig.block_size). */
export const BLOCK_SIZE = 16;

/**
 * The chained hashes of the full blocks of `ids`. Two 32-bit FNV-1a lanes folded into 52 bits, so
 * 10^5 distinct blocks collide with odds near 10^-6 (vLLM uses SHA-256 or Python's hash()).
 */
export function blockHashes(ids: readonly number[]): number[] {
  const blocks = Math.floor(ids.length / BLOCK_SIZE);
  const out = new Array<number>(blocks);
  let a = 2166136261;
  let b = 0x9747b28c;
  for (let k = 0; k < blocks; k++) {
    // the parent's hash is the running state: a block's hash covers every token before it
    for (let i = k * BLOCK_SIZE; i < (k + 1) * BLOCK_SIZE; i++) {
      const t = ids[i] as number;
      a = Math.imul(a ^ t, 16777619);
      b = Math.imul(b ^ (t + 0x5bd1e995), 0x01000193) ^ (b >>> 15);
    }
    out[k] = (a >>> 0) * 0x100000 + ((b >>> 0) & 0xfffff);
  }
  return out;
}

/** A bounded LRU of block hashes (Map keeps insertion order: the first key is the oldest). */
export class PrefixCache {
  private readonly blocks = new Map<number, true>();

  constructor(readonly capacityBlocks: number) {}

  get size(): number {
    return this.blocks.size;
  }

  /**
   * Looks a prompt up and caches its blocks: returns the prompt tokens found (leading full blocks
   * only, and never the whole prompt: vLLM recomputes the last token to get its logits, so a hit is
   * at most promptTokens - 1, rounded down to a block).
   */
  lookup(hashes: readonly number[], promptTokens: number): number {
    const usable = Math.min(hashes.length, Math.floor(Math.max(0, promptTokens - 1) / BLOCK_SIZE));
    let hit = 0;
    while (hit < usable && this.blocks.has(hashes[hit] as number)) hit++;
    // Tail first, as vLLM frees a request's blocks in reverse order: a prefix's first blocks are
    // the last to be evicted, so the chain breaks at its end, never at its start.
    for (let k = hashes.length - 1; k >= 0; k--) this.touch(hashes[k] as number);
    return hit * BLOCK_SIZE;
  }

  private touch(h: number): void {
    if (this.blocks.delete(h)) {
      this.blocks.set(h, true);
      return;
    }
    if (this.capacityBlocks === 0) return;
    if (this.blocks.size >= this.capacityBlocks) {
      const oldest = this.blocks.keys().next();
      if (!oldest.done) this.blocks.delete(oldest.value);
    }
    this.blocks.set(h, true);
  }
}
