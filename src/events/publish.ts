import { createDb } from "../db/client";
import { getEventType, liveEventTypes } from "../db/event-types";
import { deliveriesOfEvent, getEvent, type DeliveryRow, type EventRow } from "../db/events";
import type { TenantRow } from "../db/tenants";
import { subscribersOf } from "../db/webhooks";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { newId, sha256Hex } from "../lib/crypto";
import { validateAgainstSchema } from "../lib/json-schema";
import { enqueueDeliveries } from "../delivery/queue";

export const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;

export type PublishInput = { type: string; data: unknown; idempotencyKey?: string; sourceId?: string };
export type Published = { event: EventRow; deliveries: DeliveryRow[]; replayed: boolean };

/**
 * Stores an event and one pending delivery per enabled matching subscription
 * in one D1 transaction, then enqueues the deliveries. With an idempotency
 * key, the key row is claimed in the same transaction, so of two concurrent
 * publishes with one key exactly one stores anything; the other gets the
 * first one's result. A crash after the commit but before the enqueue leaves
 * pending rows that the cron sweep re-enqueues: nothing accepted is lost.
 */
export async function publishEvent(env: Env, tenant: TenantRow, input: PublishInput): Promise<Published> {
  const db = createDb(env.DB);
  const type = await getEventType(db, tenant.id, input.type);
  if (!type || type.archivedAt) {
    const names = (await liveEventTypes(db, tenant.id)).map((t) => t.name);
    throw ApiError.validation([
      { path: "type", message: `${input.type} is not in the event catalog`, allowed: names.slice(0, 100) },
    ]);
  }
  if (type.schema) {
    const errors = validateAgainstSchema(type.schema, input.data);
    if (errors.length > 0) throw ApiError.validation(errors);
  }

  const dataText = JSON.stringify(input.data);
  const now = Date.now();
  const event: EventRow = {
    seq: 0,
    id: newId("evt"),
    tenantId: tenant.id,
    type: input.type,
    data: dataText,
    sourceId: input.sourceId ?? null,
    createdAt: new Date(now),
  };
  const rows: DeliveryRow[] = (await subscribersOf(db, tenant.id, input.type)).map((w) => ({
    id: newId("dlv"),
    tenantId: tenant.id,
    eventId: event.id,
    eventType: event.type,
    webhookId: w.id,
    status: "pending",
    attempts: 0,
    nextAttemptAt: new Date(now),
    lastAttemptAt: null,
    lastStatusCode: null,
    createdAt: new Date(now),
    updatedAt: new Date(now),
  }));

  const requestHash = input.idempotencyKey ? await sha256Hex(`${input.type}\n${dataText}`) : "";
  const statements: D1PreparedStatement[] = [];
  let eventGuard = "";
  const guardParams: unknown[] = [];
  if (input.idempotencyKey) {
    // Claim the key, or take over one older than the window.
    statements.push(
      env.DB.prepare(
        `INSERT INTO idempotency_keys (tenant_id, key, request_hash, event_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (tenant_id, key) DO UPDATE SET request_hash = excluded.request_hash,
           event_id = excluded.event_id, created_at = excluded.created_at
         WHERE idempotency_keys.created_at < ?6`,
      ).bind(tenant.id, input.idempotencyKey, requestHash, event.id, now, now - IDEMPOTENCY_WINDOW_MS),
    );
    eventGuard = " WHERE EXISTS (SELECT 1 FROM idempotency_keys WHERE tenant_id = ? AND key = ? AND event_id = ?)";
    guardParams.push(tenant.id, input.idempotencyKey, event.id);
  }
  statements.push(
    env.DB.prepare(
      `INSERT INTO events (id, tenant_id, type, data, source_id, created_at) SELECT ?, ?, ?, ?, ?, ?${eventGuard || " WHERE 1"}`,
    ).bind(event.id, tenant.id, event.type, dataText, event.sourceId, now, ...guardParams),
  );
  for (const d of rows) {
    statements.push(
      env.DB.prepare(
        `INSERT INTO deliveries (id, tenant_id, event_id, event_type, webhook_id, status, attempts, next_attempt_at, created_at, updated_at)
         SELECT ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ? WHERE EXISTS (SELECT 1 FROM events WHERE id = ?)`,
      ).bind(d.id, tenant.id, event.id, event.type, d.webhookId, now, now, now, event.id),
    );
  }
  await env.DB.batch(statements);

  if (input.idempotencyKey) {
    const claim = await env.DB.prepare("SELECT request_hash, event_id FROM idempotency_keys WHERE tenant_id = ? AND key = ?")
      .bind(tenant.id, input.idempotencyKey)
      .first<{ request_hash: string; event_id: string }>();
    if (claim && claim.event_id !== event.id) {
      if (claim.request_hash !== requestHash) {
        throw new ApiError("idempotency_key_reused", "This Idempotency-Key was already used with a different request body", {
          errors: [{ path: "Idempotency-Key", message: "was used within 24 h for a different request" }],
        });
      }
      const first = await getEvent(db, tenant.id, claim.event_id);
      if (first) return { event: first, deliveries: await deliveriesOfEvent(db, tenant.id, first.id), replayed: true };
    }
  }
  await enqueueDeliveries(env, rows);
  return { event, deliveries: rows, replayed: false };
}
