import type { Config } from "../../config";
import { enqueueDeliveries } from "../../data/outbox";
import { objectOfId } from "../../data/placement";
import type { DeliveryRecord } from "../../data/records";
import { auditStatement } from "../../db/audit";
import { createDb } from "../../db/client";
import type { TenantRow } from "../../db/tenants";
import { storeSubscriptionRecovered } from "../../db/webhook-store";
import type { WebhookRow } from "../../db/webhooks";
import { governorFor, type ShardStub, shardStub } from "../../objects";
import { cachedTenant } from "../../tenants/cache";
import { isOperator, OPERATOR_TENANT, ownedAction } from "../../tenants/operator";
import { passTurnOn } from "../ordering/ordering";
import type { DeliveryPorts } from "../ports";
import { breakerPlan, type HeldRef, type HoldCause, type NewHold } from "./breaker-schedule";

/**
 * The breaker that heals. A tripped, 410'd or switched-off subscription's
 * deliveries are HELD: still `pending`, with no due time, so neither the
 * queue nor the shard's repair sends them. Events published while the
 * breaker is open get their deliveries created held (breaker-publish.ts).
 * The subscription's governor keeps the list of held deliveries and, for a
 * tripped breaker only, probes with the oldest one (a real, logged
 * attempt): a 2xx closes the breaker and releases the rest in order; after
 * the give-up time they fail. The schedule itself is pure, in
 * breaker-schedule.ts.
 */

const shardOfRef = (env: Env, r: Pick<HeldRef, "deliveryId" | "eventTenantId">) => {
  const object = objectOfId(r.eventTenantId, r.deliveryId, "dlv");
  return object ? shardStub(env, object.name) : null;
};

/** Groups held deliveries by the object that holds them, keeping their order within each. */
function byShard(refs: HeldRef[]): Map<string, HeldRef[]> {
  const groups = new Map<string, HeldRef[]>();
  for (const r of refs) {
    const name = objectOfId(r.eventTenantId, r.deliveryId, "dlv")?.name;
    if (name) groups.set(name, [...(groups.get(name) ?? []), r]);
  }
  return groups;
}

/** Lets held deliveries go, oldest first: due now in their shards, and enqueued (flow control paces them). */
export async function releaseHeld(env: Env, refs: HeldRef[]): Promise<number> {
  const released = new Set<string>();
  await Promise.all(
    [...byShard(refs)].map(async ([name, group]) => {
      for (const id of await shardStub(env, name).releaseHeld(group.map((r) => r.deliveryId))) released.add(id);
    }),
  );
  const ordered = [...refs].sort((a, b) => a.createdAt - b.createdAt).filter((r) => released.has(r.deliveryId));
  await enqueueDeliveries(
    env,
    ordered.map((r) => ({ id: r.deliveryId, eventTenantId: r.eventTenantId })),
  );
  return ordered.length;
}

// How many failed deliveries' follow-ups (line, operational event) run at once at give-up.
const GIVE_UP_FAN_OUT = 16;

/** Give-up: every held delivery still pending becomes `failed` (and says so in the owner's stream). */
export async function failHeld(
  env: Env,
  ports: DeliveryPorts,
  owner: TenantRow | undefined,
  webhookId: string,
  refs: HeldRef[],
): Promise<void> {
  for (const [name, group] of byShard(refs)) {
    const failed = await shardStub(env, name).failHeld(group.map((r) => r.deliveryId));
    for (let i = 0; i < failed.length; i += GIVE_UP_FAN_OUT) {
      await Promise.all(
        failed.slice(i, i + GIVE_UP_FAN_OUT).map(async (d) => {
          // An ordered subscription's line moves on past it (a no-op for a delivery in no line).
          await passTurnOn(env, webhookId, d.id);
          await ports.notify.operational(owner, d.eventType, "hookgate.delivery.exhausted", {
            deliveryId: d.id,
            webhookId,
            eventId: d.eventId,
            attempts: d.attempts,
          });
        }),
      );
    }
  }
}

/** Whether the held delivery is still pending (else the probe takes the next one). */
export async function stillHeld(env: Env, r: HeldRef): Promise<boolean> {
  const row = await shardOfRef(env, r)?.loadForAttempt(r.deliveryId);
  return row?.delivery.status === "pending";
}

