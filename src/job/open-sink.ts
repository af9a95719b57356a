// The "open the sink" step: the output and errors files are opened (and cut back to their
// committed lengths) only once the engines are found, and the invalid lines that no earlier run
// wrote go to the errors file first.

import { shapeLine } from "../formats/index.js";
import { invalidLineShapes } from "../formats/invalid-shapes.js";
import { errorLine, lineId } from "../output/format.js";
import { ResultSink } from "../output/sink.js";
import type { Cleanup } from "../util/cleanup.js";
import type { JobRun, PreparedRun } from "./job-run.js";

export async function openSink(run: JobRun, job: PreparedRun, cleanup: Cleanup): Promise<ResultSink> {
  const { options, paths } = run;
  const sink = new ResultSink({
    outputPath: paths.output,
    errorsPath: paths.errors,
    journal: job.journal,
    fsync: options.fsync ?? true,
    maxRows: options.commitRows,
    ops: options.fileOps,
    sample: run.sampler.take,
  });
  cleanup.defer(() => (sink.failed ? sink.abandon() : sink.close()));
  const invalid = job.journal.unwrittenInvalid();
  const shapeOf = await invalidLineShapes(
    job.format,
    job.inputFile,
    invalid.map((inv) => inv.line),
  );
  for (const inv of invalid) {
    const line = errorLine(
      lineId(job.jobId, inv.line),
      inv.customId ?? null,
      "invalid_request",
      `line ${inv.line}: ${inv.message}`,
    );
    sink.addInvalid(shapeLine(line, shapeOf(inv.line)), inv.line);
  }
  sink.flush();
  sink.sampleNow(); // the run's start on the time axis, so even a short run has a span
  return sink;
}
