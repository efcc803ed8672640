import { getTableColumns, type InferInsertModel, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { drizzle } from "drizzle-orm/d1";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import * as schema from "./schema";

const connect = (d1: D1Database) => drizzle(d1, { schema });
export type Db = ReturnType<typeof connect>;

// drizzle reads the whole schema's relations each time it is made: once per binding and isolate, not per request.
const made = new WeakMap<D1Database, Db>();

export function createDb(d1: D1Database): Db {
  let db = made.get(d1);
  if (!db) {
    db = connect(d1);
    made.set(d1, db);
  }
  return db;
}

/** True for a UNIQUE constraint failure (e.g. a duplicate name). */
export function isUniqueViolation(err: unknown): boolean {
  const msg = err instanceof Error ? `${err.message} ${String((err as { cause?: unknown }).cause ?? "")}` : String(err);
  return /UNIQUE constraint failed/i.test(msg);
}

/**
 * `INSERT INTO table (...) SELECT <row> WHERE <condition>`: one statement
 * that inserts `row` only while `condition` holds, so a check and its write
 * cannot be split by a concurrent request. Columns and their encodings come
 * from the drizzle table. Batchable, and takes `.onConflictDoUpdate()`;
 * `changes` of its result tells whether it wrote.
 */
export function insertWhere<T extends SQLiteTable>(db: Db, table: T, row: InferInsertModel<T>, condition: SQL) {
  const values = Object.entries(getTableColumns(table))
    .filter(([, column]) => !column.generated)
    .map(([key, column]) => {
      let value = (row as Record<string, unknown>)[key];
      if (value === undefined) value = column.default ?? null;
      return value === null ? sql`NULL` : sql`${column.mapToDriverValue(value)}`;
    });
  return db.insert(table).select(sql`SELECT ${sql.join(values, sql`, `)} WHERE ${condition}`);
}

/** Inserts `row` only while fewer than `limit` rows of `table` match `countWhere` (a quota), and `alsoWhere` holds. */
export function insertUnderQuota<T extends SQLiteTable>(
  db: Db,
  table: T,
  row: InferInsertModel<T>,
  countWhere: SQL | undefined,
  limit: number,
  alsoWhere?: SQL,
) {
  const underQuota = sql`(SELECT count(*) FROM ${table} WHERE ${countWhere ?? sql`1`}) < ${limit}`;
  return insertWhere(db, table, row, alsoWhere ? sql`${underQuota} AND ${alsoWhere}` : underQuota);
}

/** Rows a statement changed, from a `run` result (alone or inside a batch). */
export const changes = (result: unknown): number => (result as D1Result).meta?.changes ?? 0;

/** Runs statements as one D1 transaction (a batch); answers each statement's result in order. */
export async function runBatch(db: Db, statements: readonly BatchItem<"sqlite">[]): Promise<unknown[]> {
  if (statements.length === 0) return [];
  return db.batch(statements as unknown as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
}
