import type { Config } from "../../config";
import { type DataTenant, objectOfId, placeLoose } from "../../data/placement";
import type { AttemptInsert, DeliveryRecord, EventRecord } from "../../data/records";
import { retentionDaysOf } from "../../data/shard-map";
import { auditStatement } from "../../db/audit";
import { createDb } from "../../db/client";
import type { TenantRow } from "../../db/tenants";
import { storeSubscriptionDisabled } from "../../db/webhook-store";
import type { WebhookRow } from "../../db/webhooks";
import { newId } from "../../lib/crypto";
import { governorFor, shardStub } from "../../objects";
import { cachedTenant } from "../../tenants/cache";
import { isOperator, OPERATOR_TENANT, ownedAction } from "../../tenants/operator";
import { recoverEndpoint } from "../breaker/breaker";
import { breakerPlan } from "../breaker/breaker-schedule";
import { noteDuration } from "../governor/endpoint-speed";
import { buildDeliveryRequest, type OutgoingEvent, redactHeaders } from "../http/request";
import { openWebhookHeaders, signingSecrets } from "../http/secrets";
import type { SendResult } from "../http/send";
import type { DeliveryPorts } from "../ports";
import { transportFor } from "../transport";
import { nextRetryDelay, totalAttempts } from "./retry-policy";
import { outgoingFor, untransformableAttempt } from "./versioned";

/** What happens after one attempt. */
export type AttemptOutcome =
  | { kind: "succeeded" }
  | { kind: "retry"; delaySeconds: number }
  | { kind: "failed" }
  | { kind: "cancelled" }
  | { kind: "disabled"; reason: "gone" | "circuit_breaker" };

/** The data shard that holds a delivery (with its event and attempts). */
export function shardOfDelivery(env: Env, d: Pick<DeliveryRecord, "id" | "eventTenantId">) {
  const object = objectOfId(d.eventTenantId, d.id, "dlv");
  if (!object) throw new Error(`${d.id} is not a located delivery id`);
  return shardStub(env, object.name);
}

/**
 * Signs and sends one request; returns the answer and the attempt's log row
 * (headers redacted, not yet stored). A delivery's row keeps no copy of the
 * body, only how it was built from the event; a test send's keeps its body.
 */
async function sendSigned(
  config: Config,
  ports: DeliveryPorts,
  webhook: WebhookRow,
  event: OutgoingEvent,
  attempt: number,
  deliveryId: string | null,
  keepBody = false,
): Promise<{ result: SendResult; row: AttemptInsert }> {
  const headers = await openWebhookHeaders(config, webhook);
  const request = await buildDeliveryRequest({
    endpoint: { ...webhook, headers },
    event,
    attempt,
    secrets: await signingSecrets(config, webhook),
    brand: await ports.brand(),
  });
  const at = new Date();
  const id = newId("att");
  // Over HTTP, or the transport the ports give for the URL (a `hookgate listen` session's socket).
  const result = await transportFor(ports.transports, webhook.url).send(
    webhook.url,
    { deliveryId: deliveryId ?? id, attempt, eventId: event.id, eventType: event.type },
    request,
    config.deliveryTimeoutMs,
  );
  const row: AttemptInsert = {
    id,
    tenantId: webhook.tenantId,
    deliveryId,
    webhookId: webhook.id,
    attempt,
    at,
    statusCode: result.statusCode,
    durationMs: result.durationMs,
    responseBody: result.responseBody,
    error: result.error,
    requestHeaders: redactHeaders(request.headers, headers),
    // A converted payload is not the stored event's data: its body is kept whole, like a test send's.
    bodyShape:
      deliveryId === null || keepBody
        ? null
        : {
            format: webhook.format,
            customFields: webhook.customFields,
            ...(event.tenantId !== undefined && { tenantId: event.tenantId }),
            ...(event.version !== undefined && { version: event.version }),
          },
    requestBody: deliveryId === null || keepBody ? request.body : null,
    isTest: deliveryId === null,
  };
  return { result, row };
}

