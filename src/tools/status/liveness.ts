// Is some process writing this journal right now? The journal runs in WAL mode, where every open
// connection holds a shared lock on the "-shm" file for its whole life; on Linux /proc/locks shows
// those locks. No -shm file means no connection at all. Elsewhere, recent file activity decides.
import { existsSync, readFileSync, statSync } from "node:fs";

export type LockProbe = "held" | "free" | "unknown";

function devParts(dev: number): { major: number; minor: number } {
  // glibc's dev_t encoding (what stat returns on Linux).
  const hi = Math.floor(dev / 2 ** 32);
  const lo = dev >>> 0;
  return {
    major: ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0),
    minor: (lo & 0xff) | ((lo >>> 12) & 0xfff00),
  };
}

/** POSIX locks on the journal's -shm file: null when /proc/locks cannot be read. */
export function shmLockCount(journal: string): number | null {
  const shm = `${journal}-shm`;
  if (!existsSync(shm)) return 0;
  let text: string;
  try {
    text = readFileSync("/proc/locks", "utf8");
  } catch {
    return null;
  }
  const st = statSync(shm);
  const { major, minor } = devParts(st.dev);
  let n = 0;
  for (const line of text.split("\n")) {
    const m = / ([0-9a-f]+):([0-9a-f]+):(\d+) /.exec(line);
    if (!m || Number(m[3]) !== st.ino) continue;
    if (Number.parseInt(m[1] as string, 16) === major && Number.parseInt(m[2] as string, 16) === minor) n++;
  }
  return n;
}

/**
 * `before`: the count taken before our own connection opened; `during`: taken while it is open
 * (it must see our own lock, or the method does not work on this system or file system).
 */
export function lockProbe(hadShm: boolean, before: number | null, during: number | null): LockProbe {
  if (!hadShm) return "free";
  if (before === null || during === null || during === 0) return "unknown";
  return before > 0 ? "held" : "free";
}

/** The latest modification time (ms) among files that change while a job runs. */
export function lastActivityMs(files: (string | null)[]): number | null {
  let last: number | null = null;
  for (const f of files) {
    if (!f) continue;
    try {
      const st = statSync(f);
      // Our own read-only opens leave an empty -wal behind; it says nothing about the job.
      if (f.endsWith("-wal") && st.size === 0) continue;
      if (last === null || st.mtimeMs > last) last = st.mtimeMs;
    } catch {
      // absent: no activity to report
    }
  }
  return last;
}
