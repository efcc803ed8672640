import { and, eq, gt, lt, or, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";

/** Position after the last row of a page: its sort key (a time in ms, or a sequence) and its id. */
export type Cursor = { t: number; id: string };

/** A page of rows: `limit` of them, and the position after the last when more follow. */
export type Page<Row> = { rows: Row[]; next: Cursor | null };

/**
 * The keyset predicate "after `cursor`" for rows ordered by (`sortColumn`,
 * `idColumn`), ascending or descending. `sortColumn` holds milliseconds
 * (a timestamp_ms column) or any integer.
 */
export function afterCursor(
  sortColumn: SQLiteColumn,
  idColumn: SQLiteColumn,
  cursor: Cursor | undefined,
  order: "asc" | "desc" = "asc",
): SQL | undefined {
  if (!cursor) return undefined;
  const past = order === "asc" ? gt : lt;
  const at = sortColumn.columnType === "SQLiteTimestamp" ? new Date(cursor.t) : cursor.t;
  return or(past(sortColumn, at), and(eq(sortColumn, at), past(idColumn, cursor.id)));
}

/**
 * Cuts a query that fetched `limit + 1` rows into a page: the extra row only
 * says whether another page exists.
 */
export function toPage<Row>(rows: Row[], limit: number, position: (row: Row) => Cursor): Page<Row> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return { rows: kept, next: more && last !== undefined ? position(last) : null };
}
