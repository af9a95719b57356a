// Scenarios about what rows share and how long they are: `prefix` (documents x questions, the file
// sorted by question), `few-shot` (one long shared prefix, many short rows) and `tail` (lengths that
// vary 10x). Engines run in one process (sim-pool.mjs) with the simulator's prefix cache and its
// per-token prefill (ratio 634, vllm bench serve's TTFT:TPOT, see src/sim/options.ts).
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { greedyMakespan, OUT, ROOT, runVbatch, startSimPool } from "./lib.mjs";

/** Words for documents that differ from their first block on. */
const WORDS = [
  "budget",
  "risk",
  "schedule",
  "vendor",
  "audit",
  "margin",
  "hiring",
  "churn",
  "region",
  "plan",
];

function documentText(d, chars) {
  let s = `Document ${d}.`;
  let x = d * 2654435761;
  while (s.length < chars) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    s += ` ${WORDS[x % WORDS.length]}${x % 97}`;
  }
  return s;
}

async function writeRows(name, rows) {
  const path = join(OUT, name);
  const ws = createWriteStream(path);
  for (const r of rows) {
    if (!ws.write(`${JSON.stringify(r)}\n`)) await new Promise((res) => ws.once("drain", res));
  }
  await new Promise((res) => ws.end(res));
  return path;
}

function chat(id, messages, extra = {}) {
  return {
    custom_id: id,
    method: "POST",
    url: "/v1/chat/completions",
    body: { model: "sim-model", messages, ...extra },
  };
}

/** Prompt tokens a single engine with an unbounded cache computes for these rows in this order. */
async function minimumPrefill(rows) {
  const { PrefixCache, blockHashes } = await import(join(ROOT, "dist", "sim", "prefix-cache.js"));
  const { chatTokenIds } = await import(join(ROOT, "dist", "sim", "tokens.js"));
  const cache = new PrefixCache(Number.MAX_SAFE_INTEGER);
  let computed = 0;
  for (const r of rows) {
    const ids = chatTokenIds(r.body.messages);
    computed += ids.length - cache.lookup(blockHashes(ids), ids.length);
  }
  return computed;
}

function engineArgs(urls) {
  return urls.flatMap((u) => ["-e", u]);
}

/** One run on fresh engines: vbatch's summary, the engines' span and prompt tokens computed. */
async function measure(count, simOptions, input, output, extra = []) {
  const sims = await startSimPool(count, simOptions);
  const { summary, wallMs } = await runVbatch([input, "-o", output, ...engineArgs(sims.urls), ...extra]).done;
  const stats = await sims.stats();
  await sims.stop();
  const first = Math.min(...stats.map((s) => s.timeOrigin + (s.firstStartMs ?? Number.POSITIVE_INFINITY)));
  const last = Math.max(...stats.map((s) => s.timeOrigin + (s.lastEndMs ?? 0)));
  const computed = stats.reduce((a, s) => a + s.prefixCacheQueries - s.prefixCacheHits, 0);
  return { summary, wallMs, spanMs: last - first, computed };
}

export async function prefix({ record, out, scale }) {
  const cmd = "npm run bench -- prefix";
  const docs = Math.max(8, Math.round(300 * scale));
  const questions = 8;
  const rows = [];
  for (let q = 0; q < questions; q++) {
    for (let d = 0; d < docs; d++) {
      rows.push(
        chat(`d${d}-q${q}`, [
          { role: "system", content: `Answer from this document.\n\n${documentText(d, 12_000)}` },
          { role: "user", content: `Question ${q}: what does the document say about item ${q}?` },
        ]),
      );
    }
  }
  const input = await writeRows(`prefix-${docs}.jsonl`, rows);
  const byDoc = [...rows].sort((a, b) => a.custom_id.localeCompare(b.custom_id, "en", { numeric: true }));
  const minimum = await minimumPrefill(byDoc);
  // 8 engines x 32 slots, 10 ms a decode step, ~20 tokens out: a 3,000-token prompt costs
  // 3,000 x 10 x 32 / 634 = 1.5 s of slot time to prefill, a row's decode 0.2 s.
  const sim = {
    maxNumSeqs: 32,
    prefillMs: 0,
    stepMs: 10,
    outputLen: 20,
    prefillRatio: 634,
    prefixCacheTokens: 262_144,
  };
  const on = await measure(8, sim, input, out("prefix-on.jsonl"));
  const off = await measure(8, sim, input, out("prefix-off.jsonl"), ["--no-prefix-affinity"]);
  const scenario = `10 prefix (8 engines x 32 slots, ${docs} documents of ~3,000 tokens x ${questions} questions, sorted by question)`;
  record(
    scenario,
    "affinity on",
    "prompt tokens computed / minimum",
    (on.computed / minimum).toFixed(3),
    "<= 1.15",
    cmd,
  );
  record(
    "10 prefix",
    "affinity off",
    "prompt tokens computed / minimum",
    (off.computed / minimum).toFixed(3),
    "",
    cmd,
  );
  record(
    "10 prefix",
    "on / off",
    "makespan (first request to last answer)",
    (on.spanMs / off.spanMs).toFixed(3),
    "<= 0.6",
    cmd,
  );
  record("10 prefix", "on / off", "vbatch start to exit", (on.wallMs / off.wallMs).toFixed(3), "", cmd);
  record(
    "10 prefix",
    "affinity on",
    "engines' prefix cache hit rate",
    on.summary.prefixCache?.hitRate?.toFixed(3),
    "",
    cmd,
  );
  record(
    "10 prefix",
    "affinity off",
    "engines' prefix cache hit rate",
    off.summary.prefixCache?.hitRate?.toFixed(3),
    "",
    cmd,
  );
  record(
    "10 prefix",
    "affinity on",
    "rows ok / failed",
    `${on.summary.succeeded} / ${on.summary.failed}`,
    `${rows.length} / 0`,
    cmd,
  );
}

