// What request handlers get: everything a job gets (job-context.ts) and the scheduler. Built
// once by startServer.
import type { JobContext } from "./job-context.js";
import type { BatchScheduler } from "./jobs/scheduler.js";

export type { JobContext };

export interface ServerContext extends JobContext {
  scheduler: BatchScheduler;
}
