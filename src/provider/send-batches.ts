// src/provider/ is the backend that sends a job to a provider's batch API instead of engines:
// this loop, one folder a provider (openai/, anthropic/), the chunk files, and the results. It
// takes its rows from the journal and gives every answer back through the job's sink, so
// exactly-once and resume hold as they do for engines (docs/providers.md).
//
// The batch loop: submit chunks while rows are left and the provider accepts them, poll every
// open batch with backoff, commit each batch's results as soon as it ends. Every id is in the
// journal before it is trusted: a planned chunk whose file id was never recorded is planned
// again; a chunk whose batch was created but not recorded is found again (by its metadata at
// OpenAI, by its recorded intent and its mapped custom_ids at Anthropic) before one is created.
import { existsSync, rmSync } from "node:fs";
import { VbatchError } from "../errors.js";
import type { BatchLedger, ChunkRecord } from "../journal/batch-records.js";
import { pause } from "../util/pause.js";
import { type BatchInfo, type ChunkTag, type ProviderApi, QueueFull, ResultsGone } from "./api.js";
import { buildChunk } from "./chunk-file.js";
import { fatal, transient } from "./errors.js";
import type { ProviderJob } from "./job.js";
import type { ProviderKind } from "./kind.js";
import { pauseHook } from "./pause-hook.js";
import { type ApplyContext, applyResults } from "./results.js";

const DEFAULT_CHUNK_BYTES = 32 << 20;

export class BatchLoop {
  protected readonly ledger: BatchLedger;
  private readonly apply: ApplyContext;
  /** Chunks left "uploaded" by an earlier run: their batch may exist unrecorded. */
  private readonly recovering = new Set<number>();
  /** No new batch before this time (the provider's queue is full). */
  protected heldUntil = 0;
  protected wait: number;
  private cancelled = false;

  protected readonly api: ProviderApi;

  constructor(
    protected readonly job: ProviderJob,
    protected readonly kind: ProviderKind,
  ) {
    this.api = kind.api;
    this.ledger = job.journal.batches();
    this.wait = this.base;
    this.apply = {
      journal: job.journal,
      ledger: this.ledger,
      sink: job.sink,
      jobId: job.jobId,
      maxAttempts: job.maxAttempts,
      counters: job.counters,
      lineOf: kind.lineOf,
      native: kind.native,
      bodyOf: kind.bodyOf,
    };
  }

  protected get base(): number {
    return this.job.provider.pollIntervalMs ?? 5000;
  }

  protected chunkPath(chunk: number): string {
    return `${this.job.journalPath}.chunk-${chunk}.jsonl`;
  }

  private tag(c: ChunkRecord): ChunkTag {
    const known = new Set(this.ledger.chunks().flatMap((k) => (k.batchId ? [k.batchId] : [])));
    return {
      jobId: this.job.jobId,
      chunk: c.chunk,
      tags: this.job.tags,
      since: c.plannedAt,
      rows: c.rows,
      known,
    };
  }

  /** Runs until every row is final, or (once the signal aborts) until no batch is running. */
  async run(): Promise<boolean> {
    const { signal, provider } = this.job;
    for (const c of this.ledger.open()) {
      if (c.state === "planned") {
        this.ledger.drop(c.chunk);
        rmSync(this.chunkPath(c.chunk), { force: true });
      } else if (c.state === "uploaded") this.recovering.add(c.chunk);
    }
    for (;;) {
      const stopping = signal?.aborted ?? false;
      if (provider.cancelSignal?.aborted && !this.cancelled) await this.cancelAll();
      let changed = stopping ? false : await this.submit();
      for (const c of this.ledger.open())
        if (c.state === "created") changed = (await this.poll(c)) || changed;
      const open = this.ledger.open();
      if (stopping && !open.some((c) => c.state === "created")) break;
      if (open.length === 0 && this.finished()) break;
      this.wait = changed ? this.base : Math.min(this.wait * 1.5, provider.pollMaxMs ?? 300_000);
      await pause(this.wait, stopping ? provider.cancelSignal : this.wakeSignal());
    }
    return this.job.journal.counts().pending > 0;
  }

