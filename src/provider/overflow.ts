// Overflow by deadline (--deadline with --overflow): the job runs on its own engines, and when the
// rows left cannot finish by the deadline at the rate the engines are measured at, just enough
// rows move to a provider's batch: never more than the budget at the batch price, never later
// than the deadline less the margin for the provider's own turnaround. A row is with the engines
// or with a batch, never both: the engines claim a row as its request starts (`take`), and only
// rows not claimed, from the end of the input, are moved, recorded in the journal first. A batch
// that fails or expires gives its rows back; the job's step runs the engines over them again.
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import type { BatchLedger } from "../journal/batch-records.js";
import { LineSet } from "../journal/bitset.js";
import type { OverflowLoop } from "./overflow-loop.js";
import { type BatchPrice, costOf } from "./report.js";

export interface OverflowOptions {
  /** When every row should be done, ms since the epoch. */
  deadline: number;
  /** Time the provider gets for its own turnaround: no batch is made after deadline - margin. @default 1 hour */
  marginMs?: number | undefined;
  /** Most USD spent on provider batches (at the batch price), over the whole job. @default no limit */
  budgetUsd?: number | undefined;
  /** How often the plan is looked at again, in ms. @default 5000 */
  checkMs?: number | undefined;
}

/** What the engines did in this pass: rows finished and their tokens. */
export interface EngineTally {
  rows: number;
  promptTokens: number;
  completionTokens: number;
}

/** Engines must have finished this many rows before their rate is trusted. */
const MIN_ROWS = 10;

export class OverflowPlanner {
  private moved = new LineSet();
  private claimed = new LineSet();
  private started = performance.now();
  private saidLate = false;
  private saidBudget = false;

  constructor(
    private readonly o: OverflowOptions,
    private readonly ledger: BatchLedger,
    private readonly loop: OverflowLoop,
    private readonly price: BatchPrice | null,
    private readonly chunkRows: number,
    private readonly tally: () => EngineTally,
    private readonly log?: Logger | undefined,
  ) {}

  /** The runner's `take`: false for a moved row, else the row is the engines' from now on. */
  readonly take = (line: number): boolean => {
    if (this.moved.has(line)) return false;
    this.claimed.add(line);
    return true;
  };

  /** A new engine pass: it measures its own rate, and every row is free to be claimed again. */
  reset(): void {
    this.moved = new LineSet();
    this.claimed = new LineSet();
    this.started = performance.now();
  }

  /** USD one row costs at the batch price, from the engines' tokens a row so far. */
  private rowCost(t: EngineTally): number | null {
    if (!this.price || t.rows === 0) return null;
    return costOf(this.price, t.promptTokens / t.rows, t.completionTokens / t.rows);
  }

  /** Rows the budget still allows, or Infinity without a budget. */
  private budgetRows(t: EngineTally): number {
    if (this.o.budgetUsd === undefined) return Number.POSITIVE_INFINITY;
    const each = this.rowCost(t);
    if (each === null || each <= 0) return each === 0 ? Number.POSITIVE_INFINITY : 0;
    let spent = 0;
    for (const c of this.ledger.chunks()) {
      spent +=
        c.state === "done" && this.price
          ? costOf(this.price, c.promptTokens, c.completionTokens)
          : c.rows * each;
    }
    return Math.max(0, Math.floor((this.o.budgetUsd - spent) / each));
  }

  /** Looks at the plan once: moves rows when the engines cannot finish the rest by the deadline. */
  tick(now = Date.now()): number {
    const t = this.tally();
    const elapsed = (performance.now() - this.started) / 1000;
    if (t.rows < MIN_ROWS || elapsed <= 0) return 0;
    const left = this.ledger.countUnassigned();
    const rate = t.rows / elapsed;
    const excess = Math.ceil(left - rate * Math.max(0, (this.o.deadline - now) / 1000));
    if (excess <= 0) return 0;
    if (now > this.o.deadline - (this.o.marginMs ?? 3_600_000)) {
      if (!this.saidLate)
        this.log?.warn({ excess }, "too late to move rows to a provider batch before the deadline");
      this.saidLate = true;
      return 0;
    }
    const allowed = Math.min(excess, this.chunkRows, this.budgetRows(t));
    if (allowed <= 0) {
      if (!this.saidBudget)
        this.log?.warn({ excess }, "the overflow budget is spent: the rest stays with the engines");
      this.saidBudget = true;
      return 0;
    }
    const lines = this.pick(allowed);
    if (lines.length === 0) return 0;
    for (const l of lines) this.moved.add(l);
    const chunk = this.loop.move(lines);
    this.log?.info(
      { chunk, rows: lines.length, excess, rowsPerSec: rate },
      "moving rows to a provider batch",
    );
    return lines.length;
  }

  /** Up to `n` rows no batch holds and no engine claimed, from the end of the input. */
  private pick(n: number): number[] {
    const out: number[] = [];
    let before = Number.MAX_SAFE_INTEGER;
    while (out.length < n) {
      const page = this.ledger.tailPage(before, 4096);
      for (const r of page) {
        if (!this.claimed.has(r.line) && !this.moved.has(r.line)) out.push(r.line);
        if (out.length >= n) break;
      }
      if (page.length < 4096) break;
      before = (page.at(-1) as { line: number }).line;
    }
    return out.sort((a, b) => a - b);
  }
}
