// Who owns a job (or a serve data dir), recorded in its own database, and the fence that keeps a
// process that lost it from writing there. The lock file (lock.ts) refuses a second process at
// once; but a lock file can be deleted, and then two processes would each believe they hold the
// job. So each holder also claims the database with a fresh token, and every write it makes is
// refused once another process has claimed it since: the second claim wins, the first stops.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import Database from "better-sqlite3";
import { VbatchError } from "../errors.js";
import { addColumnIfMissing } from "../util/sqlite.js";
import type { JobOwner } from "./lock.js";

/** The table the holder records itself in, in its own database (journal, serve state). */
export const OWNER_SCHEMA = `
CREATE TABLE IF NOT EXISTS owner (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  pid     INTEGER NOT NULL,
  host    TEXT NOT NULL,
  since   TEXT NOT NULL,
  command TEXT NOT NULL,
  token   TEXT                      -- the holder's claim (null in databases of earlier versions)
);
`;

/** Brings an owner table of an earlier version up to this schema. */
export function migrateOwner(db: Database.Database): void {
  addColumnIfMissing(db, "owner", "token", "TEXT");
}

/** The message a fenced write raises inside SQLite (a trigger's RAISE). */
const FENCE = "vbatch_fence";

/**
 * Records this process as the holder with a new token, in one write transaction, and returns the
 * token. From here on, a process that claimed before sees its writes refused (`installFence`).
 */
export function claimOwner(db: Database.Database, command: string): string {
  const token = randomBytes(12).toString("hex");
  db.transaction(() => {
    db.prepare(
      "INSERT OR REPLACE INTO owner (id, pid, host, since, command, token) VALUES (1, ?, ?, ?, ?, ?)",
    ).run(process.pid, hostname(), new Date().toISOString(), command, token);
  }).immediate();
  return token;
}

/** The current holder's token (null when none, or a record of an earlier version). */
export function ownerToken(db: Database.Database): string | null {
  const row = db.prepare("SELECT token FROM owner WHERE id = 1").get() as
    | { token: string | null }
    | undefined;
  return row?.token ?? null;
}

/**
 * Makes every write this connection makes to `tables` check, inside its own transaction, that
 * `token` still holds the claim: temporary triggers, seen by this connection only, so another
 * process's writes are not affected and no write of ours can slip past between check and write.
 * For databases written from many places (serve's state); the journal, written from one class
 * in few but large transactions, checks once per transaction instead (a trigger costs per row).
 */
export function installFence(db: Database.Database, token: string, tables: readonly string[]): void {
  if (!/^[0-9a-f]+$/.test(token)) throw new Error("a claim token is hex");
  for (const table of tables) {
    for (const op of ["INSERT", "UPDATE", "DELETE"]) {
      const name = `vbatch_fence_${table}_${op.toLowerCase()}`;
      db.exec(`DROP TRIGGER IF EXISTS temp.${name};
        CREATE TEMP TRIGGER ${name} BEFORE ${op} ON main.${table}
        WHEN (SELECT token FROM main.owner WHERE id = 1) IS NOT '${token}'
        BEGIN SELECT RAISE(ABORT, '${FENCE}'); END;`);
    }
  }
}

/** True when `err` is a write refused by the fence. */
export function isFenced(err: unknown): boolean {
  return err instanceof Database.SqliteError && err.message === FENCE;
}

/** Forgets this process as the holder; a later holder's record is left alone. */
export function clearOwner(db: Database.Database, token: string | null): void {
  if (token === null) db.prepare("DELETE FROM owner WHERE pid = ? AND token IS NULL").run(process.pid);
  else db.prepare("DELETE FROM owner WHERE token = ?").run(token);
}

export function readOwnerRow(db: Database.Database): JobOwner | undefined {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'owner'").get();
  if (!exists) return undefined;
  return db.prepare("SELECT pid, host, since, command FROM owner WHERE id = 1").get() as JobOwner | undefined;
}

/**
 * Who holds the lock of the database at `dbPath` (a journal, or a serve state file), as the
 * holder recorded itself there; undefined when the file or its record does not exist yet.
 */
export function readOwnerOf(dbPath: string): JobOwner | undefined {
  if (!existsSync(dbPath)) return undefined;
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    return readOwnerRow(db);
  } finally {
    db.close();
  }
}

/** The error of a process whose job (or data dir) another process has claimed since. */
export function takenOver(what: string, owner: JobOwner | undefined, detail: string): VbatchError {
  const who = owner ? `pid ${owner.pid} on ${owner.host}, since ${owner.since}` : "another process";
  return new VbatchError(
    "job_taken",
    `${what} was taken over by ${who} (${detail}); this process stopped without touching its files. Two runs must not share one job: let that one finish, or stop it and re-run the same command.`,
  );
}
