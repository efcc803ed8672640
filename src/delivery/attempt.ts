import type { BatchItem } from "drizzle-orm/batch";
import { auditStatement } from "../db/audit";
import { changes, type Db, runBatch } from "../db/client";
import { type AttemptRow, type DeliveryRow, insertAttempt, settleStatement } from "../db/deliveries";
import type { EventRow } from "../db/events";
import type { TenantRow } from "../db/tenants";
import { disableWebhook, type WebhookRow } from "../db/webhooks";
import type { Config, Env } from "../env";
import { forgetCatalog } from "../events/catalog-cache";
import { newId } from "../lib/crypto";
import { isOperator, ownedAction } from "../tenants/operator";
import { openWebhookHeaders, signingSecrets } from "../webhooks/secrets";
import { governorFor } from "./endpoint-governor";
import { noteDuration } from "./endpoint-speed";
import { buildDeliveryRequest, type OutgoingEvent, redactHeaders } from "./request";
import { nextRetryDelay, totalAttempts } from "./retry-policy";
import { type SendResult, sendWebhook } from "./send";

/** What happens after one attempt. */
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

/** Signs and sends one request; returns the answer and the attempt's log row (headers redacted), not yet stored. */
async function sendSigned(
  config: Config,
  webhook: WebhookRow,
  event: OutgoingEvent,
  attempt: number,
  log: { deliveryId: string | null; isTest: boolean },
): Promise<{ result: SendResult; row: AttemptRow }> {
  const headers = await openWebhookHeaders(config, webhook);
  const request = await buildDeliveryRequest({
    endpoint: { ...webhook, headers },
    event,
    attempt,
    secrets: await signingSecrets(config, webhook),
  });
  const at = new Date();
  const result = await sendWebhook(webhook.url, request, config.deliveryTimeoutMs);
  const row: AttemptRow = {
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
    requestHeaders: redactHeaders(request.headers, headers),
    requestBody: request.body,
    isTest: log.isTest,
  };
  return { result, row };
}

/** A test send: signed like a delivery, logged as a test, belonging to no delivery. */
export async function sendTestAndLog(db: Db, config: Config, webhook: WebhookRow, event: OutgoingEvent): Promise<SendResult> {
  const { result, row } = await sendSigned(config, webhook, event, 1, { deliveryId: null, isTest: true });
  await insertAttempt(db, row);
  return result;
}

/**
 * One attempt of a claimed delivery: send, feed the breaker (handing back a
 * flow-control permit if one was taken), then log the attempt and settle
 * the delivery in one batch: done, retry after a delay, failed, or the
 * subscription disabled.
 */
export async function attemptDelivery(
  env: Env,
  db: Db,
  config: Config,
  input: {
    delivery: DeliveryRow;
    webhook: WebhookRow;
    event: EventRow;
    tenant: TenantRow | undefined;
    attempt: number;
    manual: boolean;
    permit?: string;
  },
): Promise<AttemptOutcome> {
  const { delivery, webhook, event, attempt } = input;
  const { result, row } = await sendSigned(config, webhook, toOutgoing(event, webhook), attempt, {
    deliveryId: delivery.id,
    isTest: false,
  });
  noteDuration(webhook.id, result.durationMs, result.error === "timeout");
  const threshold = input.tenant?.breakerThreshold ?? config.breakerThreshold;
  const breaker = await governorFor(env, webhook.id).record(result.success, threshold, input.permit);
  const log = insertAttempt(db, row);
  const settle = (set: Parameters<typeof settleStatement>[2], onlyIfPending = false) =>
    settleStatement(db, delivery.id, set, { onlyIfPending });

  if (result.success) {
    await runBatch(db, [log, settle({ status: "succeeded", lastStatusCode: result.statusCode, nextAttemptAt: null })]);
    return { kind: "succeeded" };
  }
  const gone = result.statusCode === 410;
  if (gone || breaker.tripped) {
    const reason = gone ? "gone" : "circuit_breaker";
    const statements: BatchItem<"sqlite">[] = [
      log,
      settle({ status: "failed", lastStatusCode: result.statusCode, nextAttemptAt: null }),
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
    ];
    await runBatch(db, statements);
    forgetCatalog(webhook.tenantId);
    return { kind: "disabled", reason };
  }
  const schedule = input.tenant?.retrySchedule ?? config.retrySchedule;
  const delay = input.manual || attempt >= totalAttempts(schedule) ? null : nextRetryDelay(schedule, attempt, result.retryAfterSeconds);
  if (delay === null) {
    await runBatch(db, [log, settle({ status: "failed", lastStatusCode: result.statusCode, nextAttemptAt: null })]);
    return { kind: "failed" };
  }
  const [, rescheduled] = await runBatch(db, [
    log,
    // Cancelled meanwhile (the breaker tripped on a concurrent attempt, or the
    // subscription was disabled or deleted): it stays cancelled, no retry.
    settle({ status: "pending", lastStatusCode: result.statusCode, nextAttemptAt: new Date(Date.now() + delay * 1000) }, true),
  ]);
  if (changes(rescheduled) !== 1) return { kind: "cancelled" };
  return { kind: "retry", delaySeconds: delay };
}
