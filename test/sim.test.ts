// The vLLM simulator over real loopback HTTP: shapes, determinism, batching, errors and faults.
// Assertions are on counts and shapes only, never on durations.

import { Command } from "commander";
import { afterEach, describe, expect, it } from "vitest";
import { registerSimCommand } from "../src/cli/commands/sim.js";
import { type SimOptions, type SimServer, simEmbedding, simReplyText, startSim } from "../src/sim/index.js";
import { outputTokensFor } from "../src/sim/lengths.js";
import { until } from "./helpers/wait.js";

interface Usage {
  prompt_tokens: number;
  completion_tokens?: number;
  total_tokens: number;
}
interface ChatReply {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: string; content: string };
    finish_reason: string;
    logprobs: null;
  }[];
  usage: Usage;
}
interface CompletionReply {
  id: string;
  object: string;
  model: string;
  choices: { index: number; text: string; finish_reason: string; logprobs: null }[];
  usage: Usage;
}
interface EmbeddingReply {
  id: string;
  object: string;
  model: string;
  data: { object: string; index: number; embedding: number[] }[];
  usage: Usage;
}
interface ErrorFields {
  message: string;
  type: string;
  param: string | null;
  code: number;
}
interface NewError {
  error: ErrorFields;
}
interface OldError extends ErrorFields {
  object: string;
}

const servers: SimServer[] = [];

