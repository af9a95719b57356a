// vbatch estimate: token counts by /tokenize (exact), tokenizer.json (approximate) or characters,
// GPU time from a given or probed throughput, and provider batch prices for comparison.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type SimServer, startSim } from "../src/sim/index.js";
import { chatTokenCount, templateOptions, textTokenCount } from "../src/sim/tokens.js";
import { estimateJob } from "../src/tools/estimate/index.js";
import { BATCH_PRICES, PRICES_AS_OF } from "../src/tools/prices.js";
import { loadHfTokenizer } from "../src/tools/tokens/hf-tokenizer.js";
import { runCli } from "./helpers/cli.js";
import { chatRow, tempDir, writeJsonl } from "./helpers/files.js";

const dir = tempDir();
let n = 0;
const path = (ext = "jsonl") => join(dir, `e-${++n}.${ext}`);
const sims: SimServer[] = [];
async function sim(opts: Parameters<typeof startSim>[0] = {}): Promise<SimServer> {
  const s = await startSim({ prefillMs: 0, stepMs: 0, ...opts });
  sims.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

const rows = () => [
  chatRow(0, { model: "sim-model", maxTokens: 10 }), // "question number 0": 17 chars
  {
    ...chatRow(1, { model: "sim-model" }),
    body: { model: "sim-model", messages: [{ role: "user", content: "x".repeat(40) }], n: 2 },
  },
  {
    custom_id: "c",
    method: "POST",
    url: "/v1/completions",
    body: { model: "sim-model", prompt: ["abcd", "efgh"] },
  },
  {
    custom_id: "e",
    method: "POST",
    url: "/v1/embeddings",
    body: { model: "sim-model", input: "y".repeat(12) },
  },
];

function writeTokenizer(json: unknown): string {
  const p = path("json");
  writeFileSync(p, JSON.stringify(json));
  return p;
}

describe("estimateJob", () => {
  it("without an engine: characters / 4, output from max_tokens, documented assumptions", async () => {
    const input = writeJsonl(path(), rows());
    const r = await estimateJob({ input });
    expect(r.method).toBe("chars");
    expect(r.rows).toBe(4);
    // chat: 3 + (4 + ceil(17/4)=5) = 12 and 3 + (4 + 10) = 17; completions 1 + 1; embeddings 3
    expect(r.promptTokens).toBe(12 + 17 + 2 + 3);
    // 10; 512 assumed x n=2; vLLM's completion default 16 x 2 prompts; embeddings 0
    expect(r.outputTokens).toBe(10 + 1024 + 32);
    expect(r.rowsWithoutMaxTokens).toBe(1);
    expect(r.assumedOutputTokens).toBe(512);
    expect(r.throughput).toBeNull();
    expect(r.gpu).toBeNull();
    expect(r.pricesAsOf).toBe(PRICES_AS_OF);
    const mini = r.providers.find((p) => p.model === "gpt-4.1-mini");
    const price = BATCH_PRICES.find((p) => p.model === "gpt-4.1-mini");
    expect(mini?.cost).toBeCloseTo(
      (r.promptTokens * (price?.inputPerMillion ?? 0) + r.outputTokens * (price?.outputPerMillion ?? 0)) /
        1e6,
      12,
    );
    expect(r.providers.map((p) => p.model)).toEqual(
      expect.arrayContaining(["gpt-4o-mini", "claude-haiku-4-5"]),
    );
  });

  it("with --endpoint: exact counts from /tokenize (chat through the template)", async () => {
    const s = await sim();
    const data = rows();
    const input = writeJsonl(path(), data);
    const r = await estimateJob({ input, endpoint: s.url, concurrency: 3 });
    expect(r.method).toBe("tokenize");
    const chat0 = (data[0] as { body: { messages: unknown[] } }).body.messages;
    const chat1 = (data[1] as { body: { messages: unknown[] } }).body.messages;
    expect(r.promptTokens).toBe(
      chatTokenCount(chat0) +
        chatTokenCount(chat1) +
        2 * textTokenCount("abcd") +
        textTokenCount("y".repeat(12)),
    );
  });

  it("forwards what changes the chat template to /tokenize, so counts match what the engine bills", async () => {
    const s = await sim();
    const messages = [{ role: "user", content: "Summarize the ticket." }];
    const variants = [
      {},
      { add_generation_prompt: false },
      { continue_final_message: true, add_generation_prompt: false },
      { chat_template_kwargs: { enable_thinking: false } },
    ];
    for (const [i, extra] of variants.entries()) {
      const input = writeJsonl(path(), [
        {
          custom_id: `t-${i}`,
          method: "POST",
          url: "/v1/chat/completions",
          body: { model: "sim-model", messages, ...extra },
        },
      ]);
      const r = await estimateJob({ input, endpoint: s.url });
      expect(r.method).toBe("tokenize");
      // The engine's own usage for the same body is the reference.
      const answer = await fetch(`${s.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "sim-model", messages, max_tokens: 1, ...extra }),
      }).then((res) => res.json() as Promise<{ usage: { prompt_tokens: number } }>);
      expect(r.promptTokens, JSON.stringify(extra)).toBe(answer.usage.prompt_tokens);
    }
    // The variants really differ, so a count that ignored them would have been caught above.
    expect(new Set(variants.map((v) => chatTokenCount(messages, templateOptions(v)))).size).toBe(
      variants.length,
    );
  });

  it("--throughput and --gpu-hour-price give GPU hours and cost", async () => {
    const input = writeJsonl(path(), rows());
    const r = await estimateJob({ input, throughput: 10, gpuHourPrice: 3.6, assumeOutputTokens: 100 });
    expect(r.outputTokens).toBe(10 + 200 + 32);
    const hours = r.totalTokens / 10 / 3600;
    expect(r.gpu?.hours).toBeCloseTo(hours, 12);
    expect(r.gpu?.cost).toBeCloseTo(hours * 3.6, 12);
    expect(r.throughput).toMatchObject({ tokensPerSec: 10, source: "flag", probe: null });
  });

  it("--probe runs the first N rows through runBatch and measures tokens/s", async () => {
    const s = await sim();
    const input = writeJsonl(
      path(),
      Array.from({ length: 30 }, (_, i) => chatRow(i, { model: "sim-model" })),
    );
    const r = await estimateJob({ input, endpoint: s.url, probe: 12, gpuHourPrice: 2 });
    expect(r.throughput?.source).toBe("probe");
    expect(r.throughput?.probe).toMatchObject({ rows: 12, succeeded: 12, failed: 0 });
    expect(s.stats().completed).toBe(12);
    expect(r.throughput?.tokensPerSec).toBeGreaterThan(0);
    expect(r.gpu?.cost).toBeCloseTo((r.gpu?.hours ?? 0) * 2, 12);
  });

  it("refuses invalid lines and contradictory flags", async () => {
    const input = writeJsonl(path(), [chatRow(0), "{oops"]);
    await expect(estimateJob({ input })).rejects.toMatchObject({
      code: "invalid_input",
      message: `${input}: 1 problem`,
    });
    const good = writeJsonl(path(), [chatRow(0)]);
    await expect(estimateJob({ input: good, probe: 3 })).rejects.toThrow(/--probe .* pass --endpoint/);
    await expect(estimateJob({ input: good, probe: 3, throughput: 5, endpoint: "http://x" })).rejects.toThrow(
      /pass one/,
    );
  });
});

describe("tokenizer.json counts", () => {
  it("byte-level BPE: greedy longest match over the vocab, spaces as Ġ", () => {
    const vocab: Record<string, number> = {};
    for (const t of ["h", "e", "l", "o", "w", "r", "d", "Ġ", "hello", "Ġworld", "Ġwor", ",", "!"])
      vocab[t] = Object.keys(vocab).length;
    const tok = loadHfTokenizer(
      writeTokenizer({ model: { type: "BPE", vocab, merges: [] }, pre_tokenizer: { type: "ByteLevel" } }),
    );
    expect(tok.scheme).toBe("byte-level");
    expect(tok.countText("hello world")).toBe(2);
    expect(tok.countText("hello world!")).toBe(3);
    expect(tok.countText("hello, worlds")).toBe(4); // hello , Ġworld s (no "s" entry: one token)
  });

  it("SentencePiece (▁) with byte fallback, and BERT WordPiece with [UNK]", () => {
    const sp = loadHfTokenizer(
      writeTokenizer({
        normalizer: {
          type: "Sequence",
          normalizers: [
            { type: "Prepend", prepend: "▁" },
            { type: "Replace", pattern: { String: " " }, content: "▁" },
          ],
        },
        model: { type: "BPE", byte_fallback: true, vocab: { "▁the": 0, "▁cat": 1, "▁ca": 2, t: 3, "▁": 4 } },
      }),
    );
    expect(sp.scheme).toBe("metaspace");
    expect(sp.countText("the cat")).toBe(2);
    expect(sp.countText("the é")).toBe(1 + 1 + 2); // ▁the, ▁, é as two UTF-8 bytes
    const wp = loadHfTokenizer(
      writeTokenizer({
        normalizer: { type: "BertNormalizer", lowercase: true },
        pre_tokenizer: { type: "BertPreTokenizer" },
        model: { type: "WordPiece", vocab: { play: 0, "##ing": 1, the: 2, "[UNK]": 3, ",": 4 } },
      }),
    );
    expect(wp.scheme).toBe("wordpiece");
    expect(wp.countText("The playing, zzz")).toBe(1 + 2 + 1 + 1);
  });

  it("estimate --tokenizer says the method; a bad file is a usage error naming it", async () => {
    const vocab = { q: 0, qq: 1, qqqq: 2, Ġ: 3 };
    const file = writeTokenizer({ model: { type: "BPE", vocab }, pre_tokenizer: { type: "ByteLevel" } });
    const input = writeJsonl(path(), [
      {
        custom_id: "a",
        method: "POST",
        url: "/v1/completions",
        body: { model: "m", prompt: "qqqqqq", max_tokens: 1 },
      },
    ]);
    const r = await estimateJob({ input, tokenizer: file });
    expect(r.method).toBe("tokenizer");
    expect(r.promptTokens).toBe(2);
    expect(r.methodDescription).toMatch(/approximate/);
    const bad = writeTokenizer({ hello: 1 });
    await expect(estimateJob({ input, tokenizer: bad })).rejects.toMatchObject({
      code: "usage",
      message: expect.stringContaining(bad),
    });
  });
});

describe("vbatch estimate (CLI)", () => {
  it("prints the report, or JSON; exit 2 for bad flags", async () => {
    const s = await sim();
    const input = writeJsonl(path(), [
      chatRow(0, { model: "sim-model" }),
      chatRow(1, { model: "sim-model" }),
    ]);
    const human = await runCli([
      "estimate",
      input,
      "--endpoint",
      s.url,
      "--throughput",
      "1000",
      "--gpu-hour-price",
      "2.5",
    ]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/prompt tokens\s+24 \(exact: the engine's \/tokenize/);
    expect(human.stdout).toMatch(/GPU time/);
    expect(human.stdout).toMatch(/anthropic claude-haiku-4-5/);
    expect(human.stdout).toContain(`snapshot ${PRICES_AS_OF}`);
    const json = await runCli(["estimate", input, "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ rows: 2, method: "chars", outputTokens: 16 });
    const bad = await runCli(["estimate", input, "--probe", "5"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--probe runs rows against an engine: pass --endpoint/);
    const badNum = await runCli(["estimate", input, "--gpu-hour-price", "cheap"]);
    expect(badNum.code).toBe(2);
    expect(badNum.stderr).toMatch(/--gpu-hour-price takes a number/);
  });
});
