// Copies stdin to a file: the runner reads its input twice (validate, then send) and must read
// it again on resume, none of which a pipe allows.
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { VbatchError } from "../errors.js";

/** Spools `source` to `path` (gunzipping if it starts with the gzip magic); returns its sha256. */
export async function spoolStream(source: Readable, path: string): Promise<string> {
  const hash = createHash("sha256");
  const first: Buffer[] = [];
  let peeked = 0;
  // Peek the first bytes to detect gzip on a pipe.
  const iterator = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  while (peeked < 2) {
    const next = await iterator.next();
    if (next.done) break;
    first.push(next.value);
    peeked += next.value.length;
  }
  const head = Buffer.concat(first);
  const gz = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  async function* replay(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  async function* hashed(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of src) {
      hash.update(chunk);
      yield chunk;
    }
  }
  const out = createWriteStream(path);
  if (!gz) await pipeline(replay(), hashed, out);
  else {
    try {
      await pipeline(replay(), createGunzip(), hashed, out);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === "string" && code.startsWith("Z_")) {
        throw new VbatchError(
          "invalid_input",
          `stdin is not a readable gzip stream (${(err as Error).message})`,
          {
            cause: err,
          },
        );
      }
      throw err;
    }
  }
  return hash.digest("hex");
}
