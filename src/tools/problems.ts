// Problems found while reading a file: all counted, only the first few kept, so a file with a
// million bad lines still gives a readable error and memory stays flat.
import { VbatchError } from "../errors.js";
import { MAX_LISTED_PROBLEMS } from "../job/ingest.js";

export class ProblemList {
  count = 0;
  readonly listed: string[] = [];

  constructor(private readonly limit = MAX_LISTED_PROBLEMS) {}

  add(message: string): void {
    this.count++;
    if (this.listed.length < this.limit) this.listed.push(message);
  }

  /** Adds problems found out of order (e.g. by concurrent requests), sorted by line. */
  addSorted(found: { line: number; message: string }[]): void {
    for (const p of found.sort((a, b) => a.line - b.line)) this.add(p.message);
  }
}

/** An invalid_input error (exit 2): `<subject>: N <noun>s`, the first ones listed under it. */
export function problemsError(
  subject: string,
  problems: { count: number; listed: readonly string[] },
  noun = "problem",
  hint?: string,
): VbatchError {
  const n = problems.count;
  const details = [...problems.listed];
  if (n > problems.listed.length) details.push(`... and ${n - problems.listed.length} more`);
  if (hint) details.push(hint);
  return new VbatchError("invalid_input", `${subject}: ${n} ${noun}${n === 1 ? "" : "s"}`, { details });
}
