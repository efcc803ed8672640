import { eq } from "drizzle-orm";
import type { Mode } from "../common/enums";
import type { Config } from "../config";
import { modeOfId } from "../data/shard-map";
import { createDb } from "../db/client";
import { apiKeys, oauthClients } from "../db/schema";
import type { TenantRow } from "../db/tenants";
import { webhookById } from "../db/webhooks";
import type { DeliveryPorts } from "../delivery/ports";
import { isOperator } from "../tenants/operator";
import { isReservedType, type OperationalReports } from "./operational-types";
import { publishEvent } from "./publish";

/**
 * Publishes one operational event for `owner` through the same operation
 * as any event (signed, retried, polled, operator endpoints included). Not
 * for the operator's own endpoints (it has no stream), and never about a
 * delivery of a `hookgate.*` event (no loops). A failure here is logged:
 * it must never change the outcome of the attempt that caused it. `ports`
 * are the publish's own (src/wiring.ts ties them to this function).
 */
export async function emitOperational<T extends keyof OperationalReports>(
  env: Env,
  config: Config,
  ports: DeliveryPorts,
  owner: TenantRow | undefined,
  causeEventType: string | null,
  type: T,
  data: OperationalReports[T],
): Promise<void> {
  if (!owner || isOperator(owner.id) || (causeEventType !== null && isReservedType(causeEventType))) return;
  try {
    const mode = await modeOfReport(env, data);
    await publishEvent(env, config, owner, { mode, type, data, publisher: "hookgate" }, { config, ports });
  } catch (err) {
    console.error(`operational event ${type} for ${owner.id} not published`, err);
  }
}

/**
 * A report goes to the stream of the mode it is about: a delivery's id says
 * it; an endpoint's or a credential's is read from its row (reports are rare).
 */
async function modeOfReport(env: Env, data: object): Promise<Mode> {
  const field = (name: string) => (name in data ? String((data as Record<string, unknown>)[name]) : undefined);
  const deliveryId = field("deliveryId");
  if (deliveryId !== undefined) return modeOfId(deliveryId);
  const db = createDb(env.DB);
  const webhookId = field("webhookId");
  if (webhookId !== undefined) return (await webhookById(db, webhookId))?.mode ?? "live";
  const credentialId = field("credentialId");
  if (credentialId === undefined) return "live";
  const table = credentialId.startsWith("cli_") ? oauthClients : apiKeys;
  const row = await db.select({ mode: table.mode }).from(table).where(eq(table.id, credentialId)).get();
  return row?.mode ?? "live";
}
