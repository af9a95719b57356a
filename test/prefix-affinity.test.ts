// Prefix affinity end to end, against simulated engines with prefix caches: rows sharing a prefix
// go to one engine while it has room, in prefix order whatever the file's order; an idle engine
// still gets work; --no-prefix-affinity is plain dispatch; kill -9 and resume answer every row
// once; the engines' hit rate reaches the summary. Counts and sets only, never durations.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { type RunOptions, runBatch } from "../src/index.js";
import { readLineBatches } from "../src/input/lines.js";
import { maxTokensOf, prefixKey } from "../src/input/prefix-key.js";
import type { SimServer } from "../src/sim/index.js";
import { runCli, startCli } from "./helpers/cli.js";
import { idCounts, readJsonl, tempDir, writeJsonl } from "./helpers/files.js";
import { useSims } from "./helpers/sims.js";
import { until } from "./helpers/wait.js";

const dir = tempDir();
let n = 0;
const job = () => {
  n++;
  return { input: join(dir, `p-${n}.in.jsonl`), output: join(dir, `p-${n}.out.jsonl`) };
};
const sim = useSims({ prefillMs: 0, stepMs: 0 });
const fast = { retryBaseMs: 5, retryMaxMs: 50, fsync: false };

function doc(d: number): string {
  return `Document ${d}: ${"the committee reviewed the budget, the schedule and the risks. ".repeat(20)}${d}`;
}

/** `docs` documents x `questions` questions; sorted by question (a document's rows far apart) or by document. */
function rows(docs: number, questions: number, byQuestion: boolean): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let a = 0; a < (byQuestion ? questions : docs); a++) {
    for (let b = 0; b < (byQuestion ? docs : questions); b++) {
      const [d, q] = byQuestion ? [b, a] : [a, b];
      out.push({
        custom_id: `d${d}-q${q}`,
        method: "POST",
        url: "/v1/chat/completions",
        body: {
          model: "sim-model",
          max_tokens: 4,
          messages: [
            { role: "system", content: doc(d) },
            { role: "user", content: `Question ${q}: what does it say?` },
          ],
        },
      });
    }
  }
  return out;
}

/** Starts `count` engines that note which document each request they receive is about. */
async function engines(count: number, options = {}): Promise<{ sims: SimServer[]; got: string[][] }> {
  const got: string[][] = [];
  const sims: SimServer[] = [];
  for (let i = 0; i < count; i++) {
    const mine: string[] = [];
    got.push(mine);
    sims.push(
      await sim({
        ...options,
        onRequestBody: (_path, body) => {
          mine.push(/Document (\d+)/.exec(body)?.[1] ?? "?");
        },
      }),
    );
  }
  return { sims, got };
}

/** Prompt tokens the engines computed (looked up and not found in their prefix caches). */
function computed(sims: SimServer[]): number {
  return sims.reduce((sum, s) => sum + s.stats().prefixCacheQueries - s.stats().prefixCacheHits, 0);
}

async function run(input: Record<string, unknown>[], sims: SimServer[], extra: Partial<RunOptions> = {}) {
  const j = job();
  writeJsonl(j.input, input);
  const summary = await runBatch({ ...j, endpoints: sims.map((s) => s.url), ...fast, ...extra });
  expect(summary.succeeded).toBe(input.length);
  expect([...idCounts(j.output).values()].every((c) => c === 1)).toBe(true);
  return { summary, output: j.output };
}

