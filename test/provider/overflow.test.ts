// Overflow by deadline: a job on a simulated engine too slow for its deadline moves just enough
// rows to the provider stand-in's batches; every row runs in exactly one place and is written
// once; a batch that fails gives its rows back to the engine; the budget caps what moves.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunOptions } from "../../src/job/options.js";
import { runBatch } from "../../src/job/run-batch.js";
import { type SimServer, startSim } from "../../src/sim/index.js";
import { readJsonl, tempDir, writeChatInput } from "../helpers/files.js";
import { type StandIn, type StandInScript, startStandIn } from "../helpers/provider-stand-in.js";

const dir = tempDir("vbatch-overflow-");
let n = 0;
const fresh = (name: string) => join(dir, `${name}-${++n}`);
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

const ROWS = 100;

// The engine: 2 slots, about 80 ms a request, some 25 rows a second: 4 s for 100 rows, where the
// deadline gives it 2.5 s (ample for the 10 rows its rate is measured on, even on a busy machine).
async function job(script: StandInScript, o: { deadlineMs: number; budgetUsd?: number; rows?: number }) {
  const sim: SimServer = await startSim({ model: "gpt-4o-mini", maxNumSeqs: 2, prefillMs: 0, stepMs: 10 });
  const stand: StandIn = await startStandIn(script);
  closers.push(
    () => sim.close(),
    () => stand.close(),
  );
  const input = writeChatInput(`${fresh("in")}.jsonl`, o.rows ?? ROWS, {
    model: "gpt-4o-mini",
    maxTokens: 8,
  });
  const output = `${fresh("out")}.jsonl`;
  const options: RunOptions = {
    input,
    output,
    endpoints: [sim.url],
    concurrency: 2,
    fsync: false,
    overflow: {
      deadline: Date.now() + o.deadlineMs,
      marginMs: 100,
      budgetUsd: o.budgetUsd,
      checkMs: 50,
      provider: {
        name: "openai",
        url: stand.url,
        apiKey: "k",
        pollIntervalMs: 10,
        pollMaxMs: 50,
        price: { inputPerMillion: 1e5, outputPerMillion: 0 },
      },
    },
  };
  const summary = await runBatch(options);
  const out = readJsonl(output);
  return { summary, out, stand, sim };
}

const sentToStand = (s: StandIn) => s.batches.flatMap((b) => b.rows.map((r) => r.custom_id));

describe("overflow by deadline", () => {
  it("moves just enough rows to a batch; each row runs in one place and is written once", async () => {
    const { summary, out, stand } = await job({}, { deadlineMs: 2500 });
    expect(out.map((l) => l.custom_id).sort()).toEqual(
      Array.from({ length: ROWS }, (_, i) => `row-${i}`).sort(),
    );
    const moved = sentToStand(stand);
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.length).toBeLessThan(ROWS);
    expect(new Set(moved).size).toBe(moved.length);
    expect(summary.overflow).toEqual({ engineRows: ROWS - moved.length, providerRows: moved.length });
    // The rows the provider answered are the ones the engine never answered.
    const fromStand = out.filter((l) => l.response.body.choices[0].message.content.startsWith("answer to "));
    expect(fromStand.map((l) => l.custom_id).sort()).toEqual([...moved].sort());
    expect(summary.provider?.batches).toBeGreaterThan(0);
  });

  it("gives the rows of a failed batch back to the engines", async () => {
    const { summary, out, stand } = await job({ failBatch: { 1: "server_error" } }, { deadlineMs: 2500 });
    expect(out.map((l) => l.custom_id).sort()).toEqual(
      Array.from({ length: ROWS }, (_, i) => `row-${i}`).sort(),
    );
    expect(stand.batches[0]?.status).toBe("failed");
    expect(summary.overflow?.engineRows).toBe(ROWS - (summary.overflow?.providerRows ?? 0));
  });

  it("moves nothing past the budget", async () => {
    const { summary, out, stand } = await job({}, { deadlineMs: 600, budgetUsd: 0, rows: 30 });
    expect(out).toHaveLength(30);
    expect(stand.batches).toHaveLength(0);
    expect(summary.overflow).toEqual({ engineRows: 30, providerRows: 0 });
  });
});
