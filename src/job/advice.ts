// What to tell a user whose -o already belongs to something else. The first advice is always
// another -o: --restart deletes the earlier job's answers, so it is offered last, naming exactly
// what it would delete.
import { statSync } from "node:fs";
import type { ResolvedPaths } from "./options.js";

const bytes = (path: string) =>
  (statSync(path, { throwIfNoEntry: false })?.size ?? 0).toLocaleString("en-US");

/** What --restart deletes, named. */
function restartDeletes(paths: ResolvedPaths, also: string): string {
  return `--restart would delete ${paths.output}, ${paths.errors} and the journal ${paths.journal}${also}, and start over`;
}

/** An output (or errors) file that exists, with no journal to say which rows it holds. */
export function unknownOutput(file: string, paths: ResolvedPaths): string {
  return `${file} already exists (${bytes(file)} bytes) and no journal (${paths.journal}) says which rows it holds: choose another -o for this job. Only if ${file} is not needed: ${restartDeletes(paths, "")}.`;
}

/**
 * The input is not the one the job of this -o started with: another input (a new job wanting the
 * same -o) or the same file, edited since.
 */
export function notTheJobsInput(
  paths: ResolvedPaths,
  startedWith: string | undefined,
  finished: number,
): string {
  const given = paths.input === "-" ? "stdin" : paths.input;
  const was = startedWith === "-" ? "stdin" : startedWith;
  const answers = `${finished.toLocaleString("en-US")} rows already answered`;
  if (was !== undefined && was !== paths.input) {
    return `${given} is not the input of the job that ${paths.output} belongs to: that job started with ${was} (journal ${paths.journal}, ${answers}). For a new job, choose another -o. To go on with that job, run it with ${was}. ${restartDeletes(paths, `, with those answers,`)} with ${given}.`;
  }
  return `${given} differs from the input this job started with (journal ${paths.journal}, ${answers}): it was changed since. Restore it and re-run the same command to go on, or run the changed file as a new job with another -o. ${restartDeletes(paths, `, with those answers,`)} with the file as it is now.`;
}