/** A test send: signed like a delivery, logged as a test in the owner's data shard, belonging to no delivery. */
export async function sendTestAndLog(
  env: Env,
  config: Config,
  ports: DeliveryPorts,
  owner: DataTenant,
  webhook: WebhookRow,
  event: OutgoingEvent,
): Promise<SendResult> {
  const { result, row } = await sendSigned(config, ports, webhook, event, 1, null);
  const place = placeLoose(owner, Date.now());
  await shardStub(env, place.name).logTestAttempt(owner.id, place.bucket, retentionDaysOf(owner.mode, config.eventRetentionDays), row);
  return result;
}

/** The tenant whose settings (schedule, breaker threshold) a delivery follows; the operator's endpoints follow the deployment's. */
export const settingsOwner = async (env: Env, d: Pick<DeliveryRecord, "tenantId">): Promise<TenantRow | undefined> =>
  isOperator(d.tenantId) ? OPERATOR_TENANT : cachedTenant(env.DB, d.tenantId);

type AttemptInput = {
  delivery: DeliveryRecord;
  webhook: WebhookRow;
  event: EventRecord;
  tenant: TenantRow | undefined;
  attempt: number;
  manual: boolean;
  /** Sent by the open breaker as its probe: a failure holds it again, a success closes the breaker. */
  probe?: boolean;
  permit?: string;
};

/**
 * The event's data does not convert to the subscription's version: the
 * delivery fails at once (a retry would convert the same data the same way),
 * with an attempt saying why; nothing is sent, and the endpoint's breaker
 * and stats do not count it.
 */
async function failUntransformable(env: Env, ports: DeliveryPorts, input: AttemptInput, detail: string): Promise<AttemptOutcome> {
  const { delivery, webhook, attempt } = input;
  const governor = governorFor(env, webhook.id);
  if (input.permit) await governor.release(input.permit);
  if (input.probe) await governor.probeFailed();
  const row = untransformableAttempt(webhook, delivery.id, attempt, detail);
  const settled = { status: "failed" as const, lastStatusCode: null, nextAttemptAt: null, lastDurationMs: 0 };
  await shardOfDelivery(env, delivery).settle(delivery.id, settled, false, row);
  await ports.notify.operational(
    isOperator(webhook.tenantId) ? OPERATOR_TENANT : input.tenant,
    delivery.eventType,
    "hookgate.delivery.exhausted",
    {
      deliveryId: delivery.id,
      webhookId: webhook.id,
      eventId: delivery.eventId,
      attempts: attempt,
    },
  );
  return { kind: "failed" };
}

/**
 * One attempt of a claimed delivery: send, feed the breaker (handing back a
 * flow-control permit if one was taken), then log the attempt and settle
 * the delivery in one call to its shard: done, retry after a delay, failed,
 * or the subscription disabled.
 */