async function sim(options: SimOptions = {}): Promise<SimServer> {
  const server = await startSim({ prefillMs: 0, stepMs: 0, ...options });
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

interface Reply<T> {
  status: number;
  headers: Headers;
  body: T;
}

async function post<T>(
  server: SimServer,
  path: string,
  body: unknown,
  init: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Reply<T>> {
  const res = await fetch(server.url + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...init.headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...(init.signal ? { signal: init.signal } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text === "" ? null : JSON.parse(text)) as T };
}

function chat(content: string, extra: Record<string, unknown> = {}) {
  return { model: "sim-model", messages: [{ role: "user", content }], ...extra };
}

describe("sim: informational endpoints", () => {
  it("answers /health with an empty 200", async () => {
    const s = await sim();
    const res = await fetch(`${s.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    expect(s.url).toBe(`http://127.0.0.1:${s.port}`);
  });

  it("lists the served model with max_model_len", async () => {
    const s = await sim({ model: "org/m-1", maxModelLen: 2048 });
    const body = (await (await fetch(`${s.url}/v1/models`)).json()) as {
      object: string;
      data: {
        id: string;
        object: string;
        owned_by: string;
        root: string;
        parent: null;
        max_model_len: number;
      }[];
    };
    expect(body.object).toBe("list");
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({
      id: "org/m-1",
      object: "model",
      owned_by: "vllm",
      root: "org/m-1",
      parent: null,
      max_model_len: 2048,
    });
  });

  it("tokenizes prompts and chat messages consistently with usage", async () => {
    const s = await sim();
    const prompt = await post<{ count: number; max_model_len: number; tokens: number[] }>(s, "/tokenize", {
      prompt: "twelve chars",
    });
    expect(prompt.status).toBe(200);
    expect(prompt.body.count).toBe(3);
    expect(prompt.body.tokens).toHaveLength(3);
    expect(prompt.body.max_model_len).toBe(4096);

    const messages = [
      { role: "system", content: "be brief" },
      { role: "user", content: "hello there" },
    ];
    const tok = await post<{ count: number; tokens: number[] }>(s, "/tokenize", { messages });
    expect(tok.body.tokens).toHaveLength(tok.body.count);
    const reply = await post<ChatReply>(s, "/v1/chat/completions", { messages });
    expect(reply.body.usage.prompt_tokens).toBe(tok.body.count);

    const completion = await post<CompletionReply>(s, "/v1/completions", { prompt: "twelve chars" });
    expect(completion.body.usage.prompt_tokens).toBe(prompt.body.count);
  });

  it("serves vLLM-named Prometheus metrics, or 404 when disabled", async () => {
    const s = await sim({ model: "m" });
    await post(s, "/v1/chat/completions", chat("hi", { model: "m" }));
    const text = await (await fetch(`${s.url}/metrics`)).text();
    for (const [name, type] of [
      ["vllm:num_requests_running", "gauge"],
      ["vllm:num_requests_waiting", "gauge"],
      ["vllm:kv_cache_usage_perc", "gauge"],
      ["vllm:prompt_tokens_total", "counter"],
      ["vllm:generation_tokens_total", "counter"],
      ["vllm:request_success_total", "counter"],
    ]) {
      expect(text).toContain(`# HELP ${name} `);
      expect(text).toContain(`# TYPE ${name} ${type}`);
    }
    expect(text).toContain('vllm:num_requests_running{model_name="m",engine="0"} 0.0');
    expect(text).toContain('vllm:generation_tokens_total{model_name="m",engine="0"} 16.0');
    expect(text).toContain(
      'vllm:request_success_total{model_name="m",engine="0",finished_reason="stop"} 1.0',
    );

    const off = await sim({ metrics: false });
    expect((await fetch(`${off.url}/metrics`)).status).toBe(404);
  });

  it("answers unknown paths with 404 and wrong methods with 405", async () => {
    const s = await sim();
    expect((await fetch(`${s.url}/v2/nothing`)).status).toBe(404);
    expect((await fetch(`${s.url}/v1/chat/completions`)).status).toBe(405);
  });
});

describe("sim: replies", () => {
  it("answers chat completions in OpenAI shape with a deterministic reply", async () => {
    const s = await sim({ outputTokens: 10 });
    const body = chat("what is 2+2?");
    const a = await post<ChatReply>(s, "/v1/chat/completions", body, {
      headers: { "x-request-id": "row-1" },
    });
    expect(a.status).toBe(200);
    expect(a.headers.get("x-request-id")).toBe("row-1");
    expect(a.body.id).toBe("chatcmpl-row-1");
    expect(a.body.object).toBe("chat.completion");
    expect(a.body.model).toBe("sim-model");
    expect(typeof a.body.created).toBe("number");
    expect(a.body.choices).toHaveLength(1);
    expect(a.body.choices[0]).toMatchObject({
      index: 0,
      message: { role: "assistant", content: simReplyText(body) },
      finish_reason: "stop",
      logprobs: null,
    });
    expect(a.body.usage.completion_tokens).toBe(10);
    expect(a.body.usage.total_tokens).toBe(a.body.usage.prompt_tokens + 10);
    expect(simReplyText(body)).toMatch(/^sim:[0-9a-f]{16}$/);

    const again = await post<ChatReply>(s, "/v1/chat/completions", body);
    expect(again.body.choices[0]?.message.content).toBe(simReplyText(body));
    expect(again.headers.get("x-request-id")).toMatch(/^[0-9a-f]{32}$/);
    expect(again.body.id).toBe(`chatcmpl-${again.headers.get("x-request-id")}`);

    const other = await post<ChatReply>(s, "/v1/chat/completions", chat("what is 3+3?"));
    expect(other.body.choices[0]?.message.content).not.toBe(simReplyText(body));
  });

  it("caps output by max_tokens / max_completion_tokens with finish_reason length", async () => {
    const s = await sim({ outputTokens: 16 });
    const a = await post<ChatReply>(s, "/v1/chat/completions", chat("x", { max_tokens: 5 }));
    expect(a.body.usage.completion_tokens).toBe(5);
    expect(a.body.choices[0]?.finish_reason).toBe("length");
    const b = await post<ChatReply>(
      s,
      "/v1/chat/completions",
      chat("x", { max_completion_tokens: 3, max_tokens: 9 }),
    );
    expect(b.body.usage.completion_tokens).toBe(3);
  });

  it("answers completions in OpenAI shape", async () => {
    const s = await sim();
    const body = { model: "sim-model", prompt: "Once upon a time", max_tokens: 8 };
    const r = await post<CompletionReply>(s, "/v1/completions", body);
    expect(r.status).toBe(200);
    expect(r.body.id).toMatch(/^cmpl-/);
    expect(r.body.object).toBe("text_completion");
    expect(r.body.choices).toEqual([
      expect.objectContaining({
        index: 0,
        text: simReplyText(body),
        finish_reason: "length",
        logprobs: null,
      }),
    ]);
    expect(r.body.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 8, total_tokens: 12 });
  });

  it("answers embeddings for every input form, one vector per input in order", async () => {
    const s = await sim({ embeddingDim: 5 });
    const cases: [unknown, unknown[]][] = [
      ["one text", ["one text"]],
      [
        ["a", "bb"],
        ["a", "bb"],
      ],
      [[1, 2, 3], [[1, 2, 3]]],
      [
        [
          [1, 2],
          [3, 4, 5],
        ],
        [
          [1, 2],
          [3, 4, 5],
        ],
      ],
    ];
    for (const [input, items] of cases) {
      const r = await post<EmbeddingReply>(s, "/v1/embeddings", { model: "sim-model", input });
      expect(r.status).toBe(200);
      expect(r.body.object).toBe("list");
      expect(r.body.id).toMatch(/^embd-/);
      expect(r.body.model).toBe("sim-model");
      expect(r.body.data).toHaveLength(items.length);
      r.body.data.forEach((d, i) => {
        expect(d.object).toBe("embedding");
        expect(d.index).toBe(i);
        expect(d.embedding).toEqual(simEmbedding(items[i], 5));
      });
    }
    const tokens = await post<EmbeddingReply>(s, "/v1/embeddings", { input: [[1, 2], "abcdefgh"] });
    expect(tokens.body.usage).toMatchObject({ prompt_tokens: 4, total_tokens: 4 });
    const v = simEmbedding("x", 16);
    expect(v).toHaveLength(16);
    expect(Math.hypot(...v)).toBeCloseTo(1, 9);
    expect(simEmbedding("x", 16)).toEqual(v);
    expect(simEmbedding("y", 16)).not.toEqual(v);
  });
});

describe("sim: output lengths", () => {
  const lengthOf = async (s: SimServer, body: unknown) =>
    (await post<ChatReply>(s, "/v1/chat/completions", body)).body;

  it("gives the same prompt the same length, on any engine", async () => {
    const a = await sim({ outputLen: 100, outputLenSpread: 0.5 });
    const b = await sim({ outputLen: 100, outputLenSpread: 0.5 });
    for (let i = 0; i < 5; i++) {
      const body = chat(`document ${i}`);
      const first = (await lengthOf(a, body)).usage.completion_tokens;
      expect((await lengthOf(a, body)).usage.completion_tokens).toBe(first);
      expect((await lengthOf(b, body)).usage.completion_tokens).toBe(first);
      expect(first).toBe(outputTokensFor({ mean: 100, spread: 0.5 }, JSON.stringify(body)));
    }
  });

  it("spreads lengths over the range asked for", async () => {
    const s = await sim({ outputLen: 100, outputLenSpread: 0.5 });
    const lengths: number[] = [];
    for (let i = 0; i < 300; i++) {
      lengths.push(
        (await lengthOf(s, chat(`Summarize document ${i} in one line.`))).usage.completion_tokens ?? 0,
      );
    }
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(50);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(150);
    // Uniform over 50..150: each fifth of the range holds about 60 of the 300 draws.
    const fifths = [0, 0, 0, 0, 0];
    for (const n of lengths) {
      const fifth = Math.min(4, Math.floor((n - 50) / 20));
      fifths[fifth] = (fifths[fifth] ?? 0) + 1;
    }
    for (const count of fifths) {
      expect(count).toBeGreaterThan(30);
      expect(count).toBeLessThan(90);
    }
    const mean = lengths.reduce((a, b) => a + b) / lengths.length;
    expect(mean).toBeGreaterThan(95);
    expect(mean).toBeLessThan(105);
    // Spread 0 is one fixed length, and the default spread is 0.5.
    expect(outputTokensFor({ mean: 40, spread: 0 }, "anything")).toBe(40);
    const byDefault = await sim({ outputLen: 100 });
    for (let i = 0; i < 20; i++) {
      const body = chat(`Summarize document ${i} in one line.`);
      expect((await lengthOf(byDefault, body)).usage.completion_tokens).toBe(lengths[i]);
    }
  });

  it("reports the length it generated in usage, metrics and finish_reason, capped by max_tokens", async () => {
    const s = await sim({ outputLen: 100, outputLenSpread: 0.5 });
    let generated = 0;
    let capped = 0;
    for (let i = 0; i < 40; i++) {
      const body = chat(`row ${i}`, { max_tokens: 100, n: 2 });
      const wanted = outputTokensFor({ mean: 100, spread: 0.5 }, JSON.stringify(body));
      const r = await lengthOf(s, body);
      const perChoice = Math.min(wanted, 100);
      expect(r.usage.completion_tokens).toBe(2 * perChoice);
      expect(r.usage.total_tokens).toBe(r.usage.prompt_tokens + 2 * perChoice);
      expect(r.choices.map((c) => c.finish_reason)).toEqual(Array(2).fill(wanted > 100 ? "length" : "stop"));
      generated += 2 * perChoice;
      if (wanted > 100) capped++;
    }
    expect(capped).toBeGreaterThan(5);
    expect(capped).toBeLessThan(35);
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(text).toContain(`vllm:generation_tokens_total{model_name="sim-model",engine="0"} ${generated}.0`);
    const completion = await post<CompletionReply>(s, "/v1/completions", {
      prompt: "Once",
      max_tokens: 500,
    });
    expect(completion.body.usage.completion_tokens).toBe(
      outputTokensFor({ mean: 100, spread: 0.5 }, JSON.stringify({ prompt: "Once", max_tokens: 500 })),
    );
  });

  it("refuses a fixed and a drawn length together, and a spread outside 0..1", async () => {
    await expect(startSim({ outputTokens: 10, outputLen: 10 })).rejects.toThrow(/alternatives/);
    await expect(startSim({ outputLenSpread: 0.2 })).rejects.toThrow(/needs outputLen/);
    await expect(startSim({ outputLen: 10, outputLenSpread: 1.5 })).rejects.toThrow(RangeError);
  });
});

describe("sim: errors", () => {
  it("answers an unknown model with vLLM's 404 in the new format", async () => {
    const s = await sim();
    const r = await post<NewError>(s, "/v1/chat/completions", chat("hi", { model: "gpt-4o" }));
    expect(r.status).toBe(404);
    expect(r.body).toEqual({
      error: {
        message: "The model `gpt-4o` does not exist.",
        type: "NotFoundError",
        param: "model",
        code: 404,
      },
    });
    expect(s.stats().byStatus["404"]).toBe(1);
  });

  it("answers an unknown model with the old flat format", async () => {
    const s = await sim({ errorFormat: "old" });
    const r = await post<OldError>(s, "/v1/embeddings", { model: "nope", input: "x" });
    expect(r.status).toBe(404);
    expect(r.body).toEqual({
      object: "error",
      message: "The model `nope` does not exist.",
      type: "NotFoundError",
      param: null, // older servers never set it (test/fixtures/transcripts/vllm-error-404-old.txt)
      code: 404,
    });
  });

  it("refuses a prompt too long for the context with 400", async () => {
    const s = await sim({ maxModelLen: 100 });
    const long = await post<NewError>(s, "/v1/chat/completions", chat("x".repeat(400)));
    expect(long.status).toBe(400);
    expect(long.body.error.type).toBe("BadRequestError");
    expect(long.body.error.code).toBe(400);
    expect(long.body.error.message).toMatch(
      /^This model's maximum context length is 100 tokens\. However, your request has 107 input tokens\./,
    );

    const over = await post<NewError>(s, "/v1/chat/completions", chat("x".repeat(200), { max_tokens: 50 }));
    expect(over.status).toBe(400);
    expect(over.body.error.message).toContain(
      "'max_tokens' or 'max_completion_tokens' is too large: 50. This model's maximum context length is 100 tokens and your request has 57 input tokens (50 > 100 - 57).",
    );
    expect(over.body.error.param).toBe("max_tokens");

    const embed = await post<NewError>(s, "/v1/embeddings", { input: "y".repeat(404) });
    expect(embed.status).toBe(400);
    expect(embed.body.error.message).toContain("This model's maximum context length is 100 tokens.");
    expect(s.stats().byStatus["400"]).toBe(3);
  });

  it("answers malformed JSON and missing fields with a vLLM-shaped 400", async () => {
    const s = await sim();
    const bad = await post<NewError>(s, "/v1/chat/completions", '{"messages": [');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ type: "Bad Request", code: 400 });
    expect(bad.body.error.message).toContain("json_invalid");
    const missing = await post<NewError>(s, "/v1/chat/completions", { model: "sim-model" });
    expect(missing.status).toBe(400);
    expect(missing.body.error.param).toBe("body.messages");
    expect(s.stats().received).toBe(2);
  });
});

