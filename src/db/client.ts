import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = ReturnType<typeof createDb>;

export function createDb(d1: D1Database) {
  return drizzle(d1, { schema });
}

/** True for a UNIQUE constraint failure (e.g. a duplicate name). */
export function isUniqueViolation(err: unknown): boolean {
  const msg = err instanceof Error ? `${err.message} ${String((err as { cause?: unknown }).cause ?? "")}` : String(err);
  return /UNIQUE constraint failed/i.test(msg);
}

type SqlValue = string | number | null;

function encode(value: unknown): SqlValue {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return value.getTime();
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "object") return JSON.stringify(value);
  return value as string | number;
}

/**
 * Inserts `row` only while fewer than `limit` rows match `countWhere`, in one
 * statement, so two concurrent creates cannot both squeeze under a quota.
 * Keys of `row` are column names. Returns whether the row was inserted.
 */
export async function insertUnderQuota(
  d1: D1Database,
  table: string,
  row: Record<string, unknown>,
  countWhere: string,
  countParams: SqlValue[],
  limit: number,
): Promise<boolean> {
  const cols = Object.keys(row);
  const sql =
    `INSERT INTO ${table} (${cols.join(", ")}) SELECT ${cols.map(() => "?").join(", ")} ` +
    `WHERE (SELECT count(*) FROM ${table} WHERE ${countWhere}) < ?`;
  const result = await d1
    .prepare(sql)
    .bind(...cols.map((c) => encode(row[c])), ...countParams, limit)
    .run();
  return result.meta.changes === 1;
}
