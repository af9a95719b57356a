// What a job is given, checked once before anything starts: numbers in range, and files that are
// distinct, regular (or not there yet) and in directories that exist.
import { existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { VbatchError } from "../errors.js";
import type { ResolvedPaths, RunOptions } from "./options.js";

export function checkOptions(o: RunOptions): void {
  const positive = (v: number | undefined, flag: string, min = 1) => {
    if (v !== undefined && (!Number.isFinite(v) || v < min)) {
      throw new VbatchError("usage", `${flag} must be a number >= ${min} (got ${v})`);
    }
  };
  if (!o.output) throw new VbatchError("usage", "an output file is required (-o <output.jsonl>)");
  positive(o.concurrency, "--concurrency");
  positive(o.maxAttempts, "--max-attempts");
  positive(o.requestTimeoutMs, "--request-timeout");
  positive(o.maxRequestsPerSecond, "--max-rps", Number.MIN_VALUE);
  positive(o.commitRows, "commitRows");
  positive(o.maxLineBytes, "--max-line-mb");
  if (
    o.shard &&
    !(
      Number.isInteger(o.shard.count) &&
      o.shard.count >= 1 &&
      Number.isInteger(o.shard.index) &&
      o.shard.index >= 0 &&
      o.shard.index < o.shard.count
    )
  ) {
    throw new VbatchError(
      "usage",
      `--shard must be i/N with 0 <= i < N (got ${o.shard.index}/${o.shard.count})`,
    );
  }
}

/** The job's files: distinct, none of them the input, each in a directory that exists. */
export function checkPaths(paths: ResolvedPaths): void {
  for (const [a, b] of [
    [paths.output, paths.errors],
    [paths.output, paths.journal],
    [paths.errors, paths.journal],
  ] as const) {
    if (a === b) throw new VbatchError("usage", `output, errors and journal must be different files (${a})`);
  }
  if (paths.input === paths.output || paths.input === paths.errors || paths.input === paths.journal) {
    throw new VbatchError("usage", `the job's files would overwrite the input ${paths.input}`);
  }
  for (const [flag, path] of [
    ["-o", paths.output],
    ["--errors", paths.errors],
    ["--journal", paths.journal],
  ] as const) {
    if (!existsSync(dirname(path))) {
      throw new VbatchError("usage", `${flag} ${path}: the directory ${dirname(path)} does not exist`);
    }
    // A device (/dev/null), a pipe or a directory cannot hold committed lengths, and is never cut,
    // written at an offset or removed: every failed row is kept, so a rerun knows it is final.
    const st = statSync(path, { throwIfNoEntry: false });
    if (st && !st.isFile()) {
      throw new VbatchError(
        "usage",
        `${flag} ${path} is not a regular file: a job keeps every row it answered in files it can cut back to their committed length after a crash${flag === "--errors" ? ". Failed rows are kept too, so that a rerun knows they are final and vbatch retry can send them again: leave --errors out and delete the errors file afterwards if you do not want it" : ""}`,
      );
    }
  }
}
