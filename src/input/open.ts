// Opens an input for streaming: a .jsonl file, a .jsonl.gz file, or "-" (stdin, spooled to a file
// first by the runner so that it can be read twice: once to validate, once to send).
import { createReadStream, statSync } from "node:fs";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { VbatchError } from "../errors.js";

export function isGzip(path: string): boolean {
  return path.endsWith(".gz");
}

/** A byte stream of the (decompressed) input file. */
export function openInput(path: string): Readable {
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new VbatchError("usage", `input ${path} is not a file`);
  } catch (err) {
    if (err instanceof VbatchError) throw err;
    throw new VbatchError("usage", `cannot read input ${path}: ${(err as Error).message}`, { cause: err });
  }
  const raw = createReadStream(path, { highWaterMark: 1 << 18 });
  if (!isGzip(path)) return raw;
  const gunzip = createGunzip({ chunkSize: 1 << 18 });
  raw.on("error", (err) => gunzip.destroy(err));
  return raw.pipe(gunzip);
}
