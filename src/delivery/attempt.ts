import { auditStatement } from "../db/audit";
import type { Db } from "../db/client";
import { type DeliveryRow, insertAttempt, settleDelivery } from "../db/deliveries";
import type { EventRow } from "../db/events";
import type { TenantRow } from "../db/tenants";
import { disableWebhook, type WebhookRow } from "../db/webhooks";
import type { Config, Env } from "../env";
import { newId } from "../lib/crypto";
import { isOperator, ownedAction } from "../tenants/operator";
import { signingSecrets } from "../webhooks/secrets";
import { breakerFor } from "./breaker";
import { buildDeliveryRequest, type OutgoingEvent, redactHeaders } from "./request";
import { nextRetryDelay, totalAttempts } from "./retry-policy";
import { type SendResult, sendWebhook } from "./send";

/** What the consumer does with the message after one attempt. */
export type AttemptOutcome =
  | { kind: "succeeded" }
  | { kind: "retry"; delaySeconds: number }
  | { kind: "failed" }
  | { kind: "cancelled" }
  | { kind: "disabled"; reason: "gone" | "circuit_breaker" };

/** The event as `webhook` receives it: an operator endpoint also learns whose event it is. */
export const toOutgoing = (e: EventRow, webhook: Pick<WebhookRow, "tenantId">): OutgoingEvent => ({
  id: e.id,
  type: e.type,
  createdAt: e.createdAt,
  ...(isOperator(webhook.tenantId) && { tenantId: e.tenantId }),
  data: JSON.parse(e.data) as unknown,
});

/** Signs and sends one request, and logs it (headers redacted). Used by deliveries and test sends. */
export async function sendAndLog(
  db: Db,
  config: Config,
  webhook: WebhookRow,
  event: OutgoingEvent,
  attempt: number,
  log: { deliveryId: string | null; isTest: boolean },
): Promise<SendResult> {
  const request = await buildDeliveryRequest({
    endpoint: webhook,
    event,
    attempt,
    secrets: await signingSecrets(config, webhook),
  });
  const at = new Date();
  const result = await sendWebhook(webhook.url, request, config.deliveryTimeoutMs);
  await insertAttempt(db, {
    id: newId("att"),
    tenantId: webhook.tenantId,
    deliveryId: log.deliveryId,
    webhookId: webhook.id,
    attempt,
    at,
    statusCode: result.statusCode,
    durationMs: result.durationMs,
    responseBody: result.responseBody,
    error: result.error,
    requestHeaders: redactHeaders(request.headers),
    requestBody: request.body,
    isTest: log.isTest,
  });
  return result;
}

/**
 * One scheduled attempt of a claimed delivery: send, log, feed the breaker,
 * and decide what happens next (done, retry after a delay, failed, or the
 * subscription disabled).
 */
export async function attemptDelivery(
  env: Env,
  db: Db,
  config: Config,
  input: { delivery: DeliveryRow; webhook: WebhookRow; event: EventRow; tenant: TenantRow | undefined; attempt: number; manual: boolean },
): Promise<AttemptOutcome> {
  const { delivery, webhook, event, attempt } = input;
  const result = await sendAndLog(db, config, webhook, toOutgoing(event, webhook), attempt, { deliveryId: delivery.id, isTest: false });
  const threshold = input.tenant?.breakerThreshold ?? config.breakerThreshold;
  const breaker = await breakerFor(env, webhook.id).record(result.success, threshold);

  if (result.success) {
    await settleDelivery(db, delivery.id, { status: "succeeded", lastStatusCode: result.statusCode, nextAttemptAt: null });
    return { kind: "succeeded" };
  }
  const gone = result.statusCode === 410;
  if (gone || breaker.tripped) {
    const reason = gone ? "gone" : "circuit_breaker";
    await settleDelivery(db, delivery.id, { status: "failed", lastStatusCode: result.statusCode, nextAttemptAt: null });
    await db.batch([
      ...disableWebhook(db, webhook.id, reason),
      auditStatement(
        db,
        { tenantId: webhook.tenantId, actor: "system", ip: null, requestId: `dlv:${delivery.id}` },
        {
          action: ownedAction(webhook.tenantId, "webhook.disabled"),
          target: webhook.id,
          details: { reason, consecutiveFailures: breaker.consecutiveFailures, statusCode: result.statusCode },
        },
      ),
    ]);
    return { kind: "disabled", reason };
  }
  const schedule = input.tenant?.retrySchedule ?? config.retrySchedule;
  const delay = input.manual || attempt >= totalAttempts(schedule) ? null : nextRetryDelay(schedule, attempt, result.retryAfterSeconds);
  if (delay === null) {
    await settleDelivery(db, delivery.id, { status: "failed", lastStatusCode: result.statusCode, nextAttemptAt: null });
    return { kind: "failed" };
  }
  const rescheduled = await settleDelivery(
    db,
    delivery.id,
    { status: "pending", lastStatusCode: result.statusCode, nextAttemptAt: new Date(Date.now() + delay * 1000) },
    // Cancelled meanwhile (the breaker tripped on a concurrent attempt, or the
    // subscription was disabled or deleted): it stays cancelled, no retry.
    { onlyIfPending: true },
  );
  if (!rescheduled) return { kind: "cancelled" };
  return { kind: "retry", delaySeconds: delay };
}
