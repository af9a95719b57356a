// Copies stdin to a file: the runner reads its input twice (validate, then send) and must read
// it again on resume, none of which a pipe allows.
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { gunzipIfMagic } from "./open.js";

/** Spools `source` to `path` (gunzipping if it starts with the gzip magic); returns its sha256. */
export async function spoolStream(source: Readable, path: string): Promise<string> {
  const hash = createHash("sha256");
  async function* hashed(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of src) {
      hash.update(chunk);
      yield chunk;
    }
  }
  await pipeline(gunzipIfMagic(source), hashed, createWriteStream(path));
  return hash.digest("hex");
}
