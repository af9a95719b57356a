// One server per data dir, even when its lock file is deleted: the server claims its state
// database, every write it makes there is refused once another server has claimed it since
// (journal/owner.ts), and a watch notices the loss within a second and stops this server, so it
// neither answers clients from a stale view nor runs batches the other one now runs.
import { statSync } from "node:fs";
import type Database from "better-sqlite3";
import type { VbatchError } from "../errors.js";
import { claimOwner, installFence, ownerToken, readOwnerRow, takenOver } from "../journal/owner.js";

export interface Ownership {
  token: string;
  /** Stops watching. */
  stop(): void;
}

/** Claims the state database at `path` and calls `onLost` once if another process takes it. */
export function claimStateDb(
  db: Database.Database,
  path: string,
  what: string,
  onLost: (err: VbatchError) => void,
  intervalMs = 1000,
): Ownership {
  const token = claimOwner(db, "vbatch serve");
  installFence(db, token, ["files", "batches"]);
  const opened = statSync(path);
  const lostWhy = (): string | null => {
    const now = statSync(path, { throwIfNoEntry: false });
    if (!now || now.ino !== opened.ino || now.dev !== opened.dev) {
      return `its state database was ${now ? "replaced" : "removed"}`;
    }
    return ownerToken(db) === token ? null : "another server claimed the data dir since this one started";
  };
  const timer = setInterval(() => {
    let why: string | null;
    try {
      why = lostWhy();
    } catch {
      return; // a busy or briefly unreadable database is not a loss; the next look decides
    }
    if (why === null) return;
    clearInterval(timer);
    let owner: ReturnType<typeof readOwnerRow>;
    try {
      owner = readOwnerRow(db);
    } catch {
      owner = undefined;
    }
    onLost(takenOver(what, owner, why));
  }, intervalMs);
  timer.unref();
  return { token, stop: () => clearInterval(timer) };
}
