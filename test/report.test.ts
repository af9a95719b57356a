// vbatch report: the page of a real job (errors, retries, a resume) holds the job's own numbers,
// fetches nothing, escapes what the job wrote, and prices the GPU time beside providers' prices;
// an old journal still gives a page; bad price files and flags are refused by name.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBatch } from "../src/index.js";
import { buildReport } from "../src/report/index.js";
import { loadPriceFile } from "../src/report/price-file.js";
import { type SimServer, startSim } from "../src/sim/index.js";
import { runCli } from "./helpers/cli.js";
import { chatRow, tempDir, writeJsonl } from "./helpers/files.js";

const dir = tempDir();
let sim: SimServer;
const input = join(dir, "in.jsonl");
const output = join(dir, "out.jsonl");
const HOSTILE = `<img src=x onerror=alert(1)>"'&`;
let summary: { succeeded: number; failed: number; completionTokens: number; promptTokens: number };

beforeAll(async () => {
  sim = await startSim({ prefillMs: 0, stepMs: 1, maxNumSeqs: 8, faults: { errorRate: 0.15 }, seed: 3 });
  const rows = Array.from({ length: 80 }, (_, i) => chatRow(i, { model: "sim-model" }));
  rows.push({ ...chatRow(80, { model: "no-such-model" }), custom_id: HOSTILE });
  writeJsonl(input, rows);
  const stop = new AbortController();
  const base = {
    input,
    output,
    endpoints: [sim.url],
    fsync: false,
    maxAttempts: 2,
    retryBaseMs: 1,
    retryMaxMs: 2,
  };
  await runBatch({
    ...base,
    signal: stop.signal,
    progressIntervalMs: 20,
    onProgress: (p) => {
      if (p.succeeded + p.failed >= 30) stop.abort();
    },
  });
  await runBatch(base);
  const j = new Database(join(dir, "out.vbatch.db"), { readonly: true });
  summary = j
    .prepare(
      "SELECT sum(state = 1) AS succeeded, sum(state = 2) AS failed, sum(completion_tokens) AS completionTokens, sum(prompt_tokens) AS promptTokens FROM rows",
    )
    .get() as typeof summary;
  j.close();
});
afterAll(() => sim.kill());

