// jobStatus(): rows done, failed and pending, tokens, rate and ETA of a running or stopped job, read
// from its journal opened read-only (safe while the job writes it: WAL readers never block the
// writer). Whether it runs is the job's lock (held by the process running it, dropped when that
// process ends however it ends). Nothing is recorded: the rate comes from the journal's creation
// time and counts, and for a running job from a short second look.
import { VbatchError } from "../../errors.js";
import { jobIsRunning } from "../../journal/job-lock.js";
import { emptyCounts, Journal, type JournalCounts } from "../../journal/journal.js";
import { describeOwner } from "../../journal/lock.js";
import { type ProviderSummary, providerSummary } from "../../provider/report.js";
import { findJob, type JobFiles } from "./find.js";
import { lastActivityMs } from "./last-activity.js";

export type JobState = "running" | "stopped" | "complete";

export interface StatusOptions {
  /** A job's output file (or its .vbatch.db). @default the only *.vbatch.db in `cwd` */
  output?: string | undefined;
  journal?: string | undefined;
  cwd?: string | undefined;
  /** For a running job, look again after this long to measure the current rate; 0 skips. @default 0 */
  sampleMs?: number | undefined;
}

export interface StatusRate {
  rowsPerSec: number;
  /** Completion tokens per second. */
  tokensPerSec: number;
  basis: "sampled" | "average";
  /** What the number means, for people. */
  meaning: string;
}

export interface StatusReport extends JournalCounts, JobFiles {
  state: JobState;
  /** The process running the job ("pid N on host, since T"), or null when none does. */
  runningBy: string | null;
  /** False while the job is still reading and validating its input (counts still growing). */
  validated: boolean;
  jobId: string | null;
  /** The part of a split input this job runs, "index/count" (`run --shard`), or null for all of it. */
  shard: string | null;
  input: string | null;
  createdAt: string | null;
  lastUpdate: string | null;
  /** Finished rows (succeeded + failed) as a percentage of all rows. */
  percent: number;
  rate: StatusRate | null;
  /** Seconds left at `rate`; null when complete, stopped or without a rate. */
  etaSec: number | null;
  /** A job sent to a provider's batch API: its batches, counts, cost and retention warnings. */
  provider: ProviderSummary | null;
}

function rate(
  prev: JournalCounts,
  cur: JournalCounts,
  seconds: number,
  basis: StatusRate["basis"],
  meaning: string,
): StatusRate | null {
  if (!(seconds > 0)) return null;
  const rows = cur.succeeded + cur.failed - (prev.succeeded + prev.failed);
  return {
    rowsPerSec: rows / seconds,
    tokensPerSec: (cur.completionTokens - prev.completionTokens) / seconds,
    basis,
    meaning,
  };
}

function openJournal(path: string): Journal {
  let journal: Journal | undefined;
  try {
    journal = new Journal(path, { readonly: true });
    journal.counts();
    return journal;
  } catch (err) {
    journal?.close();
    throw new VbatchError("usage", `${path} is not a readable vbatch journal: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

const ZERO = emptyCounts();

export async function jobStatus(o: StatusOptions = {}): Promise<StatusReport> {
  const files = findJob(o);
  const running = jobIsRunning(files.journal);
  const activity = lastActivityMs([files.journal, `${files.journal}-wal`, files.output, files.errors]);
  const journal = openJournal(files.journal);
  try {
    let counts = journal.counts();
    const validated = journal.ingested;
    const createdAt = journal.getMeta("created_at") ?? null;
    const now = Date.now();
    let state: JobState;
    if (validated && counts.pending === 0) state = "complete";
    else state = running ? "running" : "stopped";

    let r: StatusRate | null = null;
    const created = createdAt ? Date.parse(createdAt) : Number.NaN;
    if (state === "running" && (o.sampleMs ?? 0) > 0) {
      const t0 = performance.now();
      await new Promise((resolve) => setTimeout(resolve, o.sampleMs));
      const later = journal.counts();
      r = rate(
        counts,
        later,
        (performance.now() - t0) / 1000,
        "sampled",
        `measured over the last ${((o.sampleMs ?? 0) / 1000).toFixed(1)} s`,
      );
      counts = later;
    }
    if (r === null && Number.isFinite(created)) {
      const end = state === "running" ? now : (activity ?? now);
      r = rate(
        ZERO,
        counts,
        (end - created) / 1000,
        "average",
        "average since the job was created, including any time it was stopped",
      );
    }
    const done = counts.succeeded + counts.failed;
    return {
      ...files,
      ...counts,
      state,
      runningBy: running ? describeOwner(journal.owner()) || "another process" : null,
      validated,
      jobId: journal.getMeta("job_id") ?? null,
      shard: journal.getMeta("shard") || null,
      input: journal.getMeta("input_path") ?? null,
      createdAt,
      lastUpdate: activity === null ? null : new Date(activity).toISOString(),
      percent: counts.total > 0 ? (done / counts.total) * 100 : 100,
      rate: r,
      etaSec: state === "running" && r && r.rowsPerSec > 0 ? counts.pending / r.rowsPerSec : null,
      provider: providerSummary(journal),
    };
  } finally {
    journal.close();
  }
}
