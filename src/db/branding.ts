import { eq } from "drizzle-orm";
import type { Db } from "./client";
import { branding } from "./schema-branding";

export type BrandingRow = typeof branding.$inferSelect;

const ID = "default";

export async function getBrandingRow(db: Db): Promise<BrandingRow | undefined> {
  return db.select().from(branding).where(eq(branding.id, ID)).get();
}

export function putBrandingRow(db: Db, row: Omit<BrandingRow, "id">) {
  return db
    .insert(branding)
    .values({ id: ID, ...row })
    .onConflictDoUpdate({ target: branding.id, set: row });
}

export function deleteBrandingRow(db: Db) {
  return db.delete(branding).where(eq(branding.id, ID));
}
