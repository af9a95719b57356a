// The simulator's prefix cache over real loopback HTTP: blocks of 16 hashed in chains, hits only for
// leading blocks, LRU eviction, and counters with vLLM V1's names that match the requests sent.
// Counts only, never durations.

import { afterEach, describe, expect, it } from "vitest";
import { type SimOptions, type SimServer, startSim } from "../src/sim/index.js";
import { BLOCK_SIZE, blockHashes, PrefixCache } from "../src/sim/prefix-cache.js";
import { transcript } from "./helpers/stand-ins.js";

const servers: SimServer[] = [];

async function sim(options: SimOptions = {}): Promise<SimServer> {
  const server = await startSim({ prefillMs: 0, stepMs: 0, ...options });
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function ask(s: SimServer, system: string, question: string): Promise<number> {
  const res = await fetch(`${s.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      messages: [
        { role: "system", content: system },
        { role: "user", content: question },
      ],
    }),
  });
  const body = (await res.json()) as { usage: { prompt_tokens: number } };
  return body.usage.prompt_tokens;
}

function counter(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`${name} missing`);
  return Number(line.slice(line.lastIndexOf(" ") + 1));
}

const DOC = "The quarterly report covers revenue, churn and hiring in every region. ".repeat(40);

describe("the simulator's prefix cache", () => {
  it("hashes only full blocks, each over everything before it", () => {
    const ids = Array.from({ length: 40 }, (_, i) => 100 + i);
    const hashes = blockHashes(ids);
    expect(hashes).toHaveLength(2);
    const other = blockHashes([999, ...ids.slice(1)]);
    // one token changed in the first block changes every later block's hash too
    expect(other[0]).not.toBe(hashes[0]);
    expect(other[1]).not.toBe(hashes[1]);
    expect(blockHashes(ids.slice(0, 32))).toEqual(hashes);
  });

  it("finds leading blocks only, never the whole prompt, and evicts the least recently used", () => {
    const cache = new PrefixCache(4);
    const a = blockHashes(Array.from({ length: 48 }, (_, i) => i + 100));
    expect(cache.lookup(a, 48)).toBe(0);
    // all three blocks cached, but the last token is always computed: two blocks count
    expect(cache.lookup(a, 48)).toBe(2 * BLOCK_SIZE);
    expect(cache.lookup(a, 49)).toBe(3 * BLOCK_SIZE);
    const b = blockHashes(Array.from({ length: 32 }, (_, i) => i + 5000));
    cache.lookup(b, 33);
    // 5 blocks into room for 4: a's tail block went first, its head stays
    expect(cache.size).toBe(4);
    expect(cache.lookup(a, 49)).toBe(2 * BLOCK_SIZE);
  });

  it("counts queries and hits in vLLM's names, matching the prompt tokens of the requests sent", async () => {
    const s = await sim();
    let prompt = 0;
    for (const q of ["What was revenue?", "Who was hired?", "What was churn?"])
      prompt += await ask(s, DOC, q);
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(counter(text, "vllm:prefix_cache_queries_total")).toBe(prompt);
    const hits = counter(text, "vllm:prefix_cache_hits_total");
    // the second and third questions find the document's blocks; the first finds nothing
    const docBlocks = Math.floor(DOC.length / 4 / BLOCK_SIZE);
    expect(hits).toBeGreaterThanOrEqual(2 * (docBlocks - 1) * BLOCK_SIZE);
    expect(hits).toBeLessThan((prompt / 3) * 2);
    expect(s.stats()).toMatchObject({ prefixCacheQueries: prompt, prefixCacheHits: hits });
  });

  it("writes the counters as a real vLLM /metrics page does", async () => {
    const s = await sim();
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const real = transcript("vllm-metrics-prefix-cache")
      .split("\n")
      .filter((l) => l.startsWith("# "));
    for (const line of real) expect(text).toContain(line);
  });

  it("with no cache, counts nothing and finds nothing", async () => {
    const s = await sim({ prefixCacheTokens: 0 });
    await ask(s, DOC, "What was revenue?");
    await ask(s, DOC, "What was churn?");
    expect(s.stats()).toMatchObject({ prefixCacheQueries: 0, prefixCacheHits: 0 });
  });
});