describe("sim: continuous batching", () => {
  it("runs at most maxNumSeqs at once and queues the rest FIFO", async () => {
    const s = await sim({ maxNumSeqs: 2, prefillMs: 250, stepMs: 0 });
    const replies = await Promise.all(
      Array.from({ length: 6 }, (_, i) => post<ChatReply>(s, "/v1/chat/completions", chat(`row ${i}`))),
    );
    replies.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.body.choices[0]?.message.content).toBe(simReplyText(chat(`row ${i}`)));
    });
    const stats = s.stats();
    expect(stats.maxRunning).toBe(2);
    expect(stats.maxWaiting).toBe(4);
    expect(stats.received).toBe(6);
    expect(stats.completed).toBe(6);
    expect(stats.byStatus["200"]).toBe(6);
    expect(stats.busySlotMs).toBeGreaterThan(0);
    expect(stats.firstStartMs).not.toBeNull();
    expect(stats.lastEndMs).not.toBeNull();

    s.resetStats();
    expect(s.stats()).toMatchObject({
      received: 0,
      completed: 0,
      maxRunning: 0,
      maxWaiting: 0,
      busySlotMs: 0,
    });
  });

  it("drops a waiting request whose client went away", async () => {
    const s = await sim({ maxNumSeqs: 1, prefillMs: 300, stepMs: 0 });
    const first = post<ChatReply>(s, "/v1/chat/completions", chat("first"));
    const controller = new AbortController();
    const second = post(s, "/v1/chat/completions", chat("second"), { signal: controller.signal });
    second.catch(() => {});
    await until("2 requests received", () => s.stats().received === 2);
    controller.abort();
    await expect(second).rejects.toThrow();
    await until("an abort", () => s.stats().byStatus.abort === 1);
    expect((await first).status).toBe(200);
    expect(s.stats().completed).toBe(1);
  });

  it("answers in-flight requests before close() resolves", async () => {
    const s = await startSim({ prefillMs: 100, stepMs: 0 });
    const pending = post<ChatReply>(s, "/v1/chat/completions", chat("late"));
    await until("a request received", () => s.stats().received === 1);
    await s.close();
    expect((await pending).status).toBe(200);
    await expect(fetch(`${s.url}/health`)).rejects.toThrow();
  });
});

