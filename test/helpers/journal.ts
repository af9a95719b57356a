// What a job's files hold on disk: the offsets its journal says are committed, and file sizes.
import { existsSync, statSync } from "node:fs";
import Database from "better-sqlite3";

/** Offsets the journal says the output files are committed up to, and the rows it counts done. */
export function committed(journal: string): { out: number; err: number; done: number } {
  const db = new Database(journal, { readonly: true });
  try {
    const meta = (k: string) =>
      Number(
        (db.prepare("SELECT value FROM meta WHERE key = ?").get(k) as { value: string } | undefined)?.value ??
          0,
      );
    const done = (db.prepare("SELECT count(*) AS n FROM rows WHERE state != 0").get() as { n: number }).n;
    return { out: meta("out_offset"), err: meta("err_offset"), done };
  } finally {
    db.close();
  }
}

/** A file's size, 0 when it does not exist. */
export function size(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}
