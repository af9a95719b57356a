// What request handlers get: everything a job gets (job-context.ts) and the scheduler. Built
// once by startServer.
import type { KeyRing } from "./http/auth.js";
import type { JobContext } from "./job-context.js";
import type { BatchScheduler } from "./jobs/scheduler.js";
import type { Sessions } from "./pages/sessions.js";

export type { JobContext };

export interface ServerContext extends JobContext {
  scheduler: BatchScheduler;
  /** The API keys (none: open to all). */
  keys: KeyRing;
  /** Browsers logged in through the page's form. */
  sessions: Sessions;
}
