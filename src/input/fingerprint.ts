// Fingerprints of the input: the whole file's (a resumed job refuses a file that changed under
// it) and each line's (the send pass proves each line it sends is the line that was validated).
import { createHash, hash } from "node:crypto";
import { openInput } from "./open.js";

export async function fingerprintFile(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of openInput(path) as AsyncIterable<Buffer>) h.update(chunk);
  return h.digest("hex");
}

/** 48 bits of the SHA-1 of a line's bytes: exact in a JS number and an SQLite integer. */
export function lineFingerprint(raw: Buffer): number {
  return (hash("sha1", raw, "buffer") as unknown as Buffer).readUIntBE(0, 6);
}
