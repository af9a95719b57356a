// Pure pieces: line splitting, row validation, retry rules, usage scan, limits, coalescing.
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { renderProgress } from "../src/cli/progress-line.js";
import { renderSummary } from "../src/cli/summary.js";
import { normalizeEndpoint } from "../src/client/endpoint.js";
import { backoffDelay, isRetryableStatus, retryDelay } from "../src/client/retry.js";
import { extractUsage, looksLikeJsonObject } from "../src/client/usage.js";
import { parseRetryAfter } from "../src/client/wire.js";
import { readLineBatches } from "../src/input/lines.js";
import { parseRow } from "../src/input/row.js";
import { LineSet } from "../src/journal/bitset.js";
import { Engine } from "../src/pool/engine.js";
import { Router } from "../src/pool/router.js";
import type { RunProgress } from "../src/progress/progress.js";
import { LatencyLimit } from "../src/schedule/latency-limit.js";
import { FixedLimit } from "../src/schedule/limit.js";
import { parseVllmLoad } from "../src/schedule/prometheus.js";
import { VllmMetricsLimit } from "../src/schedule/vllm-limit.js";
import { coalescible, groupBody, shares, splitEmbeddings } from "../src/send/coalesce.js";

async function lines(chunks: string[]) {
  const out: { lineNo: number; text: string }[] = [];
  for await (const b of readLineBatches(Readable.from(chunks.map((c) => Buffer.from(c))))) out.push(...b);
  return out;
}

describe("readLineBatches", () => {
  it("splits across chunks, strips CRLF, skips blank lines but counts them", async () => {
    expect(
      (await lines(['{"a":', '1}\r\n\n  \n{"b":2}'])).map(({ lineNo, text }) => ({ lineNo, text })),
    ).toEqual([
      { lineNo: 1, text: '{"a":1}' },
      { lineNo: 4, text: '{"b":2}' },
    ]);
  });
  it("keeps multi-byte characters split across chunks whole", async () => {
    const bytes = Buffer.from('{"t":"héllo"}\n');
    const parts = [bytes.subarray(0, 8), bytes.subarray(8)];
    const out: string[] = [];
    for await (const b of readLineBatches(Readable.from(parts))) out.push(...b.map((l) => l.text));
    expect(out).toEqual(['{"t":"héllo"}']);
  });
});

describe("parseRow", () => {
  const ok = { custom_id: "a", method: "POST", url: "/v1/embeddings", body: { input: "x" } };
  it("accepts a valid row", () => {
    expect(parseRow(JSON.stringify(ok)).ok).toBe(true);
  });
  it.each([
    ["{", /malformed JSON/],
    ["[1]", /not a JSON object/],
    [JSON.stringify({ ...ok, custom_id: "" }), /non-empty string/],
    [JSON.stringify({ ...ok, custom_id: 7 }), /non-empty string/],
    [JSON.stringify({ ...ok, custom_id: "x".repeat(600) }), /longer than 512/],
    [JSON.stringify({ ...ok, method: "PUT" }), /unsupported method/],
    [JSON.stringify({ ...ok, url: "/v1/files" }), /unsupported url/],
    [JSON.stringify({ ...ok, body: "s" }), /body must be a JSON object/],
    [JSON.stringify({ ...ok, body: { stream: true } }), /stream/],
    [JSON.stringify({ ...ok, body: { model: 3 } }), /body.model/],
  ])("refuses %s", (text, message) => {
    const r = parseRow(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });
});

describe("retry rules", () => {
  it("retries timeouts, conflicts, rate limits and server errors only", () => {
    expect([408, 409, 429, 500, 502, 503].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 422].some(isRetryableStatus)).toBe(false);
  });
  it("backs off exponentially with jitter, capped", () => {
    const o = { baseMs: 100, maxMs: 1000 };
    expect(backoffDelay(1, o, () => 0)).toBe(50);
    expect(backoffDelay(1, o, () => 1)).toBe(100);
    expect(backoffDelay(3, o, () => 1)).toBe(400);
    expect(backoffDelay(10, o, () => 1)).toBe(1000);
    expect(retryDelay(1, 2500, o)).toBe(2500);
  });
  it("parses Retry-After as seconds, ms, or a date", () => {
    expect(parseRetryAfter(undefined, "2")).toBe(2000);
    expect(parseRetryAfter("150", "2")).toBe(150);
    expect(parseRetryAfter(undefined, new Date(Date.now() + 60_000).toUTCString())).toBeGreaterThan(50_000);
    expect(parseRetryAfter(undefined, "soon")).toBeNull();
  });
});

