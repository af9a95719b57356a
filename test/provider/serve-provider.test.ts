// --provider openai end to end, with `vbatch serve` (which speaks the OpenAI Files and Batches
// API) as the provider and the simulator behind it: chunks, ids in the journal, the output
// shaped as a self-hosted run's.
import { join } from "node:path";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { runBatch } from "../../src/job/run-batch.js";
import { Journal } from "../../src/journal/journal.js";
import { type RunningServer, startServer } from "../../src/server/index.js";
import { type SimServer, startSim } from "../../src/sim/index.js";
import { readJsonl, tempDir, writeChatInput } from "../helpers/files.js";

const dir = tempDir("vbatch-provider-");
let n = 0;
const fresh = (name: string) => join(dir, `${name}-${++n}`);

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

const openai = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: "k", maxRetries: 0 });

async function provider(): Promise<{ server: RunningServer; sim: SimServer }> {
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
  return { server, sim };
}

describe("--provider openai against vbatch serve", () => {
  it("sends every row in chunks and writes each answer once, as a self-hosted run would", async () => {
    const { server, sim } = await provider();
    const input = writeChatInput(`${fresh("in")}.jsonl`, 25);
    const output = `${fresh("out")}.jsonl`;
    const summary = await runBatch({
      input,
      output,
      endpoints: [],
      tags: { team: "search" },
      fsync: false,
      provider: {
        name: "openai",
        url: `${server.url}/v1`,
        apiKey: "k",
        chunkRows: 10,
        pollIntervalMs: 20,
        pollMaxMs: 100,
      },
    });
    expect(summary).toMatchObject({ total: 25, succeeded: 25, failed: 0, interrupted: false });
    const lines = readJsonl(output);
    expect(lines.map((l) => l.custom_id).sort()).toEqual(
      Array.from({ length: 25 }, (_, i) => `row-${i}`).sort(),
    );
    const selfHosted = `${fresh("self")}.jsonl`;
    await runBatch({ input, output: selfHosted, endpoints: [sim.url], fsync: false });
    const mine = new Map(readJsonl(selfHosted).map((l) => [l.custom_id, l]));
    for (const l of lines) {
      const other = mine.get(l.custom_id);
      expect(Object.keys(l)).toEqual(Object.keys(other));
      expect(l.id).toMatch(/^batch_req_[0-9a-f]+$/);
      expect(l.response.status_code).toBe(200);
      expect(l.response.body.choices[0].message.content).toBe(other.response.body.choices[0].message.content);
    }
    const journal = new Journal(output.replace(/\.jsonl$/, ".vbatch.db"), { readonly: true });
    const chunks = journal.batches().chunks();
    journal.close();
    expect(chunks.map((c) => [c.rows, c.state, c.status])).toEqual([
      [10, "done", "completed"],
      [10, "done", "completed"],
      [5, "done", "completed"],
    ]);
    expect(new Set(chunks.map((c) => c.batchId)).size).toBe(3);
    expect(chunks.every((c) => c.fileId?.startsWith("file-") && c.batchId?.startsWith("batch_"))).toBe(true);
    const seen = await openai(server.url).batches.list();
    expect(
      seen.data.map((b) => b.metadata).sort((a, b) => Number(a?.vbatch_chunk) - Number(b?.vbatch_chunk)),
    ).toEqual(
      [1, 2, 3].map((c) => ({ vbatch_job: expect.any(String), vbatch_chunk: String(c), team: "search" })),
    );
  });
});