describe("vbatch report", () => {
  it("writes one self-contained page with the job's own numbers", () => {
    const r = buildReport({ output, gpuPrice: 2, compare: ["gpt-5-mini", "claude-haiku-4-5"] });
    const html = readFileSync(r.path, "utf8");
    expect(r.path).toBe(join(dir, "out.report.html"));
    expect(r.bytes).toBeLessThan(1 << 20);
    // Nothing to fetch: no external URL in any src or href, and a policy that forbids it anyway.
    expect(html).not.toMatch(/\b(src|href)="(?!#)/);
    expect(html).toContain(`content="default-src 'none'; style-src 'sha256-`);
    expect(html).toContain("script-src 'none'");
    expect(html).toContain(`<b>${(summary.succeeded + summary.failed).toLocaleString("en")} / 81</b>`);
    expect(html).toContain(`<b>${summary.completionTokens.toLocaleString("en")}</b>`);
    // The hostile custom_id is text, never markup.
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;");
    // Two runs: the resume is marked on the axis and listed.
    expect(r.figures?.runs).toHaveLength(2);
    expect(html).toContain("resumed (run 2)");
    expect((html.match(/<svg /g) ?? []).length).toBe(4);
    expect(r.figures?.engines[0]?.share).toBe(1);
    expect(r.figures?.latency?.attempts).toBe(r.figures?.requests);
    expect(r.figures?.statuses["500"]).toBeGreaterThan(0);
    expect(html).toMatch(/<table id="failures">.*<th scope="row">404<\/th><td class="n">1<\/td>/s);
  });

  it("prices GPU time and the same tokens at providers' prices, and says it is an estimate", () => {
    const r = buildReport({ output, gpuHours: 2, gpuPrice: 3, compare: ["gpt-5-mini", "claude-haiku-4-5"] });
    const c = r.cost;
    expect(c.total).toBe(6);
    expect(c.perMillionTokens).toBeCloseTo((6 / (summary.promptTokens + summary.completionTokens)) * 1e6, 6);
    const mini = c.compare.find((x) => x.model === "gpt-5-mini");
    expect(mini?.batch).toBeCloseTo((summary.promptTokens * 0.125 + summary.completionTokens * 1) / 1e6, 9);
    expect(mini?.realtime).toBeCloseTo((summary.promptTokens * 0.25 + summary.completionTokens * 2) / 1e6, 9);
    expect(c.note).toMatch(/^An estimate, not a bill: 2\.000 GPU hours from given \(--gpu-hours\)/);
    // Without --gpu-hours: engines x each run's wall time (one engine here).
    const wall = buildReport({ output, gpu: "h100" }).cost;
    expect(wall.gpuHoursFrom).toMatch(/^engines x each run's wall time/);
    expect(wall.gpuPrice).toBe(3.9492);
    expect(wall.gpuHours).toBeGreaterThan(0);
    expect(() => buildReport({ output, gpu: "abacus" })).toThrow(/--gpu abacus: not in the price table/);
    expect(() => buildReport({ output, compare: ["gpt-9"] })).toThrow(/--compare gpt-9: no price for it/);
    expect(() => buildReport({ output, gpu: "H100", gpuPrice: 1 })).toThrow(
      "pass --gpu-price or --gpu, not both",
    );
  });

  it("takes a price file over the table, and refuses a bad one naming the field", () => {
    const good = join(dir, "prices.json");
    writeFileSync(
      good,
      JSON.stringify({
        gpus: [{ name: "H100", perHour: 2 }],
        models: [
          { provider: "x", model: "m1", batch: { input: 1, output: 2 }, realtime: { input: 2, output: 4 } },
        ],
      }),
    );
    const t = loadPriceFile(good);
    expect(t.gpus.find((g) => g.name === "H100")?.perHour).toBe(2);
    expect(t.models.find((m) => m.model === "m1")?.source).toBe(good);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ models: [{ provider: "x", model: "m", batch: { input: "1" } }] }));
    expect(() => loadPriceFile(bad)).toThrow(`--prices ${bad}: models[0].batch.input: must be a number >= 0`);
    writeFileSync(bad, JSON.stringify({ gpu: [] }));
    expect(() => loadPriceFile(bad)).toThrow(`--prices ${bad}: gpu: unknown key (gpus, models)`);
  });

  it("gives an old journal a page with what it has", () => {
    const d = join(dir, "old");
    const old = join(dir, "old.vbatch.db");
    writeFileSync(d, "");
    const db = new Database(join(dir, "out.vbatch.db"), { readonly: true });
    db.exec(`VACUUM INTO '${old}'`);
    db.close();
    const w = new Database(old);
    w.exec("DROP TABLE samples; DROP TABLE runs;");
    w.close();
    const r = buildReport({ journal: old, out: join(dir, "old.html") });
    const html = readFileSync(r.path, "utf8");
    expect(r.figures).toBeNull();
    expect(html).toContain('id="no-series"');
    expect(html).toMatch(/<table id="failures">.*404/s);
    expect(html).not.toContain("<svg");
    expect(r.cost.gpuHoursFrom).toBe("nothing: this journal records no runs (pass --gpu-hours)");
  });

  it("is a command: vbatch report <output> -o file --json, and status --json has the figures", async () => {
    const out = join(dir, "cli.html");
    const r = await runCli([
      "report",
      output,
      "-o",
      out,
      "--gpu-price",
      "1.5",
      "--compare",
      "gpt-5-mini",
      "--json",
    ]);
    expect(r.stderr).toContain(`report written to ${out}`);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { cost: { gpuPrice: number; compare: unknown[] }; bytes: number };
    expect(j.cost.gpuPrice).toBe(1.5);
    expect(j.cost.compare).toHaveLength(1);
    const st = await runCli(["status", output, "--json", "--gpu-hours", "1", "--gpu-price", "2"]);
    expect(st.code).toBe(0);
    const sj = JSON.parse(st.stdout) as {
      succeeded: number;
      cost: { total: number };
      figures: { runs: unknown[]; latency: { attempts: number }; rows?: unknown };
    };
    expect(sj.succeeded).toBe(summary.succeeded);
    expect(sj.cost.total).toBe(2);
    expect(sj.figures.runs).toHaveLength(2);
    expect(sj.figures.latency.attempts).toBeGreaterThan(0);
    expect(sj.figures.rows).toBeUndefined();
    const bad = await runCli(["report", output, "--gpu-price", "cheap"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--gpu-price takes a number >= 0");
    const empty = await runCli(["report", output, "--compare", "gpt-5-mini,"]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('--compare "gpt-5-mini,": an empty model name');
    // status uses the cost flags only in its JSON, and says so rather than ignoring them.
    const plain = await runCli(["status", output, "--gpu-price", "2"]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain("--gpu-price: the cost estimate is part of --json; add --json");
  });
});
