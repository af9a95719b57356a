// Fault injection for the FileOps seam: fail (or kill the process at) the Nth write, fsync,
// truncate or journal commit of a real run, with the error the OS or SQLite would give. Tests
// walk a failure through every step of a commit cycle with it; production never loads it.
import Database from "better-sqlite3";
import { type FileOps, nodeFileOps } from "./file-ops.js";

export type FaultOp = "write" | "fsync" | "truncate" | "commit" | "committed";

export interface FaultPlan {
  op: FaultOp;
  /** Which call of `op` fails (1-based). */
  nth: number;
  /**
   * "throw" fails the call with `errno` (SQLITE_FULL for a commit); "kill" is kill -9 at it.
   * "committed" (just after a journal commit) takes only "kill": nothing there can fail.
   */
  action?: "throw" | "kill";
  /** @default "EIO" for fsync, "ENOSPC" otherwise */
  errno?: "EIO" | "ENOSPC";
}

const MESSAGES = { EIO: "i/o error", ENOSPC: "no space left on device" } as const;
const ERRNOS = { EIO: -5, ENOSPC: -28 } as const;

/** An Error shaped as node:fs throws it. */
function systemError(errno: "EIO" | "ENOSPC", syscall: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${errno}: ${MESSAGES[errno]}, ${syscall}`);
  err.code = errno;
  err.errno = ERRNOS[errno];
  err.syscall = syscall;
  return err;
}

export interface CountingFileOps extends FileOps {
  /** Calls so far, by op. */
  readonly counts: Record<FaultOp, number>;
  /** True once the planned fault fired. */
  readonly fired: boolean;
}

/** FileOps that count every call and, with a plan, fail exactly one. */
export function faultyFileOps(plan?: FaultPlan, base: FileOps = nodeFileOps): CountingFileOps {
  if (plan?.op === "committed" && plan.action !== "kill") {
    throw new RangeError('a fault at "committed" must be a kill: nothing after a commit can fail');
  }
  const counts: Record<FaultOp, number> = { write: 0, fsync: 0, truncate: 0, commit: 0, committed: 0 };
  let fired = false;
  const hit = (op: FaultOp, syscall: string): void => {
    counts[op]++;
    if (!plan || fired || plan.op !== op || counts[op] !== plan.nth) return;
    fired = true;
    if (plan.action === "kill") process.kill(process.pid, "SIGKILL");
    if (op === "commit") {
      throw new Database.SqliteError("database or disk is full", "SQLITE_FULL");
    }
    throw systemError(plan.errno ?? (op === "fsync" ? "EIO" : "ENOSPC"), syscall);
  };
  return {
    counts,
    get fired() {
      return fired;
    },
    open: (path, flags) => base.open(path, flags),
    fstat: (fd) => base.fstat(fd),
    stat: (path) => base.stat(path),
    close: (fd) => base.close(fd),
    write: (fd, buf, offset, length, position) => {
      hit("write", "write");
      return base.write(fd, buf, offset, length, position);
    },
    fsync: (fd) => {
      hit("fsync", "fsync");
      base.fsync(fd);
    },
    truncate: (fd, length) => {
      hit("truncate", "ftruncate");
      base.truncate(fd, length);
    },
    commit: () => {
      hit("commit", "commit");
      base.commit();
    },
    committed: () => {
      base.committed();
      hit("committed", "commit");
    },
  };
}
