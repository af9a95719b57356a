// runBatch against the simulator on loopback, with real SQLite journals and files.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { runBatch } from "../src/index.js";
import { simEmbedding, simReplyText } from "../src/sim/index.js";
import {
  chatRow,
  idCounts,
  readJsonl,
  requestKey,
  tempDir,
  writeChatInput,
  writeJsonl,
} from "./helpers/files.js";
import { useSims } from "./helpers/sims.js";

const dir = tempDir();
let n = 0;
const job = (name = "job") => {
  n++;
  return { input: join(dir, `${name}-${n}.in.jsonl`), output: join(dir, `${name}-${n}.out.jsonl`) };
};

const sim = useSims({ prefillMs: 0, stepMs: 0 });

const fast = { retryBaseMs: 5, retryMaxMs: 50, fsync: false };

describe("runBatch", () => {
  it("answers every row exactly once, each with its own reply", async () => {
    const s = await sim();
    const j = job();
    writeChatInput(j.input, 300);
    const summary = await runBatch({ ...j, endpoints: [s.url], ...fast });
    expect(summary).toMatchObject({
      total: 300,
      succeeded: 300,
      failed: 0,
      requests: 300,
      interrupted: false,
    });
    const out = readJsonl(j.output);
    expect(out).toHaveLength(300);
    for (const line of out) {
      const i = Number(line.custom_id.slice(4));
      expect(line.response.status_code).toBe(200);
      expect(line.error).toBeNull();
      expect(line.id).toMatch(/^batch_req_/);
      expect(line.response.body.choices[0].message.content).toBe(
        simReplyText(chatRow(i, { model: "sim-model" }).body),
      );
    }
    expect(summary.promptTokens).toBeGreaterThan(0);
    expect(summary.completionTokens).toBe(300 * 8);
  });

  it("survives 5% 500s, 2% dropped connections and 3% 429s with every row ending once", async () => {
    const s = await sim({
      faults: { errorRate: 0.05, dropRate: 0.02, rateLimitRate: 0.03, retryAfterSeconds: 0.01 },
    });
    const j = job();
    writeChatInput(j.input, 1000);
    const summary = await runBatch({ ...j, endpoints: [s.url], maxAttempts: 8, ...fast });
    expect(summary.succeeded + summary.failed).toBe(1000);
    expect(summary.retries).toBeGreaterThan(0);
    const st = s.stats();
    expect(st.byStatus["500"]).toBeGreaterThan(0);
    expect(st.byStatus["429"]).toBeGreaterThan(0);
    expect(st.byStatus.drop).toBeGreaterThan(0);
    const counts = idCounts(j.output, summary.errors);
    expect(counts.size).toBe(1000);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    for (const line of readJsonl(j.output)) {
      const i = Number(line.custom_id.slice(4));
      expect(line.response.body.choices[0].message.content).toBe(
        simReplyText(chatRow(i, { model: "sim-model" }).body),
      );
    }
  });

  it("records a final 400 in the errors file with its status and vLLM's body, without retrying", async () => {
    const s = await sim({ maxModelLen: 64 });
    const j = job();
    writeJsonl(j.input, [
      chatRow(0, { model: "sim-model" }),
      chatRow(1, { model: "sim-model", maxTokens: 5000 }),
    ]);
    const summary = await runBatch({ ...j, endpoints: [s.url], ...fast });
    expect(summary).toMatchObject({ succeeded: 1, failed: 1, requests: 2 });
    const errs = readJsonl(summary.errors);
    expect(errs).toHaveLength(1);
    expect(errs[0].custom_id).toBe("row-1");
    expect(errs[0].response.status_code).toBe(400);
    expect(errs[0].response.body.error.message).toMatch(/maximum context length/);
  });

  for (const transport of ["http", "sdk"] as const) {
    it(`keeps the old flat error body as it came (${transport} transport)`, async () => {
      const s = await sim({ errorFormat: "old" });
      const j = job();
      writeJsonl(j.input, [chatRow(0, { model: "other-model" }), chatRow(1, { model: "sim-model" })]);
      const summary = await runBatch({ ...j, endpoints: [s.url], transport, ...fast });
      expect(summary).toMatchObject({ succeeded: 1, failed: 1 });
      const [err] = readJsonl(summary.errors);
      expect(err.response.status_code).toBe(404);
      expect(err.response.body.object).toBe("error");
      expect(err.response.body.message).toMatch(/does not exist/);
    });
  }

  it("retries 500s up to --max-attempts, then records the failure", async () => {
    const s = await sim({ faults: { errorRate: 1 } });
    const j = job();
    writeChatInput(j.input, 3);
    const summary = await runBatch({ ...j, endpoints: [s.url], maxAttempts: 3, ...fast });
    expect(summary).toMatchObject({ succeeded: 0, failed: 3, requests: 9, retries: 6 });
    for (const e of readJsonl(summary.errors)) expect(e.response.status_code).toBe(500);
  });

  it("honours Retry-After on 429", async () => {
    const s = await sim({ faults: { rateLimitRate: 1, retryAfterSeconds: 0.3 } });
    const j = job();
    writeChatInput(j.input, 1);
    const started = Date.now();
    const run = runBatch({
      ...j,
      endpoints: [s.url],
      maxAttempts: 2,
      retryBaseMs: 1,
      retryMaxMs: 1,
      fsync: false,
    });
    const summary = await run;
    // With a 1 ms backoff, only the server's Retry-After can account for the wait.
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(summary).toMatchObject({ failed: 1, requests: 2 });
  });

  it("reads .jsonl.gz input", async () => {
    const s = await sim();
    const j = job();
    const gz = `${j.input}.gz`;
    const rows = Array.from({ length: 50 }, (_, i) => JSON.stringify(chatRow(i, { model: "sim-model" })));
    writeFileSync(gz, gzipSync(`${rows.join("\n")}\n`));
    const summary = await runBatch({ input: gz, output: j.output, endpoints: [s.url], ...fast });
    expect(summary.succeeded).toBe(50);
  });

  it("fills in the engine's only model, and accepts endpoints with /v1", async () => {
    const s = await sim({ model: "org/model-7b" });
    const j = job();
    writeChatInput(j.input, 5, { model: undefined });
    const summary = await runBatch({ ...j, endpoints: [`${s.url}/v1/`], ...fast });
    expect(summary.succeeded).toBe(5);
    expect(readJsonl(j.output)[0].response.body.model).toBe("org/model-7b");
  });

  it("resumes a finished job without sending anything", async () => {
    const s = await sim();
    const j = job();
    writeChatInput(j.input, 20);
    await runBatch({ ...j, endpoints: [s.url], ...fast });
    const again = await runBatch({ ...j, endpoints: [s.url], ...fast });
    expect(again).toMatchObject({ succeeded: 20, resumed: 20, requests: 0 });
    expect(readJsonl(j.output)).toHaveLength(20);
    expect(s.stats().received).toBe(20);
  });

  it("refuses an input that changed since the journal was made, and --restart starts over", async () => {
    const s = await sim();
    const j = job();
    writeChatInput(j.input, 10);
    await runBatch({ ...j, endpoints: [s.url], ...fast });
    writeChatInput(j.input, 11);
    await expect(runBatch({ ...j, endpoints: [s.url], ...fast })).rejects.toMatchObject({
      code: "input_changed",
      exitCode: 2,
    });
    const again = await runBatch({ ...j, endpoints: [s.url], restart: true, ...fast });
    expect(again).toMatchObject({ succeeded: 11, resumed: 0 });
    expect(readJsonl(j.output)).toHaveLength(11);
  });

  it("refuses to overwrite an output that has no journal", async () => {
    const s = await sim();
    const j = job();
    writeChatInput(j.input, 2);
    writeFileSync(j.output, "precious\n");
    await expect(runBatch({ ...j, endpoints: [s.url], ...fast })).rejects.toMatchObject({ code: "usage" });
    expect(s.stats().received).toBe(0);
  });

  it("fails with no_endpoint (exit 1) when no engine answers, keeping the journal resumable", async () => {
    const s = await sim();
    const url = s.url;
    await s.close();
    const j = job();
    writeChatInput(j.input, 3);
    await expect(runBatch({ ...j, endpoints: [url], engineWaitMs: 0, ...fast })).rejects.toMatchObject({
      code: "no_endpoint",
      exitCode: 1,
    });
    const s2 = await sim();
    const summary = await runBatch({ ...j, endpoints: [s2.url], ...fast });
    expect(summary.succeeded).toBe(3);
  });

  it("with finalizePending, a stopped run writes every unfinished row to the errors file", async () => {
    const s = await sim({ maxNumSeqs: 2, stepMs: 5, outputTokens: 4 });
    const j = job();
    writeChatInput(j.input, 200);
    const controller = new AbortController();
    const summary = await runBatch({
      ...j,
      endpoints: [s.url],
      concurrency: 2,
      signal: controller.signal,
      finalizePending: { code: "batch_expired", message: "the batch expired" },
      progressIntervalMs: 10,
      onProgress: (p) => {
        if (p.succeeded >= 10) controller.abort();
      },
      ...fast,
    });
    expect(summary.interrupted).toBe(false);
    expect(summary.succeeded + summary.failed).toBe(200);
    const errs = readJsonl(summary.errors);
    expect(errs.length).toBe(summary.failed);
    expect(errs.every((e) => e.error.code === "batch_expired" && e.response === null)).toBe(true);
    expect(idCounts(j.output, summary.errors).size).toBe(200);
  });

  it("stops on the abort signal, keeps what finished, and the next run sends only the rest", async () => {
    const s = await sim({ maxNumSeqs: 4, stepMs: 2, outputTokens: 5, trackRequests: true });
    const j = job();
    writeChatInput(j.input, 400);
    const controller = new AbortController();
    let aborted = false;
    const first = await runBatch({
      ...j,
      endpoints: [s.url],
      concurrency: 8,
      signal: controller.signal,
      progressIntervalMs: 20,
      onProgress: (p) => {
        if (!aborted && p.succeeded >= 50) {
          aborted = true;
          controller.abort();
        }
      },
      ...fast,
    });
    expect(first.interrupted).toBe(true);
    expect(first.succeeded).toBeGreaterThanOrEqual(50);
    expect(first.succeeded).toBeLessThan(400);
    expect(readJsonl(j.output)).toHaveLength(first.succeeded);
    const second = await runBatch({ ...j, endpoints: [s.url], ...fast });
    expect(second).toMatchObject({ succeeded: 400, resumed: first.succeeded, interrupted: false });
    expect(second.requests).toBe(400 - first.succeeded);
    const counts = idCounts(j.output);
    expect(counts.size).toBe(400);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    // No row was sent twice: one reception per distinct request.
    expect(Object.values(s.stats().requestsByKey ?? {}).every((c) => c === 1)).toBe(true);
  });
});