describe("usage scan", () => {
  it("reads the last usage block without parsing", () => {
    const body = JSON.stringify({
      choices: [{ message: { content: '"prompt_tokens": 999' } }],
      usage: { prompt_tokens: 12, completion_tokens: 5, completion_tokens_details: null },
    });
    expect(extractUsage(body)).toEqual({ promptTokens: 12, completionTokens: 5 });
    expect(looksLikeJsonObject(" {} ")).toBe(true);
    expect(looksLikeJsonObject("<html>")).toBe(false);
  });
});

describe("endpoints", () => {
  it("treats /v1 and trailing slashes as the same engine", () => {
    expect(normalizeEndpoint("http://h:8000/v1/")).toBe("http://h:8000");
    expect(normalizeEndpoint("https://x.modal.run")).toBe("https://x.modal.run");
    expect(normalizeEndpoint("http://h/prefix/v1")).toBe("http://h/prefix");
    expect(() => normalizeEndpoint("h:8000")).toThrow(/http/);
  });
});

describe("LineSet", () => {
  it("grows and counts", () => {
    const s = new LineSet(4);
    for (const n of [1, 7, 8, 100_000, 7]) s.add(n);
    expect(s.size).toBe(4);
    expect(s.has(100_000) && s.has(8) && !s.has(9)).toBe(true);
  });
});

describe("vLLM metrics", () => {
  it("sums series across label sets", () => {
    const text = [
      "# HELP vllm:num_requests_running x",
      'vllm:num_requests_running{engine="0",model_name="m"} 3.0',
      'vllm:num_requests_running{engine="1",model_name="m"} 4.0',
      'vllm:num_requests_waiting{engine="0",model_name="m"} 1.0 1700000000',
      'vllm:num_requests_waiting{engine="1",model_name="m"} 0.0',
      'vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.5',
      'vllm:kv_cache_usage_perc{engine="1",model_name="m"} 0.25',
    ].join("\n");
    expect(parseVllmLoad(text)).toEqual({ running: 7, waiting: 1, kvCacheUsage: 0.375 });
    expect(parseVllmLoad("http_requests_total 5")).toBeNull();
  });

  it("grows while the engine has free slots, then holds a small queue", () => {
    const limit = new VllmMetricsLimit({ initial: 64 });
    // A 1024-slot engine that runs whatever we send.
    for (let i = 0; i < 20; i++) {
      const held = limit.current();
      const running = Math.min(1024, held);
      limit.onLoad({ running, waiting: Math.max(0, held - 1024), kvCacheUsage: 0.1 }, held);
    }
    const target = VllmMetricsLimit.targetWaiting(1024);
    expect(limit.current()).toBeGreaterThanOrEqual(1024);
    expect(limit.current()).toBeLessThanOrEqual(1024 + 2 * target);
  });

  it("does not grow when the engine has not yet received what we allowed", () => {
    const limit = new VllmMetricsLimit({ initial: 256, startWindow: 256 });
    limit.onLoad({ running: 10, waiting: 0, kvCacheUsage: 0 }, 256);
    expect(limit.current()).toBe(256);
  });

  it("shrinks towards the batch when over-filled", () => {
    const limit = new VllmMetricsLimit({ initial: 256, startWindow: 256 });
    for (let i = 0; i < 10; i++) {
      const held = limit.current();
      limit.onLoad({ running: Math.min(64, held), waiting: Math.max(0, held - 64), kvCacheUsage: 0.9 }, held);
    }
    expect(limit.current()).toBeLessThan(80);
    expect(limit.current()).toBeGreaterThan(64);
  });
});