describe("prefix keys", () => {
  it("are the same for rows sharing a system message or a document, and 0 for short prompts", () => {
    const [a, b, c] = rows(2, 2, false).map((r) => r.body as Record<string, unknown>);
    const key = (body: unknown) => prefixKey("/v1/chat/completions", body as Record<string, unknown>);
    expect(key(a)).toBe(key(b));
    expect(key(a)).not.toBe(key(c));
    expect(key(a)).not.toBe(0);
    const lone = (q: string) => ({ messages: [{ role: "user", content: `${doc(7)}\n\nQuestion: ${q}` }] });
    expect(prefixKey("/v1/chat/completions", lone("who?"))).toBe(
      prefixKey("/v1/chat/completions", lone("why?")),
    );
    expect(prefixKey("/v1/completions", { prompt: `${doc(3)} Q1` })).toBe(
      prefixKey("/v1/completions", { prompt: `${doc(3)} Q2` }),
    );
    expect(prefixKey("/v1/chat/completions", { messages: [{ role: "user", content: "hi" }] })).toBe(0);
    expect(prefixKey("/v1/embeddings", { input: doc(1) })).toBe(0);
    expect(maxTokensOf({ max_completion_tokens: 7, max_tokens: 3 })).toBe(7);
    expect(maxTokensOf({})).toBeNull();
  });

  it("come with each line's byte offset, which reads the line back (a BOM, CRLF, a line across chunks)", async () => {
    const j = job();
    const text = `\ufeff{"a":1}\r\n\n  {"b":"${"x".repeat(70_000)}"}\n{"c":3}`;
    const bytes = Buffer.from(text);
    writeFileSync(j.input, bytes);
    const chunks = [bytes.subarray(0, 2), bytes.subarray(2, 40_000), bytes.subarray(40_000)];
    const lines = [];
    for await (const batch of readLineBatches(Readable.from(chunks))) lines.push(...batch);
    expect(lines).toHaveLength(3);
    const file = readFileSync(j.input);
    for (const l of lines) expect(file.subarray(l.offset, l.offset + l.raw.length).equals(l.raw)).toBe(true);
  });
});

describe("prefix affinity", () => {
  it("sends a document's rows to one engine, and the file's order does not matter", async () => {
    const byQuestion = await engines(3);
    const a = await run(rows(13, 4, true), byQuestion.sims);
    for (let d = 0; d < 13; d++) {
      const holders = byQuestion.got.filter((g) => g.includes(String(d)));
      expect(holders, `document ${d}`).toHaveLength(1);
    }
    const byDoc = await engines(3);
    await run(rows(13, 4, false), byDoc.sims);
    expect(computed(byQuestion.sims)).toBe(computed(byDoc.sims));
    // the hit rate is the engines' own, read from their /metrics
    const pc = a.summary.prefixCache;
    expect(pc?.queries).toBe(byQuestion.sims.reduce((s, e) => s + e.stats().prefixCacheQueries, 0));
    expect(pc?.hitRate).toBeGreaterThan(0.5);
  });

  it("--no-prefix-affinity sends in input order, and the engines compute more", async () => {
    const on = await engines(1);
    await run(rows(6, 3, true), on.sims, { concurrency: 1 });
    // each document's rows one after another
    const seenOn = on.got[0] as string[];
    const runs = seenOn.filter((d, i) => i === 0 || seenOn[i - 1] !== d);
    expect(runs).toHaveLength(6);
    const off = await engines(1);
    await run(rows(6, 3, true), off.sims, { concurrency: 1, prefixAffinity: false });
    expect(off.got[0]).toEqual(rows(6, 3, true).map((r) => /d(\d+)/.exec(String(r.custom_id))?.[1]));

    const spreadOn = await engines(3);
    await run(rows(13, 4, true), spreadOn.sims);
    const spreadOff = await engines(3);
    await run(rows(13, 4, true), spreadOff.sims, { prefixAffinity: false });
    // 13 documents over 3 engines: without affinity a document's rows land on several engines
    expect(computed(spreadOff.sims)).toBeGreaterThan(1.5 * computed(spreadOn.sims));
  });

  it("never leaves an engine idle: rows of one prefix spill to free room", async () => {
    const { sims, got } = await engines(2, { stepMs: 2, maxNumSeqs: 2 });
    const input = rows(1, 40, false);
    await run(input, sims, { concurrency: 2 });
    expect(got[0]?.length).toBeGreaterThanOrEqual(8);
    expect(got[1]?.length).toBeGreaterThanOrEqual(8);
  });
});

