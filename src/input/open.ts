// Opens an input for streaming: a .jsonl file, a .jsonl.gz file, or "-" (stdin, spooled to a file
// first by the runner so that it can be read twice: once to validate, once to send).
import { createReadStream, statSync } from "node:fs";
import { PassThrough, Readable } from "node:stream";
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
  // A truncated or corrupt .gz is bad input (exit 2, naming the file), not an internal error.
  const out = new PassThrough({ highWaterMark: 1 << 18 });
  const gunzip = createGunzip({ chunkSize: 1 << 18 });
  raw.on("error", (err) => out.destroy(err));
  gunzip.on("error", (err) => {
    out.destroy(
      new VbatchError("invalid_input", `${path} is not a readable gzip file (${err.message})`, {
        cause: err,
      }),
    );
  });
  // A reader that stops early (every pending row read) closes `out`: close the file with it.
  out.on("close", () => {
    raw.destroy();
    gunzip.destroy();
  });
  raw.pipe(gunzip).pipe(out);
  return out;
}

/**
 * A one-pass reader of the input: a file as openInput, or stdin for "-" (gunzipped when it starts
 * with gzip's magic bytes). For commands that read their input once (validate, estimate).
 */
export function openInputOnce(path: string, stdin: Readable = process.stdin): Readable {
  return path === "-" ? Readable.from(gunzipIfMagic(stdin)) : openInput(path);
}

/**
 * The bytes of a piped input, gunzipped when it starts with gzip's magic bytes (a pipe has no
 * file name to go by). A corrupt gzip stream is bad input (exit 2), not an internal error.
 */
export async function* gunzipIfMagic(source: Readable): AsyncGenerator<Buffer> {
  const it = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const first: Buffer[] = [];
  let peeked = 0;
  while (peeked < 2) {
    const next = await it.next();
    if (next.done) break;
    first.push(next.value);
    peeked += next.value.length;
  }
  const head = Buffer.concat(first);
  async function* replay(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
  }
  if (!(head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b)) {
    yield* replay();
    return;
  }
  try {
    for await (const chunk of Readable.from(replay()).pipe(createGunzip())) yield chunk as Buffer;
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
