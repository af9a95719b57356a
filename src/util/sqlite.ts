// Small SQLite helpers shared by the journal and the serve state.
import type Database from "better-sqlite3";

/**
 * Adds `column` (of SQL `type`, e.g. "INTEGER") to `table` when a database made by an earlier
 * version lacks it. Existing rows read the new column as null.
 */
export function addColumnIfMissing(db: Database.Database, table: string, column: string, type: string): void {
  const columns = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
  if (!columns.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
}
