// How many requests one engine may hold. A fixed number (`--concurrency N`) or an adaptive one
// that follows the engine's own view of its batch (see adaptive.ts).

export interface ConcurrencyLimit {
  /** The number of requests the engine may hold now. */
  current(): number;
  /** A request finished: latency and whether the engine pushed back (429/503/timeout). */
  onResult(latencyMs: number, overloaded: boolean): void;
  /** A short description for progress and logs. */
  describe(): string;
}

export class FixedLimit implements ConcurrencyLimit {
  constructor(private readonly n: number) {}
  current(): number {
    return this.n;
  }
  onResult(): void {}
  describe(): string {
    return `fixed ${this.n}`;
  }
}
