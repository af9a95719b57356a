// The merge's bookkeeping in a scratch SQLite file: every custom_id seen (where, and where its
// bytes are, for input order), the input's custom_ids by line. SQLite rather than a Map, so
// merging 10 M rows needs no more memory than merging ten.
import type Database from "better-sqlite3";
import { ScratchDb } from "../scratch-db.js";

export interface SeenLine {
  customId: string | null;
  file: number;
  line: number;
  offset: number;
  length: number;
  failed: boolean;
  /** The line itself, kept only when it cannot be read back by offset (a .gz source). */
  text: string | null;
}

export interface StoredLine {
  file: number;
  offset: number;
  length: number;
  failed: number;
  text: string | null;
}

export class MergeStore {
  private readonly scratch: ScratchDb;
  readonly db: Database.Database;
  private readonly insertSeen: Database.Statement;
  private readonly insertUnkeyed: Database.Statement;
  private readonly firstSeen: Database.Statement<[string], { file: number; line: number }>;
  private readonly insertInput: Database.Statement<[number, string]>;
  private readonly inputLine: Database.Statement<[string], { line: number }>;

  constructor(scratchDir?: string) {
    this.scratch = new ScratchDb(scratchDir);
    this.db = this.scratch.db;
    this.db.exec(`
      CREATE TABLE seen (custom_id TEXT PRIMARY KEY, file INTEGER, line INTEGER, offset INTEGER,
                         length INTEGER, failed INTEGER, text TEXT);
      CREATE TABLE unkeyed (seq INTEGER PRIMARY KEY, file INTEGER, line INTEGER, offset INTEGER,
                            length INTEGER, failed INTEGER, text TEXT);
      CREATE TABLE input (line INTEGER PRIMARY KEY, custom_id TEXT NOT NULL UNIQUE);`);
    const cols = "(custom_id, file, line, offset, length, failed, text) VALUES (?, ?, ?, ?, ?, ?, ?)";
    this.insertSeen = this.db.prepare(`INSERT OR IGNORE INTO seen ${cols}`);
    this.insertUnkeyed = this.db.prepare(
      "INSERT INTO unkeyed (file, line, offset, length, failed, text) VALUES (?, ?, ?, ?, ?, ?)",
    );
    this.firstSeen = this.db.prepare("SELECT file, line FROM seen WHERE custom_id = ?");
    this.insertInput = this.db.prepare("INSERT OR IGNORE INTO input (line, custom_id) VALUES (?, ?)");
    this.inputLine = this.db.prepare("SELECT line FROM input WHERE custom_id = ?");
  }

  transaction(fn: () => void): void {
    this.db.transaction(fn)();
  }

  /** Records a line; returns where the same custom_id was seen first, if it was. */
  add(l: SeenLine): { file: number; line: number } | null {
    const values = [l.file, l.line, l.offset, l.length, l.failed ? 1 : 0, l.text] as const;
    if (l.customId === null) {
      this.insertUnkeyed.run(...values);
      return null;
    }
    if (this.insertSeen.run(l.customId, ...values).changes > 0) return null;
    return this.firstSeen.get(l.customId) ?? null;
  }

  /** Records an input row; returns the line of an earlier row with the same custom_id, if any. */
  addInput(line: number, customId: string): number | null {
    if (this.insertInput.run(line, customId).changes > 0) return null;
    return this.inputLine.get(customId)?.line ?? null;
  }

  /** Input rows with no output line, in input order. */
  missing(): IterableIterator<{ custom_id: string; line: number }> {
    return this.db
      .prepare(
        "SELECT i.custom_id, i.line FROM input i LEFT JOIN seen s USING (custom_id) WHERE s.custom_id IS NULL ORDER BY i.line",
      )
      .iterate() as IterableIterator<{ custom_id: string; line: number }>;
  }

  /** Output lines whose custom_id is not in the input. */
  strangers(): IterableIterator<{ custom_id: string; file: number; line: number }> {
    return this.db
      .prepare(
        "SELECT s.custom_id, s.file, s.line FROM seen s LEFT JOIN input i USING (custom_id) WHERE i.custom_id IS NULL",
      )
      .iterate() as IterableIterator<{ custom_id: string; file: number; line: number }>;
  }

  /** Every keyed line in input order, then the unkeyed ones in reading order. */
  *inInputOrder(): IterableIterator<StoredLine> {
    yield* this.db
      .prepare(
        "SELECT s.file, s.offset, s.length, s.failed, s.text FROM input i JOIN seen s USING (custom_id) ORDER BY i.line",
      )
      .iterate() as IterableIterator<StoredLine>;
    yield* this.db
      .prepare("SELECT file, offset, length, failed, text FROM unkeyed ORDER BY seq")
      .iterate() as IterableIterator<StoredLine>;
  }

  count(table: "seen" | "unkeyed" | "input"): number {
    return (this.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  }

  close(): void {
    this.scratch.close();
  }
}
