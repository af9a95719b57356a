// Read-only questions a job asks its journal in one statement each: its counts, the rows still
// pending, the invalid lines not yet written. Kept apart from journal.ts, which writes.
import type { JournalFile } from "./journal-file.js";
import { emptyCounts, type InvalidLine, type JournalCounts } from "./records.js";
import { RowState } from "./schema.js";

/** Rows not yet final, in input order (for closing a stopped job's rows out). */
export function pendingRows(file: JournalFile): { line: number; customId: string }[] {
  return file.guard("read", () =>
    (
      file.db.prepare("SELECT line, custom_id FROM rows WHERE state = 0 ORDER BY line").all() as {
        line: number;
        custom_id: string;
      }[]
    ).map((r) => ({ line: r.line, customId: r.custom_id })),
  );
}

/** Invalid lines not yet written to the errors file. */
export function unwrittenInvalid(file: JournalFile): InvalidLine[] {
  return file.guard("read", () => {
    const rows = file.db
      .prepare("SELECT line, custom_id, message FROM invalid WHERE written = 0 ORDER BY line")
      .all() as { line: number; custom_id: string | null; message: string }[];
    return rows.map((r) => ({ line: r.line, customId: r.custom_id ?? undefined, message: r.message }));
  });
}

export function countRows(file: JournalFile): JournalCounts {
  return file.guard("read", () => {
    const by = file.db
      .prepare(
        "SELECT state, count(*) AS n, coalesce(sum(prompt_tokens), 0) AS p, coalesce(sum(completion_tokens), 0) AS c FROM rows GROUP BY state",
      )
      .all() as { state: number; n: number; p: number; c: number }[];
    const invalid = (file.db.prepare("SELECT count(*) AS n FROM invalid").get() as { n: number }).n;
    const counts: JournalCounts = { ...emptyCounts(), invalid };
    for (const s of by) {
      counts.total += s.n;
      counts.promptTokens += s.p;
      counts.completionTokens += s.c;
      if (s.state === RowState.succeeded) counts.succeeded = s.n;
      else if (s.state === RowState.failed) counts.failed = s.n;
      else counts.pending = s.n;
    }
    return counts;
  });
}

/** Failed rows by the HTTP status of their final answer ("none": no HTTP answer). */
export function failuresByStatus(file: JournalFile): Record<string, number> {
  return file.guard("read", () => {
    const out: Record<string, number> = {};
    const sql = "SELECT status, count(*) AS n FROM rows WHERE state = 2 GROUP BY status ORDER BY status";
    for (const r of file.db.prepare(sql).all() as { status: number | null; n: number }[]) {
      out[r.status === null ? "none" : String(r.status)] = r.n;
    }
    return out;
  });
}
