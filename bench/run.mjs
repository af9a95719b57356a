// `npm run bench [-- <scenario>...] [--quick]`: the simulator and vbatch side by side, one table,
// also written to bench/RESULTS.md. Scenarios: saturation, large, overhead, memory, resume, embeddings,
// failover, hetero, pool, prefix, few-shot, tail (the last three in shared.mjs).
import { spawn } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import {
  busyShare,
  chatDurations,
  chatWorkSeconds,
  greedyMakespan,
  median,
  OUT,
  ROOT,
  runVbatch,
  startSimPool,
  startSimProcess,
  writeInput,
} from "./lib.mjs";
import { fewShot, prefix, tail } from "./shared.mjs";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const wanted = argv.filter((a) => !a.startsWith("--"));
const scale = quick ? 0.2 : 1;
const rows = [];
const record = (scenario, variant, metric, value, target, command) => {
  rows.push({ scenario, variant, metric, value, target, command });
  console.log(`${scenario} | ${variant} | ${metric} = ${value}${target ? ` (target ${target})` : ""}`);
};
const out = (name) => {
  const p = join(OUT, name);
  rmSync(p, { force: true });
  rmSync(p.replace(/\.jsonl$/, ".vbatch.db"), { force: true });
  rmSync(p.replace(/\.jsonl$/, ".errors.jsonl"), { force: true });
  return p;
};

async function saturation() {
  const n = Math.round(10_000 * scale);
  const input = await writeInput(`sat-${n}.jsonl`, n);
  // ~45 ms per request: 5 ms prefill + 20 tokens x 2 ms.
  const simArgs = ["--max-num-seqs", "64", "--prefill-ms", "5", "--step-ms", "2", "--output-len", "20"];
  for (const [variant, extra] of [
    ["fixed 8", ["--concurrency", "8"]],
    ["fixed 128 (2 x slots)", ["--concurrency", "128"]],
    ["adaptive (no flags)", []],
  ]) {
    const sim = await startSimProcess(simArgs);
    const { done } = runVbatch([input, "-o", out("sat.jsonl"), "-e", sim.url, ...extra]);
    const { summary } = await done;
    const st = await sim.stats();
    await sim.stop();
    record(
      `1 saturation (64 slots, 45 ms, ${n} rows)`,
      variant,
      "busy share",
      busyShare(st, 64).toFixed(3),
      variant.startsWith("adaptive") ? ">= 0.95" : "",
      `npm run bench -- saturation`,
    );
    record("1 saturation", variant, "rows/s", Math.round(summary.rowsPerSec), "", "");
    if (variant.startsWith("adaptive")) {
      record("1 saturation", variant, "max waiting", st.maxWaiting, "<= 64 (the slots)", "");
    }
  }
}

async function large() {
  const n = Math.round(20_000 * scale);
  const input = await writeInput(`large-${n}.jsonl`, n);
  // ~400 ms per request: 40 tokens x 10 ms; 1024 slots => ~2,560 rows/s at full use.
  const sim = await startSimProcess([
    "--max-num-seqs",
    "1024",
    "--prefill-ms",
    "0",
    "--step-ms",
    "10",
    "--output-len",
    "40",
  ]);
  const { done } = runVbatch([input, "-o", out("large.jsonl"), "-e", sim.url]);
  const { summary } = await done;
  const st = await sim.stats();
  await sim.stop();
  const cmd = "npm run bench -- large";
  record(
    `2 large engine (1024 slots, 400 ms, ${n} rows)`,
    "adaptive",
    "busy share",
    busyShare(st, 1024).toFixed(3),
    ">= 0.9",
    cmd,
  );
  record("2 large engine", "adaptive", "max waiting", st.maxWaiting, "<= 512", cmd);
  record("2 large engine", "adaptive", "rows/s", Math.round(summary.rowsPerSec), "~2,560 ideal", cmd);
}

function bareClient(url, file, concurrency) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(ROOT, "bench", "bare-client.mjs"), url, file, String(concurrency)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let b = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (b += d));
    child.on("close", (code) =>
      code === 0 ? resolve(JSON.parse(b)) : reject(new Error(`bare client exited ${code}`)),
    );
  });
}

