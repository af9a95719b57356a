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

/** The errors file a job writes beside `output` unless told otherwise. */
export function errorsBeside(output: string): string {
  return join(dirname(output), `${stem(output)}.errors.jsonl`);
}

/** The journal a job keeps beside `output` unless told otherwise. */
export function journalBeside(output: string): string {
  return join(dirname(output), `${stem(output)}.vbatch.db`);
}

export function resolvePaths(
  options: Pick<RunOptions, "input" | "output" | "errors" | "journal">,
): ResolvedPaths {
  const output = resolve(options.output);
  return {
    input: options.input === "-" ? "-" : resolve(options.input),
    output,
    errors: options.errors ? resolve(options.errors) : errorsBeside(output),
    journal: options.journal ? resolve(options.journal) : journalBeside(output),
    stdinSpool: join(dirname(output), `${stem(output)}.stdin.jsonl`),
  };
}