describe("sim: faults", () => {
  it("answers 500 at errorRate 1", async () => {
    const s = await sim({ faults: { errorRate: 1 } });
    const r = await post<NewError>(s, "/v1/chat/completions", chat("x"));
    expect(r.status).toBe(500);
    expect(r.body.error).toMatchObject({ type: "InternalServerError", code: 500 });
    expect(s.stats().byStatus["500"]).toBe(1);
  });

  it("answers 429 with Retry-After at rateLimitRate 1", async () => {
    const s = await sim({ faults: { rateLimitRate: 1, retryAfterSeconds: 2 } });
    const r = await post<NewError>(s, "/v1/completions", { prompt: "x" });
    expect(r.status).toBe(429);
    expect(r.headers.get("retry-after")).toBe("2");
    expect(r.headers.get("retry-after-ms")).toBe("2000");
    expect(r.body.error.code).toBe(429);
    expect(s.stats().byStatus["429"]).toBe(1);
  });

  it("destroys the connection at dropRate 1", async () => {
    const s = await sim({ faults: { dropRate: 1 } });
    await expect(post(s, "/v1/embeddings", { input: "x" })).rejects.toThrow();
    expect(s.stats()).toMatchObject({ received: 1, completed: 0 });
    expect(s.stats().byStatus.drop).toBe(1);
  });

  it("changes faults at runtime with setFaults", async () => {
    const s = await sim();
    expect((await post(s, "/v1/chat/completions", chat("a"))).status).toBe(200);
    s.setFaults({ errorRate: 1 });
    expect((await post(s, "/v1/chat/completions", chat("b"))).status).toBe(500);
    s.setFaults({});
    expect((await post(s, "/v1/chat/completions", chat("c"))).status).toBe(200);
    expect(() => s.setFaults({ errorRate: 2 })).toThrow(RangeError);
  });

  it("decides faults from the seed, identically run to run", async () => {
    const statuses = async (seed: number) => {
      const s = await sim({ seed, faults: { errorRate: 0.5 } });
      const out: number[] = [];
      for (let i = 0; i < 20; i++) out.push((await post(s, "/v1/completions", { prompt: `p${i}` })).status);
      return out;
    };
    const a = await statuses(7);
    expect(await statuses(7)).toEqual(a);
    expect(a).toContain(200);
    expect(a).toContain(500);
  });

  it("dies on receiving the exitAfter-th request", async () => {
    let exited = 0;
    const s = await sim({ exitAfter: 3, onExit: () => exited++ });
    expect((await post(s, "/v1/chat/completions", chat("1"))).status).toBe(200);
    expect((await post(s, "/v1/chat/completions", chat("2"))).status).toBe(200);
    await expect(post(s, "/v1/chat/completions", chat("3"))).rejects.toThrow();
    expect(exited).toBe(1);
    await expect(fetch(`${s.url}/health`)).rejects.toThrow();
    expect(s.stats()).toMatchObject({ received: 3, completed: 2 });
  });

  it("kill() fails the requests in flight", async () => {
    const s = await sim({ prefillMs: 10_000 });
    const pending = post(s, "/v1/chat/completions", chat("never"));
    pending.catch(() => {});
    await until("a request received", () => s.stats().received === 1);
    s.kill();
    await expect(pending).rejects.toThrow();
  });
});