describe("vLLM metrics limit: finding the batch", () => {
  /** An engine with `slots` slots that receives all but `transit` of what we hold. */
  const scrape = (limit: VllmMetricsLimit, slots: number, transit = 0) => {
    const held = limit.current();
    const arrived = Math.floor(held * (1 - transit));
    const load = {
      running: Math.min(slots, arrived),
      waiting: Math.max(0, arrived - slots),
      kvCacheUsage: 0.5,
    };
    limit.onLoad(load, held);
    return load;
  };

  it("starts many engines from a small window, so they cannot take a whole job before a scrape", async () => {
    expect(new VllmMetricsLimit({ initial: 256 }).current()).toBe(32);
    expect(new VllmMetricsLimit({ initial: 16 }).current()).toBe(16);
    const opts = { kind: "http" as const, timeoutMs: 1000, maxConnections: 4 };
    const engines = Array.from(
      { length: 64 },
      (_, i) => new Engine(`http://127.0.0.1:${i + 1}`, new VllmMetricsLimit({ initial: 256 }), opts),
    );
    const router = new Router(engines);
    // 8,000 rows over 64 engines: 2,048 go out before the first scrape, not all of them.
    expect(router.capacity()).toBe(64 * 32);
    // One scrape of each 8-slot engine shows its queue; the limits fall to the batch plus a
    // small queue, and the rows held beyond that are all that sits in their queues.
    for (const e of engines) {
      e.inFlight = e.limit.current();
      scrape(e.limit as VllmMetricsLimit, 8);
      expect((e.limit as VllmMetricsLimit).starting).toBe(false);
    }
    expect(router.capacity()).toBe(64 * 32);
    for (const e of engines) e.inFlight = 0;
    expect(router.capacity()).toBeLessThanOrEqual(64 * (8 + 2 * VllmMetricsLimit.targetWaiting(8)));
    await Promise.all(engines.map((e) => e.transport.close()));
  });

  it("doubles from what the engine runs, by half past the expected batch, and never on a lagging scrape", () => {
    const limit = new VllmMetricsLimit({ initial: 256 });
    expect(limit.starting).toBe(true);
    limit.onLoad({ running: 32, waiting: 0, kvCacheUsage: 0.1 }, 32);
    expect(limit.current()).toBe(64);
    // The scrape left before the 32 new requests arrived: it shows the old count.
    limit.onLoad({ running: 32, waiting: 0, kvCacheUsage: 0.1 }, 64);
    expect(limit.current()).toBe(64);
    // Part arrived: grow from what runs, not from what we sent.
    limit.onLoad({ running: 50, waiting: 0, kvCacheUsage: 0.1 }, 64);
    expect(limit.current()).toBe(100);
    limit.onLoad({ running: 100, waiting: 0, kvCacheUsage: 0.1 }, 100);
    limit.onLoad({ running: 200, waiting: 0, kvCacheUsage: 0.1 }, 200);
    expect(limit.current()).toBe(400);
    // Past the 256 expected: by half.
    limit.onLoad({ running: 400, waiting: 0, kvCacheUsage: 0.1 }, 400);
    expect(limit.current()).toBe(600);
    // Not using our limit proves nothing: no growth.
    limit.onLoad({ running: 300, waiting: 0, kvCacheUsage: 0.1 }, 300);
    expect(limit.current()).toBe(600);
    expect(limit.starting).toBe(true);
  });

  it.each([8, 24, 64, 100, 256, 1000, 1024, 3000])(
    "finds a batch of %i slots with its queue at most the batch, then keeps it full with a small queue",
    (slots) => {
      // With nothing in transit, and with a fifth of what we hold on its way (answers not yet read).
      for (const transit of [0, 0.2]) {
        const limit = new VllmMetricsLimit({ initial: 256 });
        const loads = Array.from({ length: 40 }, () => scrape(limit, slots, transit));
        // The first window (32) may be more than a small engine's batch; past it, slow start never
        // sends more than twice what the engine showed it runs.
        expect(Math.max(...loads.map((l) => l.waiting))).toBeLessThanOrEqual(Math.max(slots, 32 - slots));
        const filled = loads.findIndex((l) => l.running === slots);
        expect(filled).toBeGreaterThanOrEqual(0);
        expect(filled).toBeLessThanOrEqual(20);
        // Settled: the batch full in nearly every scrape, and no more than a small queue.
        const settled = loads.slice(20);
        expect(settled.filter((l) => l.running === slots).length).toBeGreaterThanOrEqual(18);
        for (const l of settled)
          expect(l.waiting).toBeLessThanOrEqual(2 * VllmMetricsLimit.targetWaiting(slots));
        expect(limit.starting).toBe(false);
      }
    },
  );

  it("asks for a quick scrape only while a scrape may grow it", () => {
    const limit = new VllmMetricsLimit({ initial: 256, max: 64 });
    expect(limit.wantsScrapeSoon(0)).toBe(false);
    expect(limit.wantsScrapeSoon(32)).toBe(true);
    limit.onLoad({ running: 32, waiting: 0, kvCacheUsage: 0.1 }, 32);
    expect(limit.current()).toBe(64);
    // At its ceiling, an engine that never queues is not scraped fast for the rest of the job.
    expect(limit.wantsScrapeSoon(64)).toBe(false);
    const queued = new VllmMetricsLimit({ initial: 256 });
    queued.onLoad({ running: 8, waiting: 24, kvCacheUsage: 0.1 }, 32);
    expect(queued.wantsScrapeSoon(queued.current())).toBe(false);
  });

  it("holds a queue when the engine runs its whole batch with nothing waiting", () => {
    const limit = new VllmMetricsLimit({ initial: 256, startWindow: 80 });
    limit.onLoad({ running: 64, waiting: 16, kvCacheUsage: 0.5 }, 80);
    const before = limit.current();
    // A fifth of our limit in transit: the batch is exactly full, and a freed slot would idle.
    limit.onLoad({ running: 64, waiting: 0, kvCacheUsage: 0.5 }, before);
    expect(limit.current()).toBeGreaterThan(before);
  });
});

