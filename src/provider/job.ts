// What the batch loop is given by the job (src/job/send-provider.ts): the journal and sink it
// commits through, how to read the input's rows, and the job's id, tags and limits.
import type { Logger } from "pino";
import type { FormatName } from "../formats/types.js";
import type { Journal } from "../journal/journal.js";
import type { ResultSink } from "../output/sink.js";
import type { ProviderOptions } from "./options.js";
import type { ProviderCounters } from "./results.js";

export interface ProviderJob {
  provider: ProviderOptions;
  journal: Journal;
  sink: ResultSink;
  inputFile: string;
  displayPath: string;
  journalPath: string;
  jobId: string;
  format: FormatName;
  maxLineBytes: number | undefined;
  model: string | undefined;
  modelMap: ReadonlyMap<string, string>;
  tags: Record<string, string>;
  maxAttempts: number;
  counters: ProviderCounters;
  signal?: AbortSignal | undefined;
  log?: Logger | undefined;
}
