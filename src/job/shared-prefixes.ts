// Whether an input's rows share prompt prefixes, counted during validation in bounded memory: the
// send pass reads rows in prefix-key order only when some key repeats (otherwise input order
// costs less: one sequential read instead of one read a row).

/** Keys remembered; past this, new keys are only counted, repeats of remembered ones still seen. */
const MAX_KEYS = 1 << 16;

export class SharedPrefixes {
  private readonly seen = new Set<number>();
  /** Rows whose key an earlier row had (among the keys remembered). */
  repeats = 0;
  /** Rows with a key. */
  keyed = 0;

  see(key: number): void {
    this.keyed++;
    if (this.seen.has(key)) this.repeats++;
    else if (this.seen.size < MAX_KEYS) this.seen.add(key);
  }
}