describe("latency limit", () => {
  it("grows while latency holds and the limit is used, shrinks when latency climbs or on 429", () => {
    const l = new LatencyLimit({ initial: 16, window: 8 });
    for (let i = 0; i < 8; i++) l.onResult(100, false, 16);
    expect(l.current()).toBe(32);
    for (let i = 0; i < 8; i++) l.onResult(400, false, 32);
    expect(l.current()).toBeLessThan(32);
    const before = l.current();
    l.onResult(50, true, before);
    expect(l.current()).toBeLessThan(before);
  });
  it("does not grow a limit that is not used", () => {
    const l = new LatencyLimit({ initial: 16, window: 8 });
    for (let i = 0; i < 8; i++) l.onResult(100, false, 2);
    expect(l.current()).toBe(16);
  });
});

describe("coalescing", () => {
  const key = (url: string, body: Record<string, unknown>) =>
    coalescible(url, body, JSON.stringify(body))?.key ?? null;
  it("groups only single-input embedding rows with equal parameters", () => {
    expect(key("/v1/embeddings", { model: "m", input: "a" })).toBe(
      key("/v1/embeddings", { model: "m", input: ["b"] }),
    );
    expect(key("/v1/embeddings", { model: "m", input: ["a", "b"] })).toBeNull();
    expect(key("/v1/chat/completions", { model: "m", input: "a" })).toBeNull();
    expect(key("/v1/embeddings", { model: "m", input: "a", dimensions: 8 })).not.toBe(
      key("/v1/embeddings", { model: "m", input: "a" }),
    );
  });
  it("builds a group's body from the first row's text, every other byte as written", () => {
    const text = '{"model":"m","input":"a","dimensions":1e400,"user":12345678901234567890}';
    const c = coalescible("/v1/embeddings", JSON.parse(text), text);
    expect(c).not.toBeNull();
    expect(groupBody(text, c?.span ?? [0, 0], ["a", "b\u0000"])).toBe(
      '{"model":"m","input":["a","b\\u0000"],"dimensions":1e400,"user":12345678901234567890}',
    );
  });
  it("splits usage into integer shares that sum to the total", () => {
    const s = shares(10, [1, 1, 1]);
    expect(s.reduce((a, b) => a + b)).toBe(10);
    expect(shares(7, [0, 0])).toEqual([4, 3]);
  });
  it("fans vectors out by index, and refuses a mismatched answer", () => {
    const text = JSON.stringify({
      object: "list",
      model: "m",
      data: [
        { object: "embedding", index: 1, embedding: [2] },
        { object: "embedding", index: 0, embedding: [1] },
      ],
      usage: { prompt_tokens: 6, total_tokens: 6 },
    });
    const parts = splitEmbeddings(text, [1, 2])?.map((p) => JSON.parse(p));
    expect(parts?.map((p) => p.data[0].embedding)).toEqual([[1], [2]]);
    expect(parts?.map((p) => p.usage.prompt_tokens)).toEqual([2, 4]);
    expect(splitEmbeddings(text, [1, 1, 1])).toBeNull();
  });
});

