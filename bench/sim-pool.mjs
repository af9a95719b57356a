// Many simulated engines in one light process (each on its own port), so a bench can offer vbatch
// a pool of 64 engines without 64 Node processes competing for two cores.
// Usage: node bench/sim-pool.mjs <count> '<SimOptions as JSON>'; prints one line with the URLs.
import { join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;
const { startSim } = await import(join(ROOT, "dist", "sim", "index.js"));

const count = Number(process.argv[2]);
const options = JSON.parse(process.argv[3] ?? "{}");
const servers = [];
for (let i = 0; i < count; i++) servers.push(await startSim({ ...options, port: 0 }));
process.stdout.write(`${JSON.stringify({ urls: servers.map((s) => s.url) })}\n`);

const stop = async () => {
  await Promise.all(servers.map((s) => s.close()));
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
