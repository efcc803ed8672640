import { eq } from "drizzle-orm";
import type { Db } from "./client";
import { gatewayConfig } from "./schema";

export type GatewayConfigRow = typeof gatewayConfig.$inferSelect;

const ID = "default";

export async function getGatewayConfig(db: Db): Promise<GatewayConfigRow | undefined> {
  return db.select().from(gatewayConfig).where(eq(gatewayConfig.id, ID)).get();
}

export function putGatewayConfig(db: Db, row: Omit<GatewayConfigRow, "id">) {
  return db
    .insert(gatewayConfig)
    .values({ id: ID, ...row })
    .onConflictDoUpdate({ target: gatewayConfig.id, set: row });
}
