// One job run from the terminal: engines to use (or start), signals to an AbortSignal (first
// Ctrl-C drains, second exits), the progress line, and the summary. run and retry share it.

import type { RunOptions } from "../../job/options.js";
import { resolvePaths } from "../../job/paths.js";
import { checkPaths } from "../../job/run-batch.js";
import { lockJob } from "../../journal/job-lock.js";
import type { FileLock } from "../../journal/lock.js";
import type { RunSummary } from "../../progress/progress.js";
import { createLogger } from "../logger.js";
import { ProgressLine } from "../progress-line.js";
import { renderSummary } from "../summary.js";
import { type JobEngines, jobEngines } from "./engines.js";
import type { JobFlags } from "./flags.js";
import { jobOptions } from "./options.js";

export async function runJobSession<S extends RunSummary>(
  input: string,
  flags: JobFlags,
  execute: (options: RunOptions, lock: FileLock) => Promise<S>,
): Promise<S> {
  // The job's lock before anything else: a second run of a running job is refused before it
  // starts engines on GPUs the first one uses.
  const paths = resolvePaths(jobOptions(input, flags));
  checkPaths(paths);
  const lock = lockJob(paths.journal);
  try {
    return await session(input, flags, (options) => execute(options, lock));
  } finally {
    lock.release();
  }
}

async function session<S extends RunSummary>(
  input: string,
  flags: JobFlags,
  execute: (options: RunOptions) => Promise<S>,
): Promise<S> {
  const tty = Boolean(process.stderr.isTTY) && flags.progress;
  const logger = createLogger({ level: flags.logLevel, file: flags.logFile, progressOnStderr: tty });
  const controller = new AbortController();
  let engines: JobEngines | undefined;
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      process.stderr.write(`\nvbatch: ${sig}: finishing in-flight rows (press Ctrl-C again to exit now)\n`);
      controller.abort();
    } else {
      // Everything committed so far is consistent on disk; uncommitted answers are re-sent on resume.
      process.stderr.write("\nvbatch: exiting now; re-run the same command to resume\n");
      engines?.launch?.stopNow();
      process.exit(130);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    engines = await jobEngines(flags, logger, controller.signal);
  } catch (err) {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    throw err;
  }

  const line = tty ? new ProgressLine(process.stderr) : undefined;
  const options: RunOptions = {
    ...jobOptions(input, flags),
    endpoints: engines.endpoints,
    engineHints: engines.hints,
    engineSource: engines.source,
    launchedGpus: launchedGpus(engines),
    onMetricsUrl: (url) => process.stderr.write(`vbatch: runner metrics at ${url}\n`),
    signal: controller.signal,
    onProgress: line ? (p) => line.update(p) : undefined,
    logger,
  };
  try {
    const summary = await execute(options);
    line?.clear();
    process.stderr.write(renderSummary(summary));
    if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    return summary;
  } finally {
    line?.clear();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await engines.release();
  }
}

/** GPUs the launched engines hold (an engine given no GPU list counts as one), for the cost. */
function launchedGpus(engines: JobEngines): (() => number | null) | undefined {
  const launch = engines.launch;
  if (!launch) return undefined;
  return () => launch.engines().reduce((n, e) => n + Math.max(1, e.gpus.length), 0);
}