export async function attemptDelivery(env: Env, config: Config, ports: DeliveryPorts, input: AttemptInput): Promise<AttemptOutcome> {
  const { delivery, webhook, event, attempt } = input;
  const outgoing = await outgoingFor(env, event, webhook);
  if (!outgoing.ok) return failUntransformable(env, ports, input, outgoing.detail);
  const { result, row } = await sendSigned(config, ports, webhook, outgoing.event, attempt, delivery.id, outgoing.converted);
  noteDuration(webhook.id, result.durationMs, result.error === "timeout");
  const threshold = input.tenant?.breakerThreshold ?? config.breakerThreshold;
  const breaker = await governorFor(env, webhook.id).record(result.success, threshold, input.permit, result.durationMs);
  const shard = shardOfDelivery(env, delivery);
  const done = { lastStatusCode: result.statusCode, nextAttemptAt: null, lastDurationMs: result.durationMs };

  const owner = isOperator(webhook.tenantId) ? OPERATOR_TENANT : input.tenant;
  const ref = { deliveryId: delivery.id, eventTenantId: delivery.eventTenantId, createdAt: delivery.createdAt.getTime() };
  const who = { webhookId: webhook.id, ownerId: webhook.tenantId };

  if (breaker.degraded) {
    await ports.notify.operational(owner, delivery.eventType, "hookgate.endpoint.degraded", {
      webhookId: webhook.id,
      url: webhook.url,
      ...breaker.degraded,
    });
  }
  if (result.success) {
    await shard.settle(delivery.id, { status: "succeeded", ...done }, false, row);
    if (breaker.recovered) await recoverEndpoint(env, ports, owner, webhook, delivery);
    return { kind: "succeeded" };
  }
  if (attempt === 3) {
    await ports.notify.operational(owner, delivery.eventType, "hookgate.delivery.failing", {
      deliveryId: delivery.id,
      webhookId: webhook.id,
      eventId: delivery.eventId,
      attempt,
      statusCode: result.statusCode,
    });
  }
  const gone = result.statusCode === 410;
  if (gone || breaker.tripped) {
    const reason = gone ? "gone" : "circuit_breaker";
    // The tripping delivery is held, not failed: it goes out again when the endpoint heals, or fails at
    // give-up. A 410 answered this delivery for good; the others are held as they come up.
    await shard.settle(delivery.id, { status: gone ? "failed" : "pending", ...done }, true, row);
    await governorFor(env, webhook.id).holdFor(who, reason, gone ? null : ref, breakerPlan(config));
    if (gone) {
      await ports.notify.operational(owner, delivery.eventType, "hookgate.delivery.exhausted", {
        deliveryId: delivery.id,
        webhookId: webhook.id,
        eventId: delivery.eventId,
        attempts: attempt,
      });
    }
    const db = createDb(env.DB);
    const audit = auditStatement(
      db,
      { tenantId: webhook.tenantId, actor: "system", ip: null, requestId: `dlv:${delivery.id}` },
      {
        action: ownedAction(webhook.tenantId, "webhook.disabled"),
        target: webhook.id,
        details: { reason, consecutiveFailures: breaker.consecutiveFailures, statusCode: result.statusCode },
      },
    );
    await storeSubscriptionDisabled(db, webhook, reason, audit);
    await ports.notify.operational(owner, delivery.eventType, "hookgate.endpoint.disabled", {
      webhookId: webhook.id,
      url: webhook.url,
      reason,
      consecutiveFailures: breaker.consecutiveFailures,
    });
    return { kind: "disabled", reason };
  }
  if (input.probe) {
    // A failed probe does not use up the schedule: held again until the next probe or give-up.
    await shard.settle(delivery.id, { status: "pending", ...done }, true, row);
    await governorFor(env, webhook.id).probeFailed();
    return { kind: "disabled", reason: "circuit_breaker" };
  }
  const schedule = input.tenant?.retrySchedule ?? config.retrySchedule;
  const delay = input.manual || attempt >= totalAttempts(schedule) ? null : nextRetryDelay(schedule, attempt, result.retryAfterSeconds);
  if (delay === null) {
    await shard.settle(delivery.id, { status: "failed", ...done }, false, row);
    await ports.notify.operational(owner, delivery.eventType, "hookgate.delivery.exhausted", {
      deliveryId: delivery.id,
      webhookId: webhook.id,
      eventId: delivery.eventId,
      attempts: attempt,
    });
    return { kind: "failed" };
  }
  // Cancelled meanwhile (the subscription was deleted): it stays cancelled, no retry.
  const rescheduled = await shard.settle(
    delivery.id,
    { status: "pending", ...done, nextAttemptAt: new Date(Date.now() + delay * 1000) },
    true,
    row,
  );
  if (!rescheduled) return { kind: "cancelled" };
  return { kind: "retry", delaySeconds: delay };
}