async function overhead() {
  const n = Math.round(30_000 * scale);
  const input = await writeInput(`overhead-${n}.jsonl`, n);
  const sim = await startSimProcess(["--max-num-seqs", "4096", "--prefill-ms", "0", "--step-ms", "0"]);
  const bare = [];
  const http = [];
  const sdk = [];
  for (let i = 0; i < 3; i++) {
    bare.push((await bareClient(sim.url, input, 256)).rowsPerSec);
    http.push(
      (await runVbatch([input, "-o", out("ovh.jsonl"), "-e", sim.url, "--concurrency", "256"]).done).summary
        .rowsPerSec,
    );
    sdk.push(
      (
        await runVbatch([
          input,
          "-o",
          out("ovh.jsonl"),
          "-e",
          sim.url,
          "--concurrency",
          "256",
          "--transport",
          "sdk",
        ]).done
      ).summary.rowsPerSec,
    );
  }
  await sim.stop();
  const cmd = "npm run bench -- overhead";
  const b = median(bare);
  record(
    `3 overhead (instant engine, ${n} rows, 256 in flight)`,
    "bare node:http client",
    "rows/s (median of 3)",
    Math.round(b),
    "",
    cmd,
  );
  record(
    "3 overhead",
    "vbatch --transport http (default)",
    "rows/s (median of 3)",
    Math.round(median(http)),
    "",
    cmd,
  );
  record(
    "3 overhead",
    "vbatch --transport http (default)",
    "ratio to bare",
    (median(http) / b).toFixed(2),
    ">= 0.5, aim 0.8",
    cmd,
  );
  record(
    "3 overhead",
    "vbatch --transport sdk (openai SDK)",
    "rows/s (median of 3)",
    Math.round(median(sdk)),
    "",
    cmd,
  );
  record(
    "3 overhead",
    "vbatch --transport sdk (openai SDK)",
    "ratio to bare",
    (median(sdk) / b).toFixed(2),
    "",
    cmd,
  );
}

async function memory() {
  const cmd = "npm run bench -- memory";
  const sim = await startSimProcess(["--max-num-seqs", "4096", "--prefill-ms", "0", "--step-ms", "0"]);
  const rss = {};
  for (const n of [100_000, 1_000_000].map((x) => Math.round(x * scale))) {
    const input = await writeInput(`mem-${n}.jsonl`, n);
    const { summary } = await runVbatch([input, "-o", out("mem.jsonl"), "-e", sim.url]).done;
    rss[n] = summary.maxRssMb;
    record(`4 memory`, `${n.toLocaleString("en-US")} rows`, "peak RSS MB", summary.maxRssMb, "", cmd);
    rmSync(input, { force: true });
  }
  const [a, b] = Object.values(rss);
  record("4 memory", "1 M / 100 k", "ratio", (b / a).toFixed(2), "<= 1.3, 1 M < 300 MB", cmd);
  await sim.stop();
}

async function resume() {
  const cmd = "npm run bench -- resume";
  const n = Math.round(1_000_000 * scale);
  const input = await writeInput(`resume-${n}.jsonl`, n);
  const sim = await startSimProcess(["--max-num-seqs", "4096", "--prefill-ms", "0", "--step-ms", "0"]);
  const o = out("resume.jsonl");
  // First run: stop it once 90% of the rows are done (SIGINT, as a user would).
  const first = runVbatch([input, "-o", o, "-e", sim.url]);
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    const st = await sim.stats();
    if (st.completed >= n * 0.9) break;
  }
  first.child.kill("SIGINT");
  const r1 = await first.done;
  await sim.stop();
  const sim2 = await startSimProcess(["--max-num-seqs", "4096", "--prefill-ms", "0", "--step-ms", "0"]);
  const started = performance.now();
  const second = runVbatch([input, "-o", o, "-e", sim2.url]);
  let firstRequestMs = null;
  while (firstRequestMs === null) {
    const st = await sim2.stats();
    if (st.received > 0) firstRequestMs = performance.now() - started;
    else await new Promise((r) => setTimeout(r, 10));
  }
  const r2 = await second.done;
  await sim2.stop();
  record(
    `5 resume (${n.toLocaleString("en-US")} rows, ${r1.summary.succeeded.toLocaleString("en-US")} done)`,
    "re-run",
    "start to first new request, s",
    (firstRequestMs / 1000).toFixed(2),
    "< 5",
    cmd,
  );
  record(
    "5 resume",
    "re-run",
    "rows sent by the re-run",
    r2.summary.requests,
    `${n - r1.summary.succeeded} pending`,
    cmd,
  );
  rmSync(input, { force: true });
}

async function embeddings() {
  const cmd = "npm run bench -- embeddings";
  const n = Math.round(100_000 * scale);
  const input = await writeInput(`embed-${n}.jsonl`, n, "embed");
  const sim = await startSimProcess([
    "--max-num-seqs",
    "4096",
    "--prefill-ms",
    "0",
    "--step-ms",
    "0",
    "--embedding-dim",
    "256",
  ]);
  const co = [];
  const single = [];
  for (let i = 0; i < 3; i++) {
    co.push((await runVbatch([input, "-o", out("emb.jsonl"), "-e", sim.url]).done).summary.rowsPerSec);
    single.push(
      (await runVbatch([input, "-o", out("emb.jsonl"), "-e", sim.url, "--no-coalesce"]).done).summary
        .rowsPerSec,
    );
  }
  await sim.stop();
  record(
    `6 embeddings (${n.toLocaleString("en-US")} single-input rows, 256-dim, instant engine)`,
    "coalesced (default)",
    "rows/s (median of 3)",
    Math.round(median(co)),
    "",
    cmd,
  );
  record("6 embeddings", "--no-coalesce", "rows/s (median of 3)", Math.round(median(single)), "", cmd);
  record("6 embeddings", "coalesced / not", "ratio", (median(co) / median(single)).toFixed(2), "", cmd);
}

