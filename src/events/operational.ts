import type { Config } from "../config";
import type { TenantRow } from "../db/tenants";
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
    await publishEvent(env, config, owner, { type, data, publisher: "hookgate" }, { config, ports });
  } catch (err) {
    console.error(`operational event ${type} for ${owner.id} not published`, err);
  }
}