describe("prefix affinity under kill -9", () => {
  it("answers every row once across a kill and a resume, and prints the hit rate in --json", async () => {
    const slow = await sim({ maxNumSeqs: 4, stepMs: 15, outputTokens: 4, trackRequests: true });
    const j = job();
    const input = rows(20, 10, true);
    writeJsonl(j.input, input);
    const args = ["run", j.input, "-o", j.output, "-e", slow.url, "--concurrency", "4"];
    const first = startCli(args);
    await until("30 output lines", () => readJsonl(j.output).length > 30);
    first.child.kill("SIGKILL");
    await first.done;
    const fresh = await sim({ trackRequests: true });
    const second = await runCli([...args.slice(0, 4), "-e", fresh.url, "--json"]);
    expect(second.code).toBe(0);
    const counts = idCounts(j.output);
    expect(counts.size).toBe(input.length);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    // at most the rows in flight at the kill and those answered in the last commit interval (200 ms:
    // about 13 rows at 4 x 60 ms) are sent twice
    const sent = slow.stats().received + fresh.stats().received;
    expect(sent).toBeLessThan(input.length + 40);
    const summary = JSON.parse(second.stdout.trim().split("\n").at(-1) as string);
    expect(summary.prefixCache.hitRate).toBeGreaterThan(0);
    expect(second.stderr).toContain("prompt tokens found in the engines' prefix caches");
  }, 60_000);
});

describe("length-aware order", () => {
  it("sends the longest rows first when max_tokens vary, and in input order with --no-length-order", async () => {
    const input = Array.from({ length: 30 }, (_, i) => ({
      custom_id: `r${i}`,
      method: "POST",
      url: "/v1/chat/completions",
      body: {
        model: "sim-model",
        max_tokens: 10 + ((i * 7) % 30) * 3,
        messages: [{ role: "user", content: `q${i}` }],
      },
    }));
    const order = async (extra: Partial<RunOptions>) => {
      const seen: number[] = [];
      const s = await sim({ onRequestBody: (_p, body) => seen.push(JSON.parse(body).max_tokens) });
      await run(input, [s], { concurrency: 1, ...extra });
      return seen;
    };
    const longestFirst = await order({});
    expect(longestFirst).toEqual([...longestFirst].sort((a, b) => b - a));
    expect(await order({ lengthOrder: false })).toEqual(input.map((r) => r.body.max_tokens));
  });
});

describe("a journal from before prefix keys", () => {
  it("resumes in input order, every row once", async () => {
    const slow = await sim({ maxNumSeqs: 2, stepMs: 5, outputTokens: 4 });
    const j = job();
    const input = rows(10, 6, true);
    writeJsonl(j.input, input);
    const stop = new AbortController();
    const first = runBatch({ ...j, endpoints: [slow.url], ...fast, concurrency: 2, signal: stop.signal });
    await until("a first commit", () => readJsonl(j.output).length > 5);
    stop.abort();
    const r1 = await first;
    expect(r1.interrupted).toBe(true);
    // Make it the journal an earlier version wrote: no key, offset, length or order columns.
    const Database = (await import("better-sqlite3")).default;
    const db = new Database(j.output.replace(/\.jsonl$/, ".vbatch.db"));
    db.exec("DROP INDEX IF EXISTS rows_by_prefix; DROP INDEX IF EXISTS rows_by_length");
    for (const c of ["pkey", "off", "len", "ptok", "maxt", "lord"])
      db.exec(`ALTER TABLE rows DROP COLUMN ${c}`);
    db.exec("DELETE FROM meta WHERE key IN ('shared_prefixes', 'length_spread')");
    db.close();
    const seen: string[] = [];
    const s = await sim({ onRequestBody: (_p, body) => seen.push(/Document (\d+)/.exec(body)?.[1] ?? "?") });
    const r2 = await runBatch({ ...j, endpoints: [s.url], ...fast, concurrency: 1 });
    expect(r2.succeeded).toBe(input.length);
    const counts = idCounts(j.output);
    expect(counts.size).toBe(input.length);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    // input order: the documents come round as the file has them, not grouped
    expect(seen.filter((d, i) => i === 0 || seen[i - 1] !== d).length).toBe(seen.length);
  });
});
