// When a job's files last changed, for "last update" in `vbatch status`.
import { statSync } from "node:fs";

/** The latest modification time (ms) among files that change while a job runs. */
export function lastActivityMs(files: (string | null)[]): number | null {
  let last: number | null = null;
  for (const f of files) {
    if (!f) continue;
    try {
      const st = statSync(f);
      // Our own read-only opens leave an empty -wal behind; it says nothing about the job.
      if (f.endsWith("-wal") && st.size === 0) continue;
      if (last === null || st.mtimeMs > last) last = st.mtimeMs;
    } catch {
      // absent: no activity to report
    }
  }
  return last;
}
