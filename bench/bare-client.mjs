// The baseline for the overhead benchmark: a bare node:http keep-alive client posting the same
// file at the same concurrency, with no journal and no output. Run as its own process.
import { createReadStream } from "node:fs";
import http from "node:http";
import { createInterface } from "node:readline";

const [url, file, concurrencyArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const target = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
const it = lines[Symbol.asyncIterator]();
let done = 0;
const started = performance.now();

function post(body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: "/v1/chat/completions",
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        res.on("data", () => {});
        res.on("end", resolve);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function worker() {
  for (;;) {
    const next = await it.next();
    if (next.done) return;
    const row = JSON.parse(next.value);
    await post(JSON.stringify(row.body));
    done++;
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const ms = performance.now() - started;
agent.destroy();
process.stdout.write(`${JSON.stringify({ rows: done, ms, rowsPerSec: (done * 1000) / ms })}\n`);