describe("embedding coalescing", () => {
  const embedRow = (i: number, input: unknown = `text number ${i}`) => ({
    custom_id: `e-${i}`,
    method: "POST",
    url: "/v1/embeddings",
    body: { model: "sim-model", input },
  });

  it("sends single-input rows together and gives each row its own vector and usage share", async () => {
    const s = await sim({ embeddingDim: 4 });
    const j = job("embed");
    const rows = Array.from({ length: 200 }, (_, i) => embedRow(i));
    rows.push(embedRow(200, ["already", "a batch"]));
    writeJsonl(j.input, rows);
    const summary = await runBatch({ ...j, endpoints: [s.url], ...fast });
    expect(summary.succeeded).toBe(201);
    expect(summary.requests).toBeLessThan(20);
    const out = readJsonl(j.output);
    expect(out).toHaveLength(201);
    let promptTotal = 0;
    for (const line of out) {
      const i = Number(line.custom_id.slice(2));
      const body = line.response.body;
      if (i === 200) {
        expect(body.data).toHaveLength(2);
        continue;
      }
      expect(body.data).toHaveLength(1);
      expect(body.data[0].index).toBe(0);
      expect(body.data[0].embedding).toEqual(simEmbedding(`text number ${i}`, 4));
      expect(body.usage.prompt_tokens).toBeGreaterThan(0);
      promptTotal += body.usage.prompt_tokens;
    }
    expect(promptTotal).toBeGreaterThan(0);
  });

  it("--no-coalesce sends one request per row", async () => {
    const s = await sim();
    const j = job("embed");
    writeJsonl(
      j.input,
      Array.from({ length: 30 }, (_, i) => embedRow(i)),
    );
    const summary = await runBatch({ ...j, endpoints: [s.url], coalesce: false, ...fast });
    expect(summary).toMatchObject({ succeeded: 30, requests: 30 });
  });

  it("a row the engine refuses does not fail the rows it was grouped with", async () => {
    const s = await sim({ maxModelLen: 50 });
    const j = job("embed");
    const rows = Array.from({ length: 10 }, (_, i) => embedRow(i));
    rows.push(embedRow(10, "x".repeat(1000)));
    writeJsonl(j.input, rows);
    const summary = await runBatch({ ...j, endpoints: [s.url], ...fast });
    expect(summary).toMatchObject({ succeeded: 10, failed: 1 });
    const [err] = readJsonl(summary.errors);
    expect(err.custom_id).toBe("e-10");
    expect(err.response.status_code).toBe(400);
  });
});

