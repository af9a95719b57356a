// Where a job's files live when the user names only the output: everything beside it, so one
// directory holds a whole job and re-running the same command finds its journal.
import { basename, dirname, join, resolve } from "node:path";
import type { ResolvedPaths, RunOptions } from "./options.js";

export function stem(path: string): string {
  const base = basename(path);
  for (const ext of [".jsonl.gz", ".jsonl", ".json", ".ndjson"]) {
    if (base.endsWith(ext) && base.length > ext.length) return base.slice(0, -ext.length);
  }
  return base;
}

export function resolvePaths(
  options: Pick<RunOptions, "input" | "output" | "errors" | "journal">,
): ResolvedPaths {
  const output = resolve(options.output);
  const dir = dirname(output);
  const name = stem(output);
  return {
    input: options.input === "-" ? "-" : resolve(options.input),
    output,
    errors: options.errors ? resolve(options.errors) : join(dir, `${name}.errors.jsonl`),
    journal: options.journal ? resolve(options.journal) : join(dir, `${name}.vbatch.db`),
    stdinSpool: join(dir, `${name}.stdin.jsonl`),
  };
}