export async function fewShot({ record, out, scale }) {
  const cmd = "npm run bench -- few-shot";
  const n = Math.round(20_000 * scale);
  const shared = `You label support tickets. Examples follow.\n\n${documentText(1, 8_000)}`;
  const rows = Array.from({ length: n }, (_, i) =>
    chat(`t${i}`, [
      { role: "system", content: shared },
      { role: "user", content: `Ticket ${i}: the invoice for order ${i * 7} is wrong.` },
    ]),
  );
  const input = await writeRows(`few-shot-${n}.jsonl`, rows);
  const sim = {
    maxNumSeqs: 64,
    prefillMs: 0,
    stepMs: 2,
    outputLen: 20,
    prefillRatio: 634,
    prefixCacheTokens: 262_144,
  };
  const on = await measure(4, sim, input, out("few-shot-on.jsonl"));
  const off = await measure(4, sim, input, out("few-shot-off.jsonl"), ["--no-prefix-affinity"]);
  const scenario = `11 few-shot (4 engines x 64 slots, one 2,000-token prefix, ${n.toLocaleString("en-US")} short rows)`;
  record(
    scenario,
    "on / off",
    "makespan (first request to last answer)",
    (on.spanMs / off.spanMs).toFixed(3),
    "<= 1.0 (no worse)",
    cmd,
  );
  record(
    "11 few-shot",
    "on / off",
    "prompt tokens computed",
    (on.computed / off.computed).toFixed(3),
    "",
    cmd,
  );
  record(
    "11 few-shot",
    "on / off",
    "rows/s",
    (on.summary.rowsPerSec / off.summary.rowsPerSec).toFixed(3),
    "",
    cmd,
  );
  record(
    "11 few-shot",
    "affinity on",
    "engines' prefix cache hit rate",
    on.summary.prefixCache?.hitRate?.toFixed(3),
    "",
    cmd,
  );
}

export async function tail({ record, out, scale }) {
  const cmd = "npm run bench -- tail";
  const n = Math.round(8_000 * scale);
  const engines = 64;
  const slots = 8;
  const stepMs = 10;
  // max_tokens from 30 to 300 (10x), spread by a hash of the row, and the sim generates exactly
  // that many (its own length is larger and max_tokens caps it): 0.3-3 s a row.
  const lengths = Array.from({ length: n }, (_, i) => 30 + ((Math.imul(i + 1, 2654435761) >>> 0) % 271));
  const rows = lengths.map((m, i) =>
    chat(`r${i}`, [{ role: "user", content: `Write note ${i}.` }], { max_tokens: m }),
  );
  const input = await writeRows(`tail-${n}.jsonl`, rows);
  const sim = { maxNumSeqs: slots, prefillMs: 0, stepMs, outputTokens: 1000, maxModelLen: 4096 };
  const durations = lengths.map((m) => (m * stepMs) / 1000);
  const ideal = durations.reduce((a, b) => a + b, 0) / (engines * slots);
  const on = await measure(engines, sim, input, out("tail-on.jsonl"));
  const off = await measure(engines, sim, input, out("tail-off.jsonl"), ["--no-length-order"]);
  const scenario = `12 tail (64 engines x 8 slots, ${n.toLocaleString("en-US")} rows, max_tokens 30-300)`;
  record(
    scenario,
    "longest first",
    "first request to last answer / ideal",
    (on.spanMs / 1000 / ideal).toFixed(3),
    "<= 1.02",
    cmd,
  );
  record(
    "12 tail",
    "input order",
    "first request to last answer / ideal",
    (off.spanMs / 1000 / ideal).toFixed(3),
    "",
    cmd,
  );
  const lpt =
    greedyMakespan(
      [...durations].sort((a, b) => b - a),
      engines * slots,
    ) / ideal;
  const fifo = greedyMakespan(durations, engines * slots) / ideal;
  record(
    "12 tail",
    "greedy, no latency",
    "makespan / ideal: longest first, input order",
    `${lpt.toFixed(3)}, ${fifo.toFixed(3)}`,
    "",
    cmd,
  );
  record("12 tail", "ideal", "s", ideal.toFixed(2), "", cmd);
}
