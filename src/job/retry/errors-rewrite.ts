// `vbatch retry` rewrites the errors file without the rows it sends again: the new file is
// written beside it, the journal commit records it, then it is renamed into place. A crash between
// the commit and the rename is finished here, before anything reads the errors file.
import { existsSync, renameSync } from "node:fs";
import type { Journal } from "../../journal/journal.js";

/** The file that holds the job's errors now: an interrupted rewrite's new file, else the errors file. */
export function currentErrorsFile(journal: Pick<Journal, "getMeta">, errorsPath: string): string {
  const pending = journal.getMeta("errors_rewrite");
  return pending && existsSync(pending) ? pending : errorsPath;
}

/** Completes an errors-file rewrite that a crash interrupted between commit and rename. */
export function finishErrorsRewrite(journal: Journal, errorsPath: string): void {
  const pending = journal.getMeta("errors_rewrite");
  if (!pending) return;
  if (existsSync(pending)) renameSync(pending, errorsPath);
  journal.clearErrorsRewrite();
}
