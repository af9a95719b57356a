// A throwaway SQLite file for the tools' bookkeeping (seen custom_ids, input order): it keeps
// memory flat on 10 M rows where a JS Set or Map would grow with the file. Deleted on close.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { VbatchError } from "../errors.js";

export class ScratchDb {
  readonly db: Database.Database;
  private readonly dir: string;

  /** `parent`: where the temporary directory goes. @default os.tmpdir() */
  constructor(parent?: string) {
    try {
      this.dir = mkdtempSync(join(parent ?? tmpdir(), "vbatch-scratch-"));
      this.db = new Database(join(this.dir, "scratch.db"));
    } catch (err) {
      throw new VbatchError("io", `cannot create a scratch database: ${(err as Error).message}`, {
        cause: err,
      });
    }
    // Nothing here must survive a crash: no rollback journal, no fsync.
    this.db.pragma("journal_mode = OFF");
    this.db.pragma("synchronous = OFF");
    this.db.pragma("temp_store = FILE");
  }

  close(): void {
    if (this.db.open) this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
