import type { Config } from "../config";
import type { TenantRow } from "../db/tenants";
import type { DeliveryBrand } from "./http/request";
import type { Transport } from "./transport";

/**
 * What delivery tells an owner's stream, by operational event type, with
 * each one's data (the catalog lists them: src/events/operational-types.ts).
 */
export type DeliveryReports = {
  "hookgate.endpoint.disabled": { webhookId: string; url: string; reason: string; consecutiveFailures: number };
  "hookgate.endpoint.recovered": { webhookId: string; url: string; downtimeSeconds: number };
  "hookgate.delivery.failing": { deliveryId: string; webhookId: string; eventId: string; attempt: number; statusCode: number | null };
  "hookgate.delivery.exhausted": { deliveryId: string; webhookId: string; eventId: string; attempts: number };
  /** `successRate` 0..1 over the last `windowSeconds`, of `attempts`. */
  "hookgate.endpoint.degraded": { webhookId: string; url: string; successRate: number; attempts: number; windowSeconds: number };
};

export type DeliveryReport = keyof DeliveryReports;

/**
 * How delivery reports what happened (an endpoint degraded, disabled or
 * healed, a delivery failing or exhausted) without knowing who listens: `owner` is
 * whose stream hears of it, `causeEventType` the type of the event whose
 * delivery caused it. Never throws: a report must not change an outcome.
 */
export type DeliveryNotify = {
  operational<T extends DeliveryReport>(
    owner: TenantRow | undefined,
    causeEventType: string | null,
    type: T,
    data: DeliveryReports[T],
  ): Promise<void>;
};

/**
 * What the entry point that runs delivery (the queue consumer, an object's
 * alarm, a request) gives it: where its reports go, the transports beyond
 * HTTP (src/delivery/transport.ts), and the operator's brand in force (the
 * header prefix and User-Agent of the next attempt).
 */
export type DeliveryPorts = { notify: DeliveryNotify; transports: readonly Transport[]; brand: () => Promise<DeliveryBrand> };

/** The entry point's way to build them once the config is parsed. */
export type PortsFor = (env: Env, config: Config) => DeliveryPorts;
