// The "run" step of a job sent to a provider's batch API (--provider) instead of engines: what
// the provider cannot take is refused before any file is opened for writing, then the batch loop
// (src/provider/) runs over the journal's pending rows and commits through the job's sink.
import { VbatchError } from "../../errors.js";
import type { ResultSink } from "../../output/sink.js";
import { ANTHROPIC_URL, OPENAI_URL, type ProviderOptions } from "../../provider/options.js";
import { PROVIDER_META, type ProviderRecord, priceFor, providerSummary } from "../../provider/report.js";
import { noCounters } from "../../send/recorder.js";
import type { JobRun, PreparedRun } from "../job-run.js";
import { discardPrepared } from "../prepare.js";

/** What the provider cannot take, refused while the directory can still be left as it was found. */
export async function checkProviderJob(run: JobRun, job: PreparedRun): Promise<void> {
  const provider = run.options.provider ?? run.options.overflow?.provider;
  if (!provider || job.before.pending === 0) return;
  let why: string | undefined;
  if (provider.name === "openai" && job.format !== "openai") {
    why = `--provider openai takes OpenAI batch lines; ${run.paths.input} has ${job.format} lines${job.format === "anthropic" ? " (use --provider anthropic)" : ""}`;
  } else if (provider.name === "anthropic" && job.format !== "anthropic" && job.format !== "openai") {
    why = `--provider anthropic takes Anthropic Message Batch lines or OpenAI chat lines; ${run.paths.input} has ${job.format} lines`;
  } else if (job.rowsWithoutModel > 0 && !run.options.model && !run.options.overflow) {
    why = `${job.rowsWithoutModel} row(s) name no model: a provider needs one; pass --model <id>`;
  } else if (run.options.overflow?.budgetUsd !== undefined && !budgetPrice(run, job, provider)) {
    why =
      "--overflow-budget needs the batch price of the job's model: pass --price <in/out> (USD per 1M tokens)";
  } else if (Object.keys(job.tags).length > 14) {
    why = "--provider: a batch's metadata holds 16 pairs, 2 of them vbatch's own: pass at most 14 --tag";
  }
  if (why) {
    discardPrepared(job);
    throw new VbatchError("usage", why);
  }
  if (provider.name === "anthropic" && job.format === "openai") {
    const { notCarried } = await import("./carried.js");
    const refused = await notCarried(run, job);
    if (refused) {
      discardPrepared(job);
      throw refused;
    }
  }
}

/** The batch price an overflow budget is counted in: --price, or the table's for the job's one model. */
function budgetPrice(run: JobRun, job: PreparedRun, p: ProviderOptions): boolean {
  const models = [...new Set([...(job.models?.keys() ?? [])].map((m) => run.modelMap.get(m) ?? m))];
  return (
    priceFor({
      name: p.name,
      model: models.length === 1 ? (models[0] as string) : null,
      price: p.price ?? null,
    }) !== null
  );
}

/** The provider in the journal (never its key), for status, cancel and the price of the summary. */
export function recordProvider(run: JobRun, job: PreparedRun, p = run.options.provider): void {
  if (!p) return;
  const models = [...(job.models?.keys() ?? [])];
  if (job.rowsWithoutModel > 0 && run.options.model) models.push(run.options.model);
  const unique = [...new Set(models.map((m) => run.modelMap.get(m) ?? m))];
  const rec: ProviderRecord = {
    name: p.name,
    url: p.url ?? (p.name === "openai" ? OPENAI_URL : ANTHROPIC_URL),
    model: unique.length === 1 ? (unique[0] as string) : null,
    price: p.price ?? null,
    retentionSec: p.name === "anthropic" ? 29 * 86_400 : (p.outputRetentionSec ?? 30 * 86_400),
  };
  job.journal.setMeta({ [PROVIDER_META]: JSON.stringify(rec) });
  for (const w of providerSummary(job.journal)?.warnings ?? []) run.log?.warn(w);
}

export async function sendToProvider(run: JobRun, job: PreparedRun, sink: ResultSink): Promise<boolean> {
  const { options, progress, log } = run;
  const provider = options.provider;
  if (!provider) return false;
  if (job.before.pending === 0) return false;
  const { BatchLoop } = await import("../../provider/send-batches.js");
  const { providerKind } = await import("../../provider/kind.js");
  const kind = await providerKind(provider, {
    jobId: job.jobId,
    model: options.model,
    journal: job.journal,
    format: job.format,
  });
  recordProvider(run, job);
  const counters = noCounters();
  progress.provider = counters;
  progress.phase = "running";
  log?.info(
    { rows: job.before.pending, resumed: job.resumedRows, provider: provider.name },
    job.resumedRows > 0 ? "resuming" : "starting",
  );
  const loop = new BatchLoop(
    {
      provider,
      journal: job.journal,
      sink,
      inputFile: job.inputFile,
      displayPath: run.paths.input === "-" ? "stdin" : run.paths.input,
      journalPath: run.paths.journal,
      jobId: job.jobId,
      format: job.format,
      maxLineBytes: job.maxLineBytes,
      model: options.model,
      modelMap: run.modelMap,
      tags: job.tags,
      maxAttempts: options.maxAttempts ?? 5,
      counters,
      signal: options.signal,
      log,
    },
    kind,
  );
  return loop.run();
}