describe("sim: control endpoints", () => {
  it("serves /sim/stats and replaces faults through POST /sim/faults", async () => {
    const s = await sim({ trackRequests: true });
    const body = chat("tracked");
    await post(s, "/v1/chat/completions", body);
    await post(s, "/v1/chat/completions", body);
    const stats = (await (await fetch(`${s.url}/sim/stats`)).json()) as {
      received: number;
      completed: number;
      requestsByKey: Record<string, number>;
    };
    expect(stats.received).toBe(2);
    expect(stats.completed).toBe(2);
    expect(Object.values(stats.requestsByKey)).toEqual([2]);

    const set = await post<{ errorRate: number }>(s, "/sim/faults", { errorRate: 1 });
    expect(set.status).toBe(200);
    expect(set.body.errorRate).toBe(1);
    expect((await post(s, "/v1/chat/completions", body)).status).toBe(500);
    expect((await post(s, "/sim/faults", { dropRate: 5 })).status).toBe(400);
    await post(s, "/sim/faults", {});
    expect((await post(s, "/v1/chat/completions", body)).status).toBe(200);
  });

  it("listens only after startupDelayMs", async () => {
    const s = await sim({ startupDelayMs: 20 });
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
  });

  it("refuses invalid options", async () => {
    await expect(startSim({ maxNumSeqs: 0 })).rejects.toThrow(RangeError);
    await expect(startSim({ faults: { dropRate: -1 } })).rejects.toThrow(RangeError);
  });
});

