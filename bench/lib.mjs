// Shared pieces of the benchmark: simulator processes, vbatch runs, generated inputs.
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";

export const ROOT = new URL("..", import.meta.url).pathname;
export const BIN = join(ROOT, "dist", "cli", "bin.js");
export const OUT = join(ROOT, "bench", "out");
mkdirSync(OUT, { recursive: true });

/**
 * The scenarios measured before the simulator modelled prefill per prompt token and a prefix cache
 * keep them off unless they ask, so their figures and their ideals stay comparable run to run.
 */
const PREFILL_OFF = ["--prefill-ratio", "0", "--prefix-cache-tokens", "0"];

function withPrefillDefaults(args) {
  const out = [...args];
  for (let i = 0; i < PREFILL_OFF.length; i += 2) {
    if (!out.includes(PREFILL_OFF[i])) out.push(PREFILL_OFF[i], PREFILL_OFF[i + 1]);
  }
  return out;
}

/** Starts `vbatch sim` in its own process; resolves when it listens. */
export function startSimProcess(args) {
  const child = spawn(process.execPath, [BIN, "sim", "--port", "0", ...withPrefillDefaults(args)], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  return new Promise((resolve, reject) => {
    let buf = "";
    child.stdout.setEncoding("utf8").on("data", (d) => {
      buf += d;
      const m = buf.match(/listening on (http:\/\/\S+)/);
      if (m) {
        const url = m[1];
        resolve({
          url,
          child,
          stats: () => getJson(`${url}/sim/stats`),
          stop: () =>
            new Promise((r) => {
              if (child.exitCode !== null) return r();
              child.once("exit", r);
              child.kill("SIGTERM");
            }),
          kill: () => child.kill("SIGKILL"),
        });
      }
    });
    child.once("exit", (code) => reject(new Error(`sim exited ${code}`)));
  });
}

/** Starts `count` simulators in one process (bench/sim-pool.mjs); resolves when all listen. */
export function startSimPool(count, options) {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "bench", "sim-pool.mjs"),
      String(count),
      JSON.stringify({ prefillRatio: 0, prefixCacheTokens: 0, ...options }),
    ],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  return new Promise((resolve, reject) => {
    let buf = "";
    child.stdout.setEncoding("utf8").on("data", (d) => {
      buf += d;
      if (!buf.includes("\n")) return;
      const { urls } = JSON.parse(buf.slice(0, buf.indexOf("\n")));
      resolve({
        urls,
        child,
        stats: () => Promise.all(urls.map((u) => getJson(`${u}/sim/stats`))),
        stop: () =>
          new Promise((r) => {
            if (child.exitCode !== null) return r();
            child.once("exit", r);
            child.kill("SIGTERM");
          }),
      });
    });
    child.once("exit", (code) => reject(new Error(`sim pool exited ${code}`)));
  });
}

export function getJson(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let b = "";
        res.setEncoding("utf8").on("data", (d) => (b += d));
        res.on("end", () => resolve(JSON.parse(b)));
      })
      .on("error", reject);
  });
}

/** Runs `vbatch run` as a child; resolves with its --json summary and wall time. */
export function runVbatch(args) {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [BIN, "run", "--json", "--no-progress", "--log-level", "warn", ...args],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d) => (err += d));
  return {
    child,
    done: new Promise((resolve, reject) => {
      child.on("close", (code) => {
        if (code !== 0 && code !== 130)
          return reject(new Error(`vbatch exited ${code}: ${err.slice(-2000)}`));
        resolve({
          summary: JSON.parse(out.trim().split("\n").pop()),
          wallMs: performance.now() - started,
          code,
        });
      });
    }),
  };
}

/** max_tokens of the generated chat rows: above every length the scenarios draw. */
export const MAX_TOKENS = 512;

/** The body vbatch sends for generated chat row i (the row's body text, as written). */
export function chatBody(i) {
  return {
    model: "sim-model",
    messages: [{ role: "user", content: `Summarize document ${i} in one line.` }],
    max_tokens: MAX_TOKENS,
  };
}

/**
 * Seconds each of the first n generated chat rows holds a slot in a sim started with these flags'
 * values: prefill plus the row's own drawn length (the sim's rule) times the step.
 */
export async function chatDurations(n, { prefillMs, stepMs, outputLen, spread = 0.5 }) {
  const { outputTokensFor } = await import(join(ROOT, "dist", "sim", "lengths.js"));
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const tokens = Math.min(
      MAX_TOKENS,
      outputTokensFor({ mean: outputLen, spread }, JSON.stringify(chatBody(i))),
    );
    out[i] = (prefillMs + tokens * stepMs) / 1000;
  }
  return out;
}

/** Slot-seconds the first n generated chat rows need (see chatDurations). */
export async function chatWorkSeconds(n, plan) {
  return (await chatDurations(n, plan)).reduce((a, b) => a + b, 0);
}

/**
 * The makespan of greedy dispatch with no latency at all: rows in input order, each to the slot
 * that frees first, every slot free at 0. No dispatcher that cannot see lengths does better on
 * average: what this leaves over the ideal is the job's last wave.
 */
export function greedyMakespan(durations, slots) {
  // A binary min-heap of the times the slots free up.
  const heap = new Array(slots).fill(0);
  for (const d of durations) {
    let i = 0;
    const v = heap[0] + d;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = l < slots && heap[l] < v ? l : -1;
      if (r < slots && heap[r] < v && heap[r] < heap[l]) m = r;
      if (m === -1) break;
      heap[i] = heap[m];
      i = m;
    }
    heap[i] = v;
  }
  return Math.max(...heap);
}

/** Writes n chat rows (or embedding rows) to a file; resolves with its path. */
export async function writeInput(name, n, kind = "chat") {
  const path = join(OUT, name);
  const ws = createWriteStream(path);
  for (let i = 0; i < n; i++) {
    const row =
      kind === "chat"
        ? {
            custom_id: `r${i}`,
            method: "POST",
            url: "/v1/chat/completions",
            body: chatBody(i),
          }
        : {
            custom_id: `e${i}`,
            method: "POST",
            url: "/v1/embeddings",
            body: { model: "sim-model", input: `passage number ${i} of the corpus` },
          };
    if (!ws.write(`${JSON.stringify(row)}\n`)) await new Promise((r) => ws.once("drain", r));
  }
  await new Promise((r) => ws.end(r));
  return path;
}

/** Busy share of slot-time from first request start to last request end. */
export function busyShare(stats, slots) {
  const span = stats.lastEndMs - stats.firstStartMs;
  return span > 0 ? stats.busySlotMs / (slots * span) : 0;
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
