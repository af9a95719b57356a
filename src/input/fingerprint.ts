// The identity of an input's content, so a resumed job can refuse a file that changed under it.
import { createHash } from "node:crypto";
import { openInput } from "./open.js";

export async function fingerprintFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of openInput(path) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest("hex");
}
