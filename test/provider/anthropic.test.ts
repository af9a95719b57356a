// --provider anthropic end to end, with `vbatch serve` (which speaks Anthropic's Message Batches
// API) as the provider: any custom_id mapped to ^[a-zA-Z0-9_-]{1,64}$ and back, answers written
// as Anthropic result lines, the batches readable by the official @anthropic-ai/sdk, and a batch
// created but not recorded (kill -9) found again instead of created twice.
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { runBatch } from "../../src/job/run-batch.js";
import { type RunningServer, startServer } from "../../src/server/index.js";
import { type SimServer, startSim } from "../../src/sim/index.js";
import { runCli, startCli } from "../helpers/cli.js";
import { readJsonl, tempDir, writeJsonl } from "../helpers/files.js";
import { until } from "../helpers/wait.js";

const dir = tempDir("vbatch-provider-anthropic-");
let n = 0;
const fresh = (name: string) => join(dir, `${name}-${++n}`);
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function provider(): Promise<{ server: RunningServer; sim: SimServer; client: Anthropic }> {
  const sim = await startSim({ prefillMs: 0, stepMs: 0 });
  const server = await startServer({
    dataDir: fresh("data"),
    port: 0,
    endpoints: [sim.url],
    engineRetryMs: 100,
    run: { progressIntervalMs: 50, fsync: false, retryBaseMs: 5, retryMaxMs: 50, drainMs: 200 },
  });
  closers.push(
    () => server.close(),
    () => sim.close(),
  );
  return { server, sim, client: new Anthropic({ baseURL: server.url, apiKey: "k", maxRetries: 0 }) };
}

const ids = (count: number) =>
  Array.from({ length: count }, (_, i) => `ticket #${i} / ü ${"x".repeat(i === 0 ? 80 : 0)}`);

function anthropicInput(count: number): string {
  return writeJsonl(
    `${fresh("in")}.jsonl`,
    ids(count).map((custom_id, i) => ({
      custom_id,
      params: { model: "sim-model", max_tokens: 8, messages: [{ role: "user", content: `question ${i}` }] },
    })),
  );
}

async function batchesOf(client: Anthropic) {
  const all = [];
  for await (const b of client.messages.batches.list({ limit: 100 })) all.push(b);
  return all;
}

describe("--provider anthropic against vbatch serve", () => {
  it("maps every custom_id and back, and writes Anthropic result lines, each row once", async () => {
    const { server, sim, client } = await provider();
    const input = anthropicInput(10);
    const output = `${fresh("out")}.jsonl`;
    const summary = await runBatch({
      input,
      output,
      endpoints: [],
      fsync: false,
      provider: {
        name: "anthropic",
        url: server.url,
        apiKey: "k",
        chunkRows: 4,
        pollIntervalMs: 20,
        pollMaxMs: 100,
      },
    });
    expect(summary).toMatchObject({ total: 10, succeeded: 10, failed: 0 });
    const lines = readJsonl(output);
    expect(lines.map((l) => l.custom_id).sort()).toEqual(ids(10).sort());
    const self = `${fresh("self")}.jsonl`;
    await runBatch({ input, output: self, endpoints: [sim.url], fsync: false });
    const mine = new Map(readJsonl(self).map((l) => [l.custom_id, l]));
    for (const l of lines) {
      expect(l.result.type).toBe("succeeded");
      expect(Object.keys(l)).toEqual(Object.keys(mine.get(l.custom_id)));
      expect(l.result.message.content).toEqual(mine.get(l.custom_id).result.message.content);
    }
    const batches = await batchesOf(client);
    expect(batches.map((b) => b.request_counts.succeeded).sort()).toEqual([2, 4, 4]);
    for (const b of batches) {
      for await (const r of await client.messages.batches.results(b.id)) {
        expect(r.custom_id).toMatch(/^vb_[0-9a-f]+_c\d+_\d+$/);
        expect(r.custom_id.length).toBeLessThanOrEqual(64);
      }
    }
  });

  it("finds a batch created but not recorded (kill -9 after create) instead of creating it again", async () => {
    const { server, client } = await provider();
    const input = anthropicInput(6);
    const output = `${fresh("out")}.jsonl`;
    const args = ["run", input, "-o", output, "--provider", "anthropic", "--provider-url", server.url];
    args.push("--chunk-rows", "3", "--poll-interval", "0.02", "--no-progress");
    const env = { ANTHROPIC_API_KEY: "k" };
    const first = startCli(args, { env: { ...env, VBATCH_TEST_PAUSE_AT: "created" } });
    await until("the run to pause after create", () => first.stderr().includes("paused at created"));
    first.child.kill("SIGKILL");
    await first.done;
    expect(await batchesOf(client)).toHaveLength(1);
    const again = await runCli(args, { env });
    expect(again.code).toBe(0);
    expect(again.stderr).not.toMatch(/paused/);
    expect(
      readJsonl(output)
        .map((l) => l.custom_id)
        .sort(),
    ).toEqual(ids(6).sort());
    expect(await batchesOf(client)).toHaveLength(2);
  });

  it("carries OpenAI chat rows where exact and answers them as chat completions; refuses the rest by line", async () => {
    const { server, sim } = await provider();
    const rows = Array.from({ length: 5 }, (_, i) => ({
      custom_id: `chat-${i}`,
      method: "POST",
      url: "/v1/chat/completions",
      body: {
        model: "sim-model",
        max_tokens: 8,
        temperature: 0.5,
        messages: [
          { role: "system", content: "be brief" },
          { role: "user", content: `question ${i}` },
        ],
      },
    }));
    const input = writeJsonl(`${fresh("in")}.jsonl`, rows);
    const output = `${fresh("out")}.jsonl`;
    const p = {
      name: "anthropic" as const,
      url: server.url,
      apiKey: "k",
      pollIntervalMs: 20,
      pollMaxMs: 100,
    };
    const summary = await runBatch({ input, output, endpoints: [], fsync: false, provider: p });
    expect(summary).toMatchObject({ succeeded: 5, failed: 0 });
    const self = `${fresh("self")}.jsonl`;
    await runBatch({ input, output: self, endpoints: [sim.url], fsync: false });
    const mine = new Map(readJsonl(self).map((l) => [l.custom_id, l]));
    for (const l of readJsonl(output)) {
      expect(l.response.status_code).toBe(200);
      expect(l.response.body.object).toBe("chat.completion");
      expect(l.response.body.choices[0].message.content).toBe(
        mine.get(l.custom_id).response.body.choices[0].message.content,
      );
      expect(l.response.body.usage.completion_tokens).toBeGreaterThan(0);
    }
    const bad = writeJsonl(`${fresh("in")}.jsonl`, [
      rows[0],
      { ...rows[1], body: { ...rows[1]?.body, tools: [] } },
      { ...rows[2], body: { ...rows[2]?.body, temperature: 1.5 } },
    ]);
    await expect(
      runBatch({ input: bad, output: `${fresh("out")}.jsonl`, endpoints: [], provider: p }),
    ).rejects.toMatchObject({
      code: "invalid_input",
      details: [
        "line 2: body.tools has no Anthropic counterpart",
        "line 3: body.temperature 1.5: Anthropic's range is 0-1",
      ],
    });
  });
});