describe("router", () => {
  it("counts an engine's excess over a lowered limit, so it does not eat the others' room", async () => {
    const opts = { kind: "http" as const, timeoutMs: 1000, maxConnections: 4 };
    const big = new Engine("http://127.0.0.1:1", new FixedLimit(10), opts);
    const small = new Engine("http://127.0.0.1:2", new FixedLimit(2), opts);
    small.inFlight = 6; // held before its limit dropped to 2
    const router = new Router([big, small]);
    expect(router.capacity()).toBe(16);
    expect(router.pick()).toBe(big);
    small.health.up = false;
    expect(router.capacity()).toBe(10);
    await Promise.all([big.transport.close(), small.transport.close()]);
  });
});

describe("progress line and summary", () => {
  const base: RunProgress = {
    phase: "running",
    validating: null,
    waitingForEnginesSec: null,
    total: 1000,
    succeeded: 400,
    failed: 10,
    invalid: 0,
    resumed: 0,
    inFlight: 64,
    retries: 3,
    promptTokens: 1000,
    completionTokens: 5000,
    elapsedMs: 10_000,
    rowsPerSec: 41,
    tokensPerSec: 500,
    etaSec: 14.4,
    allEnginesDownSec: null,
    engines: [
      {
        url: "http://a",
        up: true,
        limit: 80,
        limitMode: "adaptive",
        inFlight: 64,
        running: 60,
        waiting: 4,
        sent: 300,
      },
      {
        url: "http://b",
        up: false,
        limit: 80,
        limitMode: "adaptive",
        inFlight: 0,
        running: null,
        waiting: null,
        sent: 110,
      },
    ],
  };
  it("shows rows, rates, ETA, failures, and each engine's limit and load", () => {
    const line = renderProgress(base);
    expect(line).toContain("410/1,000 rows (41.0%)");
    expect(line).toContain("ETA 0:14");
    expect(line).toContain("10 failed");
    expect(line).toContain("64/80 run 60 wait 4 | down");
  });
  it("shows the validation pass and the wait for a loading engine", () => {
    expect(
      renderProgress({
        ...base,
        phase: "validating",
        validating: { lines: 4_200_000, bytes: 370, totalBytes: 1000 },
      }),
    ).toBe("validating the input: 4.2M lines (37%)");
    expect(renderProgress({ ...base, phase: "starting", waitingForEnginesSec: 42 })).toBe(
      "waiting 0:42 for http://a, http://b to accept connections (is vLLM loading?)",
    );
  });
  it("says when every engine is down", () => {
    expect(renderProgress({ ...base, allEnginesDownSec: 75 })).toContain(
      "every engine down for 1:15, waiting",
    );
  });
  it("summarises a job, pointing at the errors file only when there are failures", () => {
    const summary = {
      total: 10,
      succeeded: 9,
      failed: 1,
      invalid: 0,
      resumed: 2,
      deduped: 0,
      requests: 8,
      retries: 1,
      promptTokens: 10,
      completionTokens: 20,
      wallMs: 2000,
      rowsPerSec: 4,
      tokensPerSec: 10,
      tags: {},
      maxRssMb: 100,
      interrupted: false,
      output: "/o.jsonl",
      errors: "/o.errors.jsonl",
      journal: "/o.vbatch.db",
    };
    const text = renderSummary(summary);
    expect(text).toContain("9 ok, 1 failed of 10 (2 from an earlier run)");
    expect(text).toContain("errors     /o.errors.jsonl");
    expect(renderSummary({ ...summary, failed: 0, succeeded: 10 })).not.toContain("errors ");
  });
});
