import { and, eq, gt, isNull, type SQL, sql } from "drizzle-orm";
import type { Db } from "./client";
import { portalLinks } from "./schema";

export type PortalLinkRow = typeof portalLinks.$inferSelect;

export function insertPortalLink(db: Db, row: PortalLinkRow) {
  return db.insert(portalLinks).values(row);
}

export async function findPortalLinkByHash(db: Db, tokenHash: string): Promise<PortalLinkRow | undefined> {
  return db.select().from(portalLinks).where(eq(portalLinks.tokenHash, tokenHash)).get();
}

/**
 * Marks the link used, in one conditional statement: of two concurrent
 * openings exactly one changes the row. `changes` of its result tells.
 */
export function claimPortalLink(db: Db, id: string, now: Date) {
  return db
    .update(portalLinks)
    .set({ usedAt: now })
    .where(and(eq(portalLinks.id, id), isNull(portalLinks.usedAt), gt(portalLinks.expiresAt, now)));
}

/** True once `claimPortalLink(id, now)` wrote (for the audit entry in the same batch). */
export const claimedAt = (id: string, now: Date): SQL =>
  sql`EXISTS (SELECT 1 FROM ${portalLinks} WHERE ${eq(portalLinks.id, id)} AND ${eq(portalLinks.usedAt, now)})`;
