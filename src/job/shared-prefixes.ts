// Whether an input's rows share prompt prefixes, and how far their max_tokens vary, counted during
// validation in bounded memory: the send pass reads rows in prefix-key order only when some key
// repeats, and longest first only when lengths vary (otherwise input order costs less: one
// sequential read instead of one read a row).

/** Keys remembered; past this, new keys are only counted, repeats of remembered ones still seen. */
const MAX_KEYS = 1 << 16;

export class SharedPrefixes {
  private readonly seen = new Set<number>();
  /** Rows whose key an earlier row had (among the keys remembered). */
  repeats = 0;
  /** Rows with a key. */
  keyed = 0;

  /** Rows without max_tokens, and the smallest and largest max_tokens asked for. */
  private unbounded = 0;
  private least = Number.POSITIVE_INFINITY;
  private most = 0;

  seeMaxTokens(m: number | null): void {
    if (m === null) {
      this.unbounded++;
      return;
    }
    if (m < this.least) this.least = m;
    if (m > this.most) this.most = m;
  }

  /**
   * How many times the largest max_tokens is the smallest, when every row sets one (0 otherwise:
   * a row without one may be the longest, and longest-first would put it last).
   */
  lengthSpread(): number {
    return this.unbounded > 0 || this.most === 0 ? 0 : this.most / this.least;
  }

  see(key: number): void {
    this.keyed++;
    if (this.seen.has(key)) this.repeats++;
    else if (this.seen.size < MAX_KEYS) this.seen.add(key);
  }
}
