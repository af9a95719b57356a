// The shared job flags turned into what the job takes: RunOptions (the engines, signal and
// callbacks are the session's), and the URLs of --endpoints-file. Declarations: flags.ts.
import { readFileSync } from "node:fs";
import { normalizeEndpoint } from "../../client/endpoint.js";
import { VbatchError } from "../../errors.js";
import type { RunOptions } from "../../job/options.js";
import { parseTags } from "../../job/tags.js";
import { parseModelMap } from "../../pool/model-check.js";
import type { Shard } from "../../shard/shard.js";
import { maxLineBytesOf, noteEndpoint } from "../options.js";
import { type JobFlags, resolveShard } from "./flags.js";
import { overflowOptionsOf } from "./overflow-flags.js";
import { providerOptionsOf } from "./provider-flags.js";

/** URLs from --endpoints-file: one a line; blank lines and # comments skipped. */
export function readEndpointsFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new VbatchError("usage", `--endpoints-file ${path}: ${(err as Error).message}`);
  }
  const urls: string[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/#.*/, "").trim();
    if (line.length === 0) return;
    try {
      urls.push(normalizeEndpoint(line, `${path}:${i + 1}:`));
      noteEndpoint(line, `${path}:${i + 1}:`);
    } catch (err) {
      throw new VbatchError("usage", (err as Error).message);
    }
  });
  if (urls.length === 0) throw new VbatchError("usage", `--endpoints-file ${path} lists no URL`);
  return urls;
}

/** The shard the job runs, as the journal records it (i/N, without where "auto" found it). */
function jobShard(flags: Pick<JobFlags, "shard" | "shards">): Shard | undefined {
  const shard = resolveShard(flags);
  return shard && { index: shard.index, count: shard.count };
}

/** Maps the shared flags onto RunOptions (engines, signal and callbacks are the session's). */
export function jobOptions(input: string, flags: JobFlags): Omit<RunOptions, "endpoints"> {
  return {
    input,
    output: flags.output,
    errors: flags.errors,
    journal: flags.journal,
    model: flags.model,
    modelMap: Object.fromEntries(parseModelMap(flags.modelMap ?? [])),
    format: flags.format,
    apiKey: flags.apiKey,
    concurrency: flags.concurrency,
    maxAttempts: flags.maxAttempts,
    engineWaitMs: flags.engineWait * 1000,
    shard: jobShard(flags),
    requestTimeoutMs: flags.requestTimeout * 1000,
    maxRequestsPerSecond: flags.maxRps,
    skipInvalid: flags.skipInvalid ?? false,
    maxLineBytes: maxLineBytesOf(flags.maxLineMb),
    restart: flags.restart ?? false,
    transport: flags.transport,
    coalesce: flags.coalesce,
    prefixAffinity: flags.prefixAffinity,
    lengthOrder: flags.lengthOrder,
    dedupe: flags.dedupe,
    validateJson: flags.validateJson ?? false,
    jsonRetries: flags.jsonRetries,
    tags: parseTags(flags.tag ?? []),
    priority: flags.priority,
    metricsPort: flags.metricsPort,
    provider: flags.overflow ? undefined : providerOptionsOf(flags),
    overflow: overflowOptionsOf(flags),
  };
}
