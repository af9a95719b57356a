// The pending rows in an order other than the input's: rows that share a prompt prefix one after
// another ("prefix": see input/prefix-key.ts), or the longest first ("length": largest max_tokens,
// then longest prompt). A keyset cursor over an index on (order value, line): pages of bounded
// size, no statement held open between pages, each page starting where the last one ended.
import type Database from "better-sqlite3";
import type { KeyedRow, RowOrder } from "./records.js";

/** The column each order reads by (ascending: the longest rows have the smallest `lord`). */
const ORDER_VALUE: Record<RowOrder, string> = { prefix: "pkey", length: "lord" };

type PageStatement = Database.Statement<[number, number, number], KeyedRow>;
const statements = new WeakMap<Database.Database, Map<RowOrder, PageStatement>>();

/**
 * Up to `limit` pending rows after (ord, line) in `order`. The index is built on first use, once
 * per journal: one sort of the rows, paid only by jobs that read in this order.
 */
export function keyedPage(
  db: Database.Database,
  order: RowOrder,
  ord: number,
  line: number,
  limit: number,
): KeyedRow[] {
  let byOrder = statements.get(db);
  if (byOrder === undefined) {
    byOrder = new Map();
    statements.set(db, byOrder);
  }
  let stmt = byOrder.get(order);
  if (stmt === undefined) {
    const v = ORDER_VALUE[order];
    db.exec(`CREATE INDEX IF NOT EXISTS rows_by_${order} ON rows (${v}, line)`);
    stmt = db.prepare(
      `SELECT line, fp, pkey, off, len, ${v} AS ord FROM rows WHERE (${v}, line) > (?, ?) AND state = 0 AND dup_of IS NULL ORDER BY ${v}, line LIMIT ?`,
    ) as PageStatement;
    byOrder.set(order, stmt);
  }
  return stmt.all(ord, line, limit);
}
