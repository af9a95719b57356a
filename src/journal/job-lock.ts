// The lock of one job, beside its journal: `run`, `retry` and `merge` take it (or test it), so a
// cron that starts tonight's run while last night's is still going is refused, not mixed in.
import { acquireLock, describeOwner, FileLock, type JobOwner, lockPathOf } from "./lock.js";
import { readOwnerOf } from "./owner.js";

/** Who holds a job's lock, as its journal records it. */
export function readOwner(journal: string): JobOwner | undefined {
  return readOwnerOf(journal);
}

/** Takes the job's lock, or throws "this job is already running: pid N ... since T". */
export function lockJob(journal: string): FileLock {
  return acquireLock(
    lockPathOf(journal),
    `this job (journal ${journal})`,
    () => readOwner(journal),
    "Wait for it to finish, or stop it first: two runs of one job would answer rows twice. (A run that was killed holds no lock.)",
  );
}

/** True while some process runs the job of this journal. */
export function jobIsRunning(journal: string): boolean {
  return FileLock.isHeld(lockPathOf(journal));
}

/** While the job runs, who runs it ("pid 123 on host, since ...", "" when unreadable); else null. */
export function runningJobOwner(journal: string): string | null {
  if (!jobIsRunning(journal)) return null;
  try {
    return describeOwner(readOwner(journal));
  } catch {
    return ""; // the lock is held; who holds it is only for the message
  }
}
