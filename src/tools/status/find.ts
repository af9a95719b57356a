// Which journal `vbatch status` reads: the one named, the one beside a named output, or the only
// *.vbatch.db in the current directory. Several candidates are listed, never guessed between.
import { existsSync, readdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { VbatchError } from "../../errors.js";
import { resolvePaths } from "../../job/paths.js";

export const JOURNAL_SUFFIX = ".vbatch.db";

export interface JobFiles {
  journal: string;
  /** The output and errors files, when they can be found. */
  output: string | null;
  errors: string | null;
}

function besideJournal(journal: string, output?: string): JobFiles {
  const dir = dirname(journal);
  const name = basename(journal).slice(0, -JOURNAL_SUFFIX.length);
  const candidates = output
    ? [output]
    : [".jsonl", "", ".json", ".ndjson"].map((ext) => join(dir, name + ext));
  const out = candidates.find((p) => p !== journal && existsSync(p)) ?? null;
  const errors = join(dir, `${name}.errors.jsonl`);
  return { journal, output: out, errors: existsSync(errors) ? errors : null };
}

export function findJob(o: {
  output?: string | undefined;
  journal?: string | undefined;
  cwd?: string;
}): JobFiles {
  if (o.journal !== undefined) {
    const journal = resolve(o.journal);
    if (!existsSync(journal)) throw new VbatchError("usage", `--journal ${o.journal} does not exist`);
    if (o.output === undefined) return besideJournal(journal);
    const paths = resolvePaths({ input: "-", output: o.output, journal });
    return {
      journal,
      output: existsSync(paths.output) ? paths.output : null,
      errors: existsSync(paths.errors) ? paths.errors : null,
    };
  }
  if (o.output !== undefined) {
    const given = resolve(o.output);
    if (given.endsWith(JOURNAL_SUFFIX) && existsSync(given)) return besideJournal(given);
    const paths = resolvePaths({ input: "-", output: given });
    if (!existsSync(paths.journal)) {
      throw new VbatchError(
        "usage",
        `no journal for ${o.output} (looked for ${paths.journal}); pass the output file of a job, or --journal <file>`,
      );
    }
    return besideJournal(paths.journal, paths.output);
  }
  const cwd = resolve(o.cwd ?? process.cwd());
  const found = readdirSync(cwd)
    .filter((f) => f.endsWith(JOURNAL_SUFFIX))
    .sort();
  if (found.length === 0) {
    throw new VbatchError(
      "usage",
      `no *${JOURNAL_SUFFIX} journal in ${cwd}: pass a job's output file or --journal <file>`,
    );
  }
  if (found.length > 1) {
    throw new VbatchError(
      "usage",
      `${found.length} journals in ${cwd}; pass one (its output file, or --journal):`,
      {
        details: found,
      },
    );
  }
  return besideJournal(join(cwd, found[0] as string));
}
