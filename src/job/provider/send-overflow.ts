// The "run" step of a job with engines and --overflow: the engines send the rows while the
// planner (src/provider/overflow.ts) watches their rate and moves just enough rows from the end
// of the input to a provider's batch to meet the deadline. Rows a batch gives back (it failed or
// expired) are sent by the engines in another pass once every batch has ended.
import type { ResultSink } from "../../output/sink.js";
import type { ReadyEngines } from "../../pool/find-engines.js";
import type { OverflowSummary } from "../../progress/progress.js";
import { noCounters, type RunnerCounters } from "../../send/recorder.js";
import { pause } from "../../util/pause.js";
import type { JobRun, PreparedRun } from "../job-run.js";
import { sendRows } from "../send-rows.js";
import { recordProvider } from "./send-provider.js";

function add(a: RunnerCounters, b: RunnerCounters): void {
  for (const k of Object.keys(a) as (keyof RunnerCounters)[]) a[k] += b[k];
}

/** The batch loop that takes the rows the planner moves, committing through the job's sink. */
async function overflowLoop(
  run: JobRun,
  job: PreparedRun,
  ready: ReadyEngines,
  sink: ResultSink,
  counters: RunnerCounters,
) {
  const { options, log } = run;
  const provider = (options.overflow as NonNullable<typeof options.overflow>).provider;
  const { OverflowLoop } = await import("../../provider/overflow-loop.js");
  const { providerKind } = await import("../../provider/kind.js");
  const model = options.model ?? ready.model;
  const kind = await providerKind(provider, { jobId: job.jobId, model, journal: job.journal });
  const loop = new OverflowLoop(
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
      model,
      modelMap: run.modelMap,
      tags: job.tags,
      maxAttempts: options.maxAttempts ?? 5,
      counters,
      signal: options.signal,
      log,
    },
    kind,
  );
  return { loop, maxRows: Math.min(provider.chunkRows ?? kind.api.maxRows, kind.api.maxRows) };
}

export async function sendWithOverflow(
  run: JobRun,
  job: PreparedRun,
  ready: ReadyEngines,
  sink: ResultSink,
): Promise<boolean> {
  const { options, progress, log } = run;
  const overflow = options.overflow;
  if (!overflow) return sendRows(run, job, ready, sink);
  const provider = overflow.provider;
  recordProvider(run, job, provider);
  const { OverflowPlanner } = await import("../../provider/overflow.js");
  const { priceFor, PROVIDER_META } = await import("../../provider/report.js");
  const viaProvider = noCounters();
  const byEngines = noCounters();
  const { loop, maxRows } = await overflowLoop(run, job, ready, sink, viaProvider);
  const tally = () => {
    const c = run.runner?.counters ?? noCounters();
    return {
      rows: c.succeeded + c.failed,
      promptTokens: c.promptTokens,
      completionTokens: c.completionTokens,
    };
  };
  const model =
    (JSON.parse(job.journal.getMeta(PROVIDER_META) ?? "{}") as { model?: string | null }).model ?? null;
  const price = priceFor({ name: provider.name, model, price: provider.price ?? null });
  const planner = new OverflowPlanner(overflow, job.journal.batches(), loop, price, maxRows, tally, log);
  const batches = loop.run();
  const timer = setInterval(() => planner.tick(), overflow.checkMs ?? 5000);
  let interrupted = false;
  try {
    for (;;) {
      planner.reset();
      interrupted = await sendRows(run, job, ready, sink, planner.take);
      add(byEngines, run.runner?.counters ?? noCounters());
      if (interrupted || options.signal?.aborted || loop.failure) break;
      while (!loop.idle && !loop.failure && !options.signal?.aborted) {
        await pause(provider.pollIntervalMs ?? 5000, options.signal);
      }
      if (job.journal.counts().pending === 0 || options.signal?.aborted) break;
      log?.info(
        { rows: job.journal.batches().countUnassigned() },
        "rows a provider batch gave back go to the engines",
      );
    }
  } finally {
    clearInterval(timer);
    loop.end();
  }
  const stopped = await batches;
  if (loop.failure) throw loop.failure;
  finishTally(run, progress, byEngines, viaProvider);
  return interrupted || stopped;
}

/** The run's counters, engines' and batches' together, and where the rows ran. */
function finishTally(
  run: JobRun,
  progress: JobRun["progress"],
  byEngines: RunnerCounters,
  viaProvider: RunnerCounters,
): void {
  const all = noCounters();
  add(all, byEngines);
  add(all, viaProvider);
  run.runner = undefined;
  progress.runner = undefined;
  progress.provider = all;
  const summary: OverflowSummary = {
    engineRows: byEngines.succeeded + byEngines.failed,
    providerRows: viaProvider.succeeded + viaProvider.failed,
  };
  run.overflowSummary = summary;
}
