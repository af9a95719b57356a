// `vbatch cancel <output>`: what a second Ctrl-C does, from another shell. A run of the job on
// this host is told to stop submitting (SIGINT, as a first Ctrl-C: it keeps polling and commits
// what the cancelled batches answered); every batch of the job still running at the provider is
// cancelled there. A job that is not running finds its cancelled batches on its next run, which
// commits their answers and submits the rest again.
import { hostname } from "node:os";
import { VbatchError } from "../errors.js";
import { jobIsRunning } from "../journal/job-lock.js";
import { Journal } from "../journal/journal.js";
import { findJob } from "../tools/status/find.js";
import { providerKind } from "./kind.js";
import type { ProviderName } from "./options.js";
import { PROVIDER_META, type ProviderRecord } from "./report.js";

export interface CancelOptions {
  output?: string | undefined;
  journal?: string | undefined;
  /** @default $OPENAI_API_KEY or $ANTHROPIC_API_KEY, by the job's provider */
  apiKey?: string | undefined;
}

export interface CancelReport {
  journal: string;
  provider: string;
  /** The batches cancelled at the provider, and those the provider refused to cancel (with why). */
  cancelled: string[];
  failed: { batch: string; error: string }[];
  /** The pid of this host's run of the job that was told to stop submitting, if any. */
  signalled: number | null;
}

export async function cancelJob(o: CancelOptions): Promise<CancelReport> {
  const files = findJob({ output: o.output, journal: o.journal });
  const running = jobIsRunning(files.journal);
  const journal = new Journal(files.journal, { readonly: true });
  let rec: ProviderRecord;
  let batches: string[];
  let owner: { pid: number; host: string } | undefined;
  try {
    const text = journal.getMeta(PROVIDER_META);
    if (text === undefined) {
      throw new VbatchError(
        "usage",
        `${files.journal} is not a job sent to a provider (--provider): nothing to cancel`,
      );
    }
    rec = JSON.parse(text) as ProviderRecord;
    batches = journal
      .batches()
      .open()
      .flatMap((c) => (c.state === "created" && c.batchId ? [c.batchId] : []));
    owner = running ? journal.owner() : undefined;
  } finally {
    journal.close();
  }
  let signalled: number | null = null;
  if (owner && owner.host === hostname()) {
    process.kill(owner.pid, "SIGINT");
    signalled = owner.pid;
  }
  const env = rec.name === "anthropic" ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY";
  const { api } = await providerKind(
    { name: rec.name as ProviderName, url: rec.url, apiKey: o.apiKey ?? process.env[env] ?? "none" },
    { jobId: "", model: undefined },
  );
  const report: CancelReport = {
    journal: files.journal,
    provider: rec.name,
    cancelled: [],
    failed: [],
    signalled,
  };
  for (const b of batches) {
    try {
      await api.cancel(b);
      report.cancelled.push(b);
    } catch (err) {
      report.failed.push({ batch: b, error: (err as Error).message });
    }
  }
  return report;
}
