// How many requests one engine may hold. A fixed number (`--concurrency N`) or an adaptive one
// that follows the engine's own view of its batch (see vllm-limit.ts).

export interface ConcurrencyLimit {
  /** The number of requests the engine may hold now. */
  current(): number;
  /**
   * A request finished: its latency, whether the engine pushed back (429/503/timeout), and how
   * many of our requests the engine held when it finished.
   */
  onResult(latencyMs: number, overloaded: boolean, inFlight: number): void;
  /** A short description for progress and logs. */
  describe(): string;
  /** The engine's running batch when known (requests beyond it only wait in its queue). */
  batchSize?(): number | null;
  /** True when the next /metrics scrape may move the limit, so it should come soon. */
  wantsScrapeSoon?(inFlight: number): boolean;
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