/**
 * A success while the breaker was open (a probe, or an attempt that was in
 * flight at the trip): the subscription is enabled again, unless someone
 * switched it off meanwhile; the held deliveries go out in their order.
 */
export async function recoverEndpoint(
  env: Env,
  ports: DeliveryPorts,
  owner: TenantRow | undefined,
  webhook: { id: string; tenantId: string; url: string },
  delivery: { id: string; eventType: string },
): Promise<void> {
  const ended = await governorFor(env, webhook.id).recover();
  if (!ended) return;
  const db = createDb(env.DB);
  const downtimeSeconds = Math.max(0, Math.round((Date.now() - ended.since) / 1000));
  const audit = auditStatement(
    db,
    { tenantId: webhook.tenantId, actor: "system", ip: null, requestId: `dlv:${delivery.id}` },
    {
      action: ownedAction(webhook.tenantId, "webhook.recovered"),
      target: webhook.id,
      details: { reason: "probe_succeeded", downtimeSeconds },
    },
  );
  await storeSubscriptionRecovered(db, webhook, audit);
  await releaseHeld(env, ended.held);
  await ports.notify.operational(owner, delivery.eventType, "hookgate.endpoint.recovered", {
    webhookId: webhook.id,
    url: webhook.url,
    downtimeSeconds,
  });
}

/**
 * A delivery came up for a disabled subscription (the probe included): the
 * governor decides. Usually held (pending, no due time) and listed with the
 * governor; after give-up it fails instead. Listed first: a run that dies
 * before the row is held leaves it due, and the shard's repair brings it
 * back. Asked again once held, as the hold may have ended meanwhile (healed:
 * it goes out now; given up: it fails). Answers "send" when the breaker has
 * closed already (the row lags behind) and "probe" when it is the probe out
 * now: the caller attempts it, as it is or as the probe.
 */
export async function holdDelivery(
  env: Env,
  config: Config,
  ports: DeliveryPorts,
  shard: ShardStub,
  delivery: DeliveryRecord,
  webhook: Pick<WebhookRow, "id" | "tenantId" | "disabledReason">,
): Promise<"held" | "send" | "probe"> {
  const cause: HoldCause =
    webhook.disabledReason === "circuit_breaker" ? "circuit_breaker" : webhook.disabledReason === "gone" ? "gone" : "manual";
  const ref = { deliveryId: delivery.id, eventTenantId: delivery.eventTenantId, createdAt: delivery.createdAt.getTime() };
  const who = { webhookId: webhook.id, ownerId: webhook.tenantId };
  const governor = governorFor(env, webhook.id);
  const verdict = await governor.holdFor(who, cause, ref, breakerPlan(config));
  if (verdict === "open") return "send";
  if (verdict === "probe") return "probe";
  let answer: NewHold = verdict === "held" ? "held" : "gave_up";
  // Settled meanwhile (cancelled, sent by someone else): nothing to hold.
  if (!(await shard.hold(delivery.id))) return "held";
  if (answer === "held") answer = await askHold(env, webhook.id, [ref], true);
  if (answer === "open") await releaseHeld(env, [ref]);
  if (answer !== "gave_up") return "held";
  const owner = isOperator(webhook.tenantId) ? OPERATOR_TENANT : await cachedTenant(env.DB, webhook.tenantId);
  await failHeld(env, ports, owner, webhook.id, [ref]);
  return "held";
}

/** What the governor says of deliveries created or just held while the subscription is disabled (BreakerHold.holdNew). */
export const askHold = (env: Env, webhookId: string, refs: HeldRef[], stored: boolean): Promise<NewHold> =>
  governorFor(env, webhookId).holdNew(refs, stored);

/** A delivery the dead-letter queue failed for good: `hookgate.delivery.exhausted` in its owner's stream. */
export async function announceExhausted(env: Env, ports: DeliveryPorts, d: DeliveryRecord): Promise<void> {
  if (isOperator(d.tenantId)) return;
  await ports.notify.operational(await cachedTenant(env.DB, d.tenantId), d.eventType, "hookgate.delivery.exhausted", {
    deliveryId: d.id,
    webhookId: d.webhookId,
    eventId: d.eventId,
    attempts: d.attempts,
  });
}