async function failover() {
  const cmd = "npm run bench -- failover";
  const n = Math.round(15_000 * scale);
  const input = await writeInput(`failover-${n}.jsonl`, n);
  const simArgs = ["--max-num-seqs", "256", "--prefill-ms", "0", "--step-ms", "10", "--output-len", "40"];
  const sims = await Promise.all([0, 1, 2].map(() => startSimProcess(simArgs)));
  const epoch = () => performance.timeOrigin + performance.now();
  const started = epoch();
  const run = runVbatch([input, "-o", out("failover.jsonl"), ...sims.flatMap((x) => ["-e", x.url])]);
  let killedAt = null;
  let victim = null;
  while (killedAt === null) {
    await new Promise((r) => setTimeout(r, 50));
    const stats = await Promise.all(sims.map((x) => x.stats()));
    victim = stats[0];
    if (stats.reduce((a, st) => a + st.completed, 0) >= n / 3) {
      sims[0].kill();
      killedAt = epoch();
    }
  }
  const { summary, wallMs } = await run.done;
  const survivors = await Promise.all(sims.slice(1).map((x) => x.stats()));
  await Promise.all(sims.slice(1).map((x) => x.stop()));
  // Ideal: the slot-seconds the rows need, served by 768 slots until the kill and 512 after,
  // counted from vbatch's start (as before) and from its first request (the scheduler's part).
  const work = await chatWorkSeconds(n, { prefillMs: 0, stepMs: 10, outputLen: 40 });
  const ideal = (from) => {
    const before = (killedAt - from) / 1000;
    return before + Math.max(0, work - 768 * before) / 512;
  };
  const firstRequest = Math.min(...[victim, ...survivors].map((st) => st.timeOrigin + st.firstStartMs));
  const lastAnswer = Math.max(...survivors.map((st) => st.timeOrigin + st.lastEndMs));
  record(
    `7 failover (3 x 256 slots, 400 ms, ${n.toLocaleString("en-US")} rows, one killed at 1/3)`,
    "adaptive",
    "makespan / ideal",
    (wallMs / 1000 / ideal(started)).toFixed(2),
    "<= 1.2",
    cmd,
  );
  record(
    "7 failover",
    "adaptive",
    "first request to last answer / ideal",
    ((lastAnswer - firstRequest) / 1000 / ideal(firstRequest)).toFixed(2),
    "",
    cmd,
  );
  record(
    "7 failover",
    "adaptive",
    "vbatch start to first request, s",
    ((firstRequest - started) / 1000).toFixed(2),
    "",
    cmd,
  );
  record(
    "7 failover",
    "adaptive",
    "rows ok / failed",
    `${summary.succeeded} / ${summary.failed}`,
    `${n} / 0`,
    cmd,
  );
}

async function hetero() {
  const cmd = "npm run bench -- hetero";
  const n = Math.round(20_000 * scale);
  const input = await writeInput(`hetero-${n}.jsonl`, n);
  // ~600 ms per request: 60 tokens x 10 ms; 1,088 slots => ~1,810 rows/s at full use.
  const args = (slots) => [
    "--max-num-seqs",
    String(slots),
    "--prefill-ms",
    "0",
    "--step-ms",
    "10",
    "--output-len",
    "60",
  ];
  const small = await startSimProcess(args(64));
  const big = await startSimProcess(args(1024));
  const { summary } = await runVbatch([input, "-o", out("hetero.jsonl"), "-e", small.url, "-e", big.url])
    .done;
  const [a, b] = [await small.stats(), await big.stats()];
  await Promise.all([small.stop(), big.stop()]);
  // Both engines measured over the same span: the job's first start to its last end. Each sim is
  // its own process with its own performance.now(), so the times are put on the epoch first.
  const first = Math.min(a.timeOrigin + a.firstStartMs, b.timeOrigin + b.firstStartMs);
  const last = Math.max(a.timeOrigin + a.lastEndMs, b.timeOrigin + b.lastEndMs);
  const share = (st, slots) => st.busySlotMs / (slots * (last - first));
  record(
    `8 heterogeneous pool (64 + 1024 slots, 600 ms, ${n.toLocaleString("en-US")} rows)`,
    "64-slot engine",
    "busy share",
    share(a, 64).toFixed(3),
    ">= 0.9",
    cmd,
  );
  record("8 heterogeneous pool", "1024-slot engine", "busy share", share(b, 1024).toFixed(3), ">= 0.9", cmd);
  record("8 heterogeneous pool", "both", "rows/s", Math.round(summary.rowsPerSec), "~1,810 ideal", cmd);
}

