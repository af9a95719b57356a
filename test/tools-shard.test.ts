// shardOf: the hash `--shard i/N` relies on must never change and must spread ids evenly.
import { describe, expect, it } from "vitest";
import { fnv1a32, shardOf } from "../src/shard/shard.js";

describe("shardOf", () => {
  it("is FNV-1a 32 over UTF-8 bytes (known vectors)", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
    // Multi-byte characters hash their UTF-8 encoding, same as hashing the bytes.
    for (const s of ["é", "日本語", "emoji 😀", "mixed-ü-😀-x"]) {
      let h = 0x811c9dc5;
      for (const b of Buffer.from(s, "utf8")) h = Math.imul(h ^ b, 0x01000193);
      expect(fnv1a32(s)).toBe(h >>> 0);
    }
  });

  it("is stable: fixed ids always land in the same shard", () => {
    expect(shardOf("a", 1000)).toBe(0xe40c292c % 1000);
    expect([0, 1, 2, 3, 4].map((i) => shardOf(`row-${i}`, 4))).toEqual(
      [0, 1, 2, 3, 4].map((i) => fnv1a32(`row-${i}`) % 4),
    );
    expect(shardOf("anything", 1)).toBe(0);
  });

  it("spreads 100k ids evenly over 8 shards", () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 100_000; i++)
      counts[shardOf(`row-${i}`, 8)] = (counts[shardOf(`row-${i}`, 8)] ?? 0) + 1;
    for (const c of counts) expect(Math.abs(c - 12_500)).toBeLessThan(12_500 * 0.05);
  });

  it("refuses a shard count that is not a positive integer", () => {
    expect(() => shardOf("x", 0)).toThrow(RangeError);
    expect(() => shardOf("x", 1.5)).toThrow(RangeError);
  });
});
