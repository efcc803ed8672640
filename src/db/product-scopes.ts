import { asc } from "drizzle-orm";
import type { Db } from "./client";
import { productScopes } from "./schema";

export type ProductScopeRow = typeof productScopes.$inferSelect;

export async function listProductScopes(db: Db): Promise<ProductScopeRow[]> {
  return db.select().from(productScopes).orderBy(asc(productScopes.position)).all();
}

// D1 binds at most 100 parameters per statement: 3 columns a row, so 30 rows an insert.
const ROWS_PER_INSERT = 30;

/** The statements that replace the whole list (batch them with their audit entry). */
export function replaceProductScopes(db: Db, rows: ProductScopeRow[]) {
  const inserts = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) inserts.push(db.insert(productScopes).values(rows.slice(i, i + ROWS_PER_INSERT)));
  return [db.delete(productScopes), ...inserts];
}
