// One owner for releasing what a long task acquired: each resource registers its release when it
// is acquired, and dispose() runs them once, newest first (Go's defer; Node 20 has no
// AsyncDisposableStack). A release that fails is logged and the rest still run.
import type { Logger } from "pino";

export class Cleanup {
  private readonly releases: (() => unknown)[] = [];
  private disposed = false;

  constructor(private readonly log?: Logger | undefined) {}

  /** Registers `release` to run before everything registered earlier. After dispose(), runs it now. */
  defer(release: () => unknown): void {
    if (this.disposed) void this.runOne(release);
    else this.releases.push(release);
  }

  /** Runs every release once, in reverse order of registration, awaiting each. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const release of this.releases.splice(0).reverse()) await this.runOne(release);
  }

  private async runOne(release: () => unknown): Promise<void> {
    try {
      await release();
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, "cleanup failed");
    }
  }
}
