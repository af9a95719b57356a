// Shared pieces of the benchmark: simulator processes, vbatch runs, generated inputs.
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";

export const ROOT = new URL("..", import.meta.url).pathname;
export const BIN = join(ROOT, "dist", "cli", "bin.js");
export const OUT = join(ROOT, "bench", "out");
mkdirSync(OUT, { recursive: true });

/** Starts `vbatch sim` in its own process; resolves when it listens. */
export function startSimProcess(args) {
  const child = spawn(process.execPath, [BIN, "sim", "--port", "0", ...args], {
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
            body: {
              model: "sim-model",
              messages: [{ role: "user", content: `Summarize document ${i} in one line.` }],
              max_tokens: 64,
            },
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