async function pool() {
  const cmd = "npm run bench -- pool";
  const n = Math.round(8_000 * scale);
  const engines = 64;
  const slots = 8;
  const input = await writeInput(`pool-${n}.jsonl`, n);
  // 1-3 s a request (200 tokens x 10 ms on average, each prompt's own length), all 64 engines in
  // one process: 512 slots, about 256 rows/s at full use.
  const plan = { prefillMs: 0, stepMs: 10, outputLen: 200 };
  const sims = await startSimPool(engines, { maxNumSeqs: slots, ...plan, outputLenSpread: 0.5 });
  const started = performance.timeOrigin + performance.now();
  const engineArgs = sims.urls.flatMap((u) => ["-e", u]);
  const { summary, wallMs } = await runVbatch([input, "-o", out("pool.jsonl"), ...engineArgs]).done;
  const stats = await sims.stats();
  await sims.stop();
  const durations = await chatDurations(n, plan);
  const ideal = durations.reduce((a, b) => a + b, 0) / (engines * slots);
  const first = Math.min(...stats.map((st) => st.timeOrigin + st.firstStartMs));
  const last = Math.max(...stats.map((st) => st.timeOrigin + st.lastEndMs));
  const shares = stats.map((st) => busyShare(st, slots)).sort((a, b) => a - b);
  const scenario = `9 pool (64 engines x 8 slots in one process, 1-3 s, ${n.toLocaleString("en-US")} rows)`;
  record(
    scenario,
    "adaptive",
    "first request to last answer / ideal",
    ((last - first) / 1000 / ideal).toFixed(3),
    "<= 1.1",
    cmd,
  );
  record("9 pool", "adaptive", "vbatch start to exit / ideal", (wallMs / 1000 / ideal).toFixed(3), "", cmd);
  record(
    "9 pool",
    "adaptive",
    "vbatch start to first request, s",
    ((first - started) / 1000).toFixed(2),
    "",
    cmd,
  );
  record("9 pool", "adaptive", "ideal, s", ideal.toFixed(2), "", cmd);
  const floor = greedyMakespan(durations, engines * slots) / ideal;
  record(
    "9 pool",
    "greedy dispatch, no latency",
    "makespan / ideal (the last wave)",
    floor.toFixed(3),
    "",
    cmd,
  );
  record("9 pool", "each engine", "busy share, least", shares[0].toFixed(3), ">= 0.9", cmd);
  record("9 pool", "each engine", "busy share, median", median(shares).toFixed(3), "", cmd);
  const maxWaiting = Math.max(...stats.map((st) => st.maxWaiting));
  record("9 pool", "each engine", "max waiting, largest", maxWaiting, "", cmd);
  record(
    "9 pool",
    "adaptive",
    "rows ok / failed",
    `${summary.succeeded} / ${summary.failed}`,
    `${n} / 0`,
    cmd,
  );
}

const shared = (f) => () => f({ record, out, scale });
const scenarios = {
  saturation,
  large,
  overhead,
  memory,
  resume,
  embeddings,
  failover,
  hetero,
  pool,
  prefix: shared(prefix),
  "few-shot": shared(fewShot),
  tail: shared(tail),
};
for (const name of wanted.length ? wanted : Object.keys(scenarios)) {
  if (!scenarios[name])
    throw new Error(`unknown scenario ${name}; one of ${Object.keys(scenarios).join(", ")}`);
  await scenarios[name]();
}

const cpu = os.cpus()[0]?.model ?? "unknown CPU";
const lines = [
  "# Benchmark results",
  "",
  `Run ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} shared cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}${quick ? ", --quick (rows scaled to 20%)" : ""}.`,
  "Two shared cores: absolute rows/s move between runs; read the ratios and medians. Each scenario",
  "runs the simulator and vbatch as separate processes. Reproduce with the command beside each figure.",
  "",
  "| scenario | variant | metric | value | target | command |",
  "|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${r.scenario} | ${r.variant} | ${r.metric} | ${r.value} | ${r.target} | ${r.command ? `\`${r.command}\`` : ""} |`,
  ),
  "",
];
const file = join(ROOT, "bench", wanted.length ? "RESULTS.partial.md" : "RESULTS.md");
writeFileSync(file, lines.join("\n"));
console.log(`\nwritten to ${file}`);