  // Hooks of the overflow loop (overflow-loop.ts): with no batch open, whether the loop is done;
  // what ends a wait early; whether the loop cuts chunks itself; a chunk being shipped elsewhere.
  protected finished(): boolean {
    return this.ledger.unassignedPage(0, 1).length === 0;
  }
  protected wakeSignal(): AbortSignal | undefined {
    return this.job.signal;
  }
  protected cutsChunks(): boolean {
    return true;
  }
  protected busy(_chunk: number): boolean {
    return false;
  }

  /** Creates the batches of uploaded chunks, then cuts, uploads and creates new ones. */
  private async submit(): Promise<boolean> {
    let changed = false;
    for (const c of this.ledger.open()) {
      if (c.state !== "uploaded" || this.busy(c.chunk)) continue;
      if (Date.now() < this.heldUntil) return changed;
      changed = (await this.create(c)) || changed;
    }
    while (this.cutsChunks() && Date.now() >= this.heldUntil && !this.job.signal?.aborted) {
      const c = await this.nextChunk();
      if (!c) break;
      changed = true;
      await this.create(c);
    }
    return changed;
  }

  /** Cuts the next chunk from the rows no batch holds, records it, uploads it, records the file. */
  private async nextChunk(): Promise<ChunkRecord | undefined> {
    const { job, api, ledger } = this;
    const next = (ledger.chunks().at(-1)?.chunk ?? 0) + 1;
    const path = this.chunkPath(next);
    const limits = {
      rows: Math.min(job.provider.chunkRows ?? api.maxRows, api.maxRows),
      bytes: Math.min(job.provider.chunkBytes ?? DEFAULT_CHUNK_BYTES, api.maxBytes),
    };
    const built = await buildChunk(
      { ...job, page: (after, limit) => ledger.unassignedPage(after, limit) },
      limits,
      path,
      this.kind.requestLine(next),
    );
    if (!built) {
      rmSync(path, { force: true });
      return undefined;
    }
    const chunk = ledger.plan(api.name, built.url, built.lines, built.bytes);
    let fileId: string | null;
    try {
      fileId = await api.upload(path, `vbatch-${job.jobId}-${chunk}.jsonl`);
    } catch (err) {
      ledger.drop(chunk);
      rmSync(path, { force: true });
      if (!transient(err)) throw fatal(api, `uploading chunk ${chunk}`, err);
      job.log?.warn({ chunk, err: (err as Error).message }, "upload failed; trying again later");
      this.heldUntil = Date.now() + this.wait;
      return undefined;
    }
    await pauseHook("uploaded");
    ledger.setFile(chunk, fileId);
    if (!this.kind.inline) rmSync(path, { force: true });
    job.log?.info({ chunk, rows: built.lines.length, bytes: built.bytes, file: fileId }, "chunk uploaded");
    return ledger.open().find((c) => c.chunk === chunk);
  }

  /** The chunk's request file, written again from its rows when an earlier run's is gone. */
  protected async requestFile(c: ChunkRecord): Promise<string> {
    const path = this.chunkPath(c.chunk);
    if (!this.kind.inline || existsSync(path)) return path;
    const page = (after: number, limit: number) => this.ledger.chunkPage(c.chunk, after, limit);
    await buildChunk(
      { ...this.job, page },
      { rows: c.rows, bytes: Number.MAX_SAFE_INTEGER },
      path,
      this.kind.requestLine(c.chunk),
    );
    return path;
  }