describe("tags, priority and runner metrics", () => {
  it("records --tag in the summary and in every request id", async () => {
    const s = await sim();
    const j = job("tags");
    writeChatInput(j.input, 3);
    const summary = await runBatch({ ...j, endpoints: [s.url], tags: { team: "search", run: "7" }, ...fast });
    expect(summary.tags).toEqual({ team: "search", run: "7" });
    for (const line of readJsonl(j.output)) expect(line.response.request_id).toMatch(/-team=search,run=7-/);
  });

  it("sends --priority, and a row's own priority wins", async () => {
    const s = await sim({ schedulingPolicy: "priority", trackRequests: true });
    const j = job("prio");
    writeJsonl(j.input, [
      chatRow(0, { model: "sim-model" }),
      { ...chatRow(1, { model: "sim-model" }), priority: -5 },
    ]);
    const summary = await runBatch({ ...j, endpoints: [s.url], priority: 3, ...fast });
    expect(summary.succeeded).toBe(2);
    const keys = Object.keys(s.stats().requestsByKey ?? {});
    // The body goes out as written, with the priority put first.
    expect(keys).toContain(
      requestKey({ priority: 3, ...(chatRow(0, { model: "sim-model" }).body as object) }),
    );
    expect(keys).toContain(
      requestKey({ priority: -5, ...(chatRow(1, { model: "sim-model" }).body as object) }),
    );
  });

  it("records the engine's refusal of a row's own priority as a final 400", async () => {
    // (--priority itself is checked once before any row: test/first-hour.test.ts.)
    const s = await sim();
    const j = job("prio");
    writeJsonl(
      j.input,
      [0, 1].map((i) => ({ ...chatRow(i, { model: "sim-model" }), priority: 1 })),
    );
    const summary = await runBatch({ ...j, endpoints: [s.url], ...fast });
    expect(summary.failed).toBe(2);
    const [err] = readJsonl(summary.errors);
    expect(err.response.status_code).toBe(400);
    expect(JSON.stringify(err.response.body)).toMatch(/Priority scheduling is not enabled/);
  });

  it("serves the runner's own Prometheus metrics while it runs", async () => {
    const s = await sim({ maxNumSeqs: 2, stepMs: 2, outputTokens: 4 });
    const j = job("metrics");
    writeChatInput(j.input, 100);
    let scraped = "";
    let url = "";
    await runBatch({
      ...j,
      endpoints: [s.url],
      metricsPort: 0,
      onMetricsUrl: (u) => {
        url = u;
      },
      progressIntervalMs: 20,
      onProgress: (p) => {
        if (!scraped && p.succeeded > 10 && url) {
          scraped = "pending";
          fetch(url)
            .then((r) => r.text())
            .then((t) => {
              scraped = t;
            });
        }
      },
      ...fast,
    });
    for (let i = 0; i < 100 && (scraped === "pending" || scraped === ""); i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(scraped).toMatch(/vbatch_rows\{state="succeeded"\} \d+/);
    expect(scraped).toMatch(/vbatch_engine_limit\{engine="http:\/\/127\.0\.0\.1:\d+"\} \d+/);
    expect(scraped).toMatch(/vbatch_request_duration_seconds_bucket/);
    // the engine's prefix cache, as its /metrics counts it during this job
    expect(scraped).toMatch(/vbatch_engine_prefix_cache_tokens\{engine="[^"]+",kind="queries"\} [1-9]/);
  });
});
