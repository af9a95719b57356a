// src/shard/ splits one input across orchestrators: a row's shard (here) and, for --shard auto,
// this process's shard from the cluster scheduler's environment (env.ts).
//
// Which shard a row belongs to when one input is split across several orchestrators
// (`vbatch run --shard i/N`): a stable hash of its custom_id, so every process agrees without
// talking to the others, and a re-run puts every row in the same shard again.

/** This process's part of an input split across orchestrators: shard `index` of `count`. */
export interface Shard {
  index: number;
  count: number;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a, 32 bits, over the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    // Hash the UTF-8 encoding without allocating a Buffer per id.
    if (c < 0x80) {
      h = Math.imul(h ^ c, FNV_PRIME);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // a lone surrogate encodes as U+FFFD
    const bytes =
      c < 0x800
        ? [0xc0 | (c >> 6), 0x80 | (c & 63)]
        : c < 0x10000
          ? [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)]
          : [0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)];
    for (const b of bytes) h = Math.imul(h ^ b, FNV_PRIME);
  }
  return h >>> 0;
}

/** The 0-based shard (of `shards`) that `customId` belongs to. */
export function shardOf(customId: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1) {
    throw new RangeError(`shards must be an integer >= 1 (got ${shards})`);
  }
  return fnv1a32(customId) % shards;
}