  /** Creates (or, after a crash, finds) a chunk's batch and records its id. */
  protected async create(c: ChunkRecord): Promise<boolean> {
    const { api, ledger, job } = this;
    const tag = this.tag(c);
    try {
      let b: BatchInfo | undefined;
      if (this.recovering.delete(c.chunk)) {
        b = await api.find(tag);
        if (b) job.log?.info({ chunk: c.chunk, batch: b.id }, "found the batch an earlier run created");
      }
      if (!b) {
        b = await api.create(tag, c.fileId, await this.requestFile(c), c.url);
        await pauseHook("created");
      }
      ledger.setBatch(c.chunk, b.id, b.status);
      rmSync(this.chunkPath(c.chunk), { force: true });
      job.counters.requests += c.rows;
      job.log?.info({ chunk: c.chunk, batch: b.id, rows: c.rows }, "batch created");
      return true;
    } catch (err) {
      this.recovering.add(c.chunk); // the call may have created it: look before creating again
      if (err instanceof QueueFull || transient(err)) {
        job.log?.warn(
          { chunk: c.chunk, err: (err as Error).message },
          "the provider refused a batch for now; waiting",
        );
        this.heldUntil = Date.now() + Math.max(this.wait, this.base);
        return false;
      }
      throw fatal(api, `creating the batch of chunk ${c.chunk}`, err);
    }
  }

  /** Polls one batch; commits its results once it ended. Returns whether anything changed. */
  private async poll(c: ChunkRecord): Promise<boolean> {
    const { api, ledger, job } = this;
    let b: BatchInfo;
    try {
      b = await api.retrieve(c.batchId as string);
    } catch (err) {
      if (!transient(err)) throw fatal(api, `polling batch ${c.batchId}`, err);
      job.log?.warn({ chunk: c.chunk, err: (err as Error).message }, "poll failed; trying again");
      return false;
    }
    const counts = JSON.stringify(b.counts);
    const changed = b.status !== c.status || counts !== JSON.stringify(c.counts);
    if (changed) {
      ledger.setStatus(c.chunk, {
        status: b.status,
        counts: b.counts,
        outputFile: b.outputFile,
        errorFile: b.errorFile,
        endedAt: b.endedAt,
      });
      job.log?.info({ chunk: c.chunk, batch: b.id, status: b.status, counts: b.counts }, "batch progress");
      await pauseHook("polled");
    }
    if (!b.ended) return changed;
    return (await this.collect(c, b)) || changed;
  }

  /** An ended batch: its answers committed, its other rows released or failed for good. */
  private async collect(c: ChunkRecord, b: BatchInfo): Promise<boolean> {
    const { api, ledger, job } = this;
    if (b.status === "failed" && b.error?.code === "token_limit_exceeded") {
      ledger.finish(c.chunk, `${b.error.code}: ${b.error.message}`, true);
      this.heldUntil = Date.now() + Math.max(this.wait, this.base);
      job.log?.warn(
        { chunk: c.chunk, batch: b.id },
        "the provider's queue is full; its rows wait for a later batch",
      );
      return true;
    }
    const why =
      b.error ??
      (b.status === "expired" ? { code: "batch_expired", message: `batch ${b.id} expired` } : null);
    try {
      const results = b.status === "failed" ? null : api.results(b);
      const r = await applyResults(this.apply, c, results, why);
      job.log?.info({ chunk: c.chunk, batch: b.id, status: b.status, ...r }, "batch results committed");
    } catch (err) {
      if (err instanceof ResultsGone) {
        job.log?.warn(
          { chunk: c.chunk, batch: b.id, err: err.message },
          "results gone; the rows are sent again",
        );
        await applyResults(this.apply, c, null, { code: "results_gone", message: err.message });
        return true;
      }
      if (err instanceof VbatchError || !transient(err)) throw err;
      job.log?.warn(
        { chunk: c.chunk, batch: b.id, err: (err as Error).message },
        "download failed; trying again",
      );
      return false;
    }
    return true;
  }

  /** Second Ctrl-C (or `vbatch cancel`): every running batch of the job is cancelled at the provider. */
  private async cancelAll(): Promise<void> {
    this.cancelled = true;
    for (const c of this.ledger.open()) {
      if (c.state !== "created" || !c.batchId) continue;
      try {
        await this.api.cancel(c.batchId);
        this.job.log?.info({ chunk: c.chunk, batch: c.batchId }, "batch cancelled");
      } catch (err) {
        this.job.log?.warn(
          { chunk: c.chunk, batch: c.batchId, err: (err as Error).message },
          "cancel failed",
        );
      }
    }
  }
}
