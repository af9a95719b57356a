// OpenAI chat rows for --provider anthropic: every pending row is translated once before anything
// is sent (src/provider/anthropic/from-chat.ts), and rows that cannot be carried exactly are
// refused with their line numbers, the same rule as the translated input formats.
import { VbatchError } from "../../errors.js";
import { chatToParams, NotCarried } from "../../provider/anthropic/from-chat.js";
import { readSendJobs } from "../../send/row-reader.js";
import type { JobRun, PreparedRun } from "../job-run.js";

const SHOWN = 20;

export async function notCarried(run: JobRun, job: PreparedRun): Promise<VbatchError | null> {
  const problems: string[] = [];
  let count = 0;
  for await (const batch of readSendJobs({
    inputFile: job.inputFile,
    displayPath: run.paths.input,
    journal: job.journal,
    jobId: job.jobId,
    defaultModel: run.options.model,
    modelMap: run.modelMap,
    priority: undefined,
    coalesce: false,
    schemas: false,
    format: job.format,
    maxLineBytes: job.maxLineBytes,
  })) {
    for (const j of batch) {
      const t = j.tasks[0];
      if (!t) continue;
      try {
        if (t.url !== "/v1/chat/completions")
          throw new NotCarried(`${t.url} rows have no Anthropic counterpart`);
        chatToParams(JSON.parse(t.body) as Record<string, unknown>);
      } catch (err) {
        if (!(err instanceof NotCarried)) throw err;
        count++;
        if (problems.length < SHOWN) problems.push(`line ${t.line}: ${err.message}`);
      }
    }
  }
  if (count === 0) return null;
  return new VbatchError(
    "invalid_input",
    `--provider anthropic: ${count} row(s) of ${run.paths.input} cannot be carried exactly to Anthropic's Messages API; nothing was sent`,
    { details: count > SHOWN ? [...problems, `... and ${count - SHOWN} more`] : problems },
  );
}
