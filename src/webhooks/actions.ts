import type { TenantOp } from "../auth/caller";
import { currentBrand } from "../branding/brand";
import { enqueueDeliveries } from "../data/outbox";
import { dataTenantOf, shardsHolding } from "../data/owners";
import { coveredShards } from "../data/placement";
import { liveBuckets, objectName, retentionDaysOf } from "../data/shard-map";
import { auditStatement } from "../db/audit";
import { createDb } from "../db/client";
import { sendTestAndLog } from "../delivery/engine/attempt";
import type { SeriesPoint } from "../delivery/governor/endpoint-stats";
import type { SendResult } from "../delivery/http/send";
import { newId } from "../lib/crypto";
import { ConflictError, ValidationError } from "../lib/errors";
import { governorFor, shardStub } from "../objects";
import { isOperator, ownedAction } from "../tenants/operator";
import { versionForPin } from "../versions/payload";
import { deliveryPorts } from "../wiring";
import { type StatsWindow, seriesBuckets } from "./stats-series";
import { isReceivableType } from "./validate";
import { findWebhook } from "./webhooks";

/** At most this many failed deliveries are re-sent by one recover call. */
export const RECOVER_MAX = 1000;

/** The tenant a test send to an operator endpoint names: no real tenant's, so a receiver cannot mistake it for one. */
export const SAMPLE_TENANT_ID = "ten_test";

/**
 * A signed sample event sent now, at the subscription's payload version of
 * its type (the body's `version` and the version header say which); the
 * endpoint's answer is returned and logged as a test.
 */
export async function sendTestEvent(op: TenantOp, id: string, type?: string): Promise<SendResult> {
  const db = createDb(op.env.DB);
  const webhook = await findWebhook(op, id);
  if (type && !(await isReceivableType(db, webhook, type))) {
    throw new ValidationError([{ path: "type", message: `${type} is not in the event catalog` }]);
  }
  const eventType = type ?? webhook.eventTypes.find((t) => t !== "*") ?? "webhook.test";
  const { productName } = await currentBrand(op.env.DB);
  const version = await versionForPin(op.env, op.tenant.id, eventType, webhook.version);
  return sendTestAndLog(op.env, op.config, deliveryPorts(op.env, op.config), dataTenantOf(op.tenant, op.mode), webhook, {
    id: newId("evt"),
    type: eventType,
    createdAt: new Date(),
    ...(isOperator(webhook.tenantId) && { tenantId: SAMPLE_TENANT_ID, mode: op.mode }),
    ...(version !== null && { version }),
    data: { test: true, message: `A test event from ${productName}` },
  });
}

export type WebhookStats = {
  /** The breaker: closed (sending), open (tripped; probes at `nextProbeAt`), half_open (a probe is out). */
  state: "closed" | "open" | "half_open";
  /** ISO time of the next probe, while open. */
  nextProbeAt: string | null;
  disabledReason: string | null;
  consecutiveFailures: number;
  attempts24h: number;
  successRate24h: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  /** Delivered vs failed attempts per hour (24h) or day (7d), oldest first: the dashboard's chart. */
  series: SeriesPoint[];
};

/**
 * Health over the last 24 h, kept by the subscription's governor as it
 * counts every attempt (test sends excluded): attempts, success rate,
 * latency, the breaker's count; and the series of `window` for the chart.
 */
export async function webhookStats(op: TenantOp, id: string, window: StatsWindow = "24h"): Promise<WebhookStats> {
  const webhook = await findWebhook(op, id);
  const now = Date.now();
  const governor = governorFor(op.env, webhook.id);
  const [stats, breaker] = await Promise.all([governor.stats(seriesBuckets(window, now), now), governor.breakerView()]);
  return {
    state: breaker.state,
    nextProbeAt: breaker.nextProbeAt === null ? null : new Date(breaker.nextProbeAt).toISOString(),
    disabledReason: webhook.disabledReason,
    ...stats,
  };
}

/** Re-sends every failed delivery of the caller's mode since `since` (one more attempt each, at most RECOVER_MAX, oldest first). */
export async function recoverFailedDeliveries(op: TenantOp, id: string, since: Date): Promise<number> {
  const db = createDb(op.env.DB);
  const webhook = await findWebhook(op, id);
  if (!webhook.isEnabled) throw new ConflictError("conflict", "The subscription is disabled; enable it first");
  const holders = await shardsHolding(op.env, op.tenant, op.mode);
  const buckets = liveBuckets(Date.now(), retentionDaysOf(op.mode, op.config.eventRetentionDays), { since }).reverse();
  const found: { id: string; createdAt: number; object: string; eventTenantId: string }[] = [];
  for (const bucket of buckets) {
    const objects = holders.flatMap((t) =>
      Array.from({ length: coveredShards(t) }, (_, shard) => ({ t, name: objectName(t.id, { bucket, shard, mode: t.mode }) })),
    );
    const lists = await Promise.all(
      objects.map(async ({ t, name }) =>
        (await shardStub(op.env, name).failedSince(webhook.id, op.tenant.id, since, RECOVER_MAX)).map((d) => ({
          ...d,
          object: name,
          eventTenantId: t.id,
        })),
      ),
    );
    found.push(...lists.flat().sort((a, b) => a.createdAt - b.createdAt));
    if (found.length >= RECOVER_MAX) break;
  }
  const rows = found.slice(0, RECOVER_MAX);
  const byObject = new Map<string, string[]>();
  for (const r of rows) byObject.set(r.object, [...(byObject.get(r.object) ?? []), r.id]);
  await Promise.all([...byObject].map(([name, ids]) => shardStub(op.env, name).reopen(ids)));
  await auditStatement(db, op.who, {
    action: ownedAction(op.tenant.id, "webhook.recovered"),
    target: webhook.id,
    details: { deliveries: rows.length },
  }).run();
  await enqueueDeliveries(op.env, rows, { manual: true });
  return rows.length;
}
