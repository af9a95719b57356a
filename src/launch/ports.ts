// Picks engine ports from --port upwards, skipping ones already taken on this machine, so a
// second job (or a forgotten server on 8000) does not make vLLM die with "address already in use".
import { createServer } from "node:net";
import { VbatchError } from "../errors.js";

function isFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** `count` distinct free ports at or above `base` (local engines); consecutive ports for remote hosts. */
export async function pickPorts(base: number, count: number, options: { probe: boolean }): Promise<number[]> {
  const ports: number[] = [];
  for (let p = base; ports.length < count; p++) {
    if (p > 65535) {
      throw new VbatchError("usage", `--port ${base}: not enough free ports above it for ${count} engines`);
    }
    if (!options.probe || (await isFree(p, "127.0.0.1"))) ports.push(p);
  }
  return ports;
}