describe("sim: CLI flags", () => {
  async function parse(args: string[]): Promise<string> {
    const program = new Command("vbatch").exitOverride();
    let stderr = "";
    program.configureOutput({ writeErr: (s) => (stderr += s), writeOut: () => {} });
    registerSimCommand(program);
    await expect(program.parseAsync(["node", "vbatch", "sim", ...args])).rejects.toThrow();
    return stderr;
  }

  it("names the flag of an invalid number", async () => {
    expect(await parse(["--port", "abc"])).toContain("--port");
    expect(await parse(["--max-num-seqs", "0"])).toContain("--max-num-seqs");
    expect(await parse(["--error-rate", "1.5"])).toContain("--error-rate");
    expect(await parse(["--step-ms", "-1"])).toContain("--step-ms");
    expect(await parse(["--error-format", "xml"])).toContain("--error-format");
    expect(await parse(["--error-rate", "0.6", "--drop-rate", "0.6"])).toContain("must not exceed 1");
    expect(await parse(["--output-len-spread", "2"])).toContain("--output-len-spread");
    expect(await parse(["--output-len", "0"])).toContain("--output-len");
    expect(await parse(["--output-len", "100", "--output-tokens", "10"])).toContain("alternatives");
    expect(await parse(["--output-len-spread", "0.2"])).toContain("needs --output-len");
  });
});
