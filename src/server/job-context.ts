// What a batch's job gets from the server: the resolved options, the data layout and the stores.
// Kept apart from context.ts (which adds the scheduler for request handlers) so the jobs that
// the scheduler runs do not import the scheduler back.
import type { Logger } from "pino";
import type { DataLayout } from "./layout.js";
import type { ResolvedServerOptions } from "./options.js";
import type { BatchStore } from "./store/batches.js";
import type { FileStore } from "./store/files.js";

export interface JobContext {
  options: ResolvedServerOptions;
  layout: DataLayout;
  files: FileStore;
  batches: BatchStore;
  log: Logger | undefined;
}
