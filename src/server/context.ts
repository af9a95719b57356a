// What jobs and request handlers get: the resolved options, the data layout, the stores, and (for
// handlers) the scheduler. Built once by startServer.
import type { Logger } from "pino";
import type { BatchScheduler } from "./jobs/scheduler.js";
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

export interface ServerContext extends JobContext {
  scheduler: BatchScheduler;
}
