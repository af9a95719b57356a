// The batch loop of a job that runs on its own engines and overflows to a provider by deadline
// (--overflow): it cuts no chunk itself; the planner (overflow.ts) moves rows to it, and each move
// is recorded in the journal before the rows leave the engines' hands. It polls and commits like
// the provider loop, and ends once the engines are done and no batch is open.
import { rmSync } from "node:fs";
import { buildChunk } from "./chunk-file.js";
import { transient } from "./errors.js";
import { BatchLoop } from "./send-batches.js";

export class OverflowLoop extends BatchLoop {
  private readonly shipping = new Set<number>();
  private wake = new AbortController();
  private enginesDone = false;
  /** A failure of a move that no retry mends (the job ends with it). */
  failure: unknown;

  protected override finished(): boolean {
    return this.enginesDone && this.shipping.size === 0;
  }
  protected override wakeSignal(): AbortSignal | undefined {
    const s = this.job.signal;
    return s ? AbortSignal.any([this.wake.signal, s]) : this.wake.signal;
  }
  protected override cutsChunks(): boolean {
    return false;
  }
  protected override busy(chunk: number): boolean {
    return this.shipping.has(chunk);
  }

  private poke(): void {
    this.wake.abort();
    this.wake = new AbortController();
  }

  /** The engines are done: the loop ends once no batch is open. */
  end(): void {
    this.enginesDone = true;
    this.poke();
  }

  /** No batch open and none being shipped. */
  get idle(): boolean {
    return this.shipping.size === 0 && this.ledger.open().length === 0;
  }

  /** Moves rows to a new batch: recorded now, synchronously; written, uploaded and created after. */
  move(lines: number[]): number {
    const chunk = this.ledger.plan(this.api.name, "", lines, 0);
    this.shipping.add(chunk);
    this.ship(chunk)
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => {
        this.shipping.delete(chunk);
        this.poke();
      });
    return chunk;
  }

  private async ship(chunk: number): Promise<void> {
    const { ledger, api, job } = this;
    const path = this.chunkPath(chunk);
    const page = (after: number, limit: number) => ledger.chunkPage(chunk, after, limit);
    const all = { rows: Number.MAX_SAFE_INTEGER, bytes: Number.MAX_SAFE_INTEGER };
    const built = await buildChunk({ ...job, page }, all, path, this.kind.requestLine(chunk));
    if (built) ledger.setUrl(chunk, built.url);
    let fileId: string | null = null;
    try {
      if (built) fileId = await api.upload(path, `vbatch-${job.jobId}-${chunk}.jsonl`);
    } catch (err) {
      if (!transient(err)) throw err;
      job.log?.warn(
        { chunk, err: (err as Error).message },
        "overflow upload failed; the rows go back to the engines",
      );
    } finally {
      if (!this.kind.inline) rmSync(path, { force: true });
    }
    if (!built || (fileId === null && !this.kind.inline)) {
      ledger.finish(chunk, "not shipped", true);
      return;
    }
    ledger.setFile(chunk, fileId);
    const c = ledger.open().find((x) => x.chunk === chunk);
    if (c) await this.create(c);
    job.log?.info({ chunk, rows: c?.rows }, "rows moved to a provider batch to meet the deadline");
  }
}
