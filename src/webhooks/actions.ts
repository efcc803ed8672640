import type { TenantOp } from "../auth/caller";
import { auditStatement } from "../db/audit";
import { createDb, runBatch } from "../db/client";
import { failedDeliveriesSince, recentAttempts, reopenDeliveries } from "../db/deliveries";
import { sendTestAndLog } from "../delivery/attempt";
import { governorFor } from "../delivery/endpoint-governor";
import { enqueueDeliveries } from "../delivery/queue";
import type { SendResult } from "../delivery/send";
import { newId } from "../lib/crypto";
import { ConflictError, ValidationError } from "../lib/errors";
import { isOperator, ownedAction } from "../tenants/operator";
import { attemptSeries, type SeriesPoint, type StatsWindow } from "./stats-series";
import { isReceivableType } from "./validate";
import { findWebhook } from "./webhooks";

/** At most this many failed deliveries are re-sent by one recover call. */
export const RECOVER_MAX = 1000;

/** The tenant a test send to an operator endpoint names: no real tenant's, so a receiver cannot mistake it for one. */
export const SAMPLE_TENANT_ID = "ten_test";

/** A signed sample event sent now; the endpoint's answer is returned and logged as a test. */
export async function sendTestEvent(op: TenantOp, id: string, type?: string): Promise<SendResult> {
  const db = createDb(op.env.DB);
  const webhook = await findWebhook(op, id);
  if (type && !(await isReceivableType(db, webhook, type))) {
    throw new ValidationError([{ path: "type", message: `${type} is not in the event catalog` }]);
  }
  const eventType = type ?? webhook.eventTypes.find((t) => t !== "*") ?? "webhook.test";
  return sendTestAndLog(db, op.config, webhook, {
    id: newId("evt"),
    type: eventType,
    createdAt: new Date(),
    ...(isOperator(webhook.tenantId) && { tenantId: SAMPLE_TENANT_ID }),
    data: { test: true, message: "A test event from Hookgate" },
  });
}

export type WebhookStats = {
  state: "enabled" | "disabled";
  disabledReason: string | null;
  consecutiveFailures: number;
  attempts24h: number;
  successRate24h: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  /** Delivered vs failed attempts per hour (24h) or day (7d), oldest first: the dashboard's chart. */
  series: SeriesPoint[];
};

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/**
 * Health over the last 24 h: attempts (test sends excluded), success rate,
 * latency, the breaker's count; and the series of `window` for the chart.
 */
export async function webhookStats(op: TenantOp, id: string, window: StatsWindow = "24h"): Promise<WebhookStats> {
  const db = createDb(op.env.DB);
  const webhook = await findWebhook(op, id);
  const [attempts, breaker, series] = await Promise.all([
    recentAttempts(db, webhook.id, new Date(Date.now() - 86_400_000)),
    governorFor(op.env, webhook.id).breakerState(),
    attemptSeries(db, webhook.id, window),
  ]);
  const ok = attempts.filter((a) => a.error === null).length;
  const durations = attempts.map((a) => a.durationMs).sort((a, b) => a - b);
  return {
    state: webhook.isEnabled ? "enabled" : "disabled",
    disabledReason: webhook.disabledReason,
    consecutiveFailures: breaker.consecutiveFailures,
    attempts24h: attempts.length,
    successRate24h: attempts.length ? ok / attempts.length : null,
    p50Ms: percentile(durations, 50),
    p95Ms: percentile(durations, 95),
    series,
  };
}

/** Re-sends every failed delivery since `since` (one more attempt each, at most RECOVER_MAX). */
export async function recoverFailedDeliveries(op: TenantOp, id: string, since: Date): Promise<number> {
  const db = createDb(op.env.DB);
  const webhook = await findWebhook(op, id);
  if (!webhook.isEnabled) throw new ConflictError("conflict", "The subscription is disabled; enable it first");
  const rows = await failedDeliveriesSince(db, op.tenant.id, webhook.id, since, RECOVER_MAX);
  await runBatch(db, [
    auditStatement(db, op.who, {
      action: ownedAction(op.tenant.id, "webhook.recovered"),
      target: webhook.id,
      details: { deliveries: rows.length },
    }),
    ...reopenDeliveries(
      db,
      rows.map((r) => r.id),
    ),
  ]);
  await enqueueDeliveries(op.env, rows, { manual: true });
  return rows.length;
}
