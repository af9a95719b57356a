// What can make a merge wrong, each kept as its own bounded list, and the one error that reports
// them all: duplicate custom_ids, input rows with no result, results for rows not in the input,
// and lines that are not output lines at all.
import { VbatchError } from "../../errors.js";
import { ProblemList } from "../problems.js";

export class MergeProblems {
  readonly unreadable = new ProblemList();
  readonly duplicates = new ProblemList();
  readonly inputDuplicates = new ProblemList();
  readonly missing = new ProblemList();
  readonly strangers = new ProblemList();
  readonly other = new ProblemList();

  get count(): number {
    return this.groups().reduce((n, [, , p]) => n + p.count, 0);
  }

  /** [singular, plural, problems] */
  private groups(): [string, string, ProblemList][] {
    return [
      ["unreadable line", "unreadable lines", this.unreadable],
      ["duplicate custom_id", "duplicate custom_ids", this.duplicates],
      ["duplicate custom_id in the input", "duplicate custom_ids in the input", this.inputDuplicates],
      ["input row without a result", "input rows without a result", this.missing],
      ["result not in the input", "results not in the input", this.strangers],
      ["other problem", "other problems", this.other],
    ];
  }

  error(): VbatchError {
    const summary: string[] = [];
    const details: string[] = [];
    for (const [one, many, p] of this.groups()) {
      if (p.count === 0) continue;
      summary.push(`${p.count} ${p.count === 1 ? one : many}`);
      details.push(...p.listed);
      if (p.count > p.listed.length) details.push(`... and ${p.count - p.listed.length} more`);
    }
    details.push("Nothing was written.");
    return new VbatchError("invalid_input", `merge refused: ${summary.join(", ")}`, { details });
  }
}
