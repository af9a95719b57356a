// A provider's result file as lines, streamed: never held whole in memory.
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

export async function* splitLines(stream: Readable): AsyncIterable<string> {
  const rl = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of rl) if (line.trim() !== "") yield line;
  } finally {
    rl.close();
    stream.destroy();
  }
}
