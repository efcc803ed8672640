/**
 * The temporary subscription behind a `hookgate listen` session: created by GET /v1/listen
 * (`managedBy: "cli"`, `url: "cli:<lsn_id>"`, outside the `webhooks` quota, a fresh secret),
 * found again on resume, deleted when the session expires.
 */
import { and, eq } from "drizzle-orm";
import type { TenantOp } from "../auth/caller";
import type { Mode } from "../common/enums";
import type { Config } from "../config";
import { auditStatement } from "../db/audit";
import { createDb, type Db } from "../db/client";
import { LISTEN_MANAGED_BY, webhooks } from "../db/schema";
import type { TenantRow } from "../db/tenants";
import { storeNewSubscription, storeSubscriptionDeleted } from "../db/webhook-store";
import { type WebhookRow, webhookById } from "../db/webhooks";
import { cancelPendingDeliveries } from "../delivery/engine/cancel";
import { signingSecrets } from "../delivery/http/secrets";
import { generateWebhookSecret } from "../delivery/http/sign";
import { newId, randomBase62 } from "../lib/crypto";
import { NotFoundError } from "../lib/errors";
import { ownedAction } from "../tenants/operator";
import { sealWebhookSecret } from "../webhooks/secrets";
import { assertKnownEventTypes } from "../webhooks/validate";
import { initialVersionPin } from "../webhooks/version";
import { listenUrlOf } from "./address";

/** What a connection needs to start: the ready message's fields and the session's owner. */
export type SessionStart = { sessionId: string; tenantId: string; webhookId: string; secret: string; events: string[] };

/** The session's subscription row in `mode`, deleted ones too (an expired session). */
async function sessionRow(db: Db, tenantId: string, mode: Mode, sessionId: string): Promise<WebhookRow | undefined> {
  return db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.tenantId, tenantId), eq(webhooks.mode, mode), eq(webhooks.url, listenUrlOf(sessionId))))
    .get();
}

/**
 * A session of this tenant to resume: its start, or `expired` when its subscription is gone
 * (the caller then opens a new one). Unknown, another tenant's or another mode's: 404.
 */
export async function findListenSession(
  op: Pick<TenantOp, "env" | "config" | "tenant" | "mode">,
  sessionId: string,
): Promise<SessionStart | "expired"> {
  const row = await sessionRow(createDb(op.env.DB), op.tenant.id, op.mode, sessionId);
  if (row?.managedBy !== LISTEN_MANAGED_BY) throw new NotFoundError("Listen session");
  if (row.deletedAt) return "expired";
  const [secret] = await signingSecrets(op.config, row);
  return { sessionId, tenantId: row.tenantId, webhookId: row.id, secret: secret!, events: row.eventTypes };
}

/** A new session: its subscription to `events` (names from the catalog, or `*`), not counted in the quota. */
export async function createListenSession(op: TenantOp, events: string[]): Promise<SessionStart> {
  const db = createDb(op.env.DB);
  await assertKnownEventTypes(db, op.tenant.id, events);
  const sessionId = `lsn_${randomBase62(20)}`;
  const id = newId("wh");
  const secret = generateWebhookSecret();
  const now = new Date();
  const url = listenUrlOf(sessionId);
  // Every setting at its default (ordering included): the session's subscription is plain.
  const row: typeof webhooks.$inferInsert = {
    id,
    tenantId: op.tenant.id,
    mode: op.mode,
    url,
    description: "hookgate listen",
    eventTypes: events,
    isEnabled: true,
    disabledReason: null,
    format: "json",
    headersEnc: null,
    headerHints: null,
    customFields: null,
    ...(await sealWebhookSecret(op.config, id, secret)),
    previousSecretEnc: null,
    previousSecretExpiresAt: null,
    managedBy: LISTEN_MANAGED_BY,
    tenantIds: null,
    filter: null,
    rateLimit: null,
    maxConcurrency: null,
    // Like any new subscription: the newest version of its types, so the CLI sees what a new endpoint would.
    version: await initialVersionPin(db, op.tenant.id, events, undefined),
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
  };
  const audit = auditStatement(db, op.who, {
    action: ownedAction(op.tenant.id, "webhook.created"),
    target: id,
    details: { url, eventTypes: events },
  });
  await storeNewSubscription(db, row, null, audit);
  return { sessionId, tenantId: op.tenant.id, webhookId: id, secret, events };
}

/** Ten minutes without a connection: the subscription is deleted and its pending deliveries cancelled. */
export async function expireListenSession(env: Env, config: Config, owner: TenantRow, webhookId: string, sessionId: string): Promise<void> {
  const db = createDb(env.DB);
  // Deleted already (DELETE /v1/webhooks/:id): nothing more to record.
  const row = await webhookById(db, webhookId);
  const live = row && row.tenantId === owner.id && !row.deletedAt ? row : undefined;
  if (live) {
    const audit = auditStatement(
      db,
      { tenantId: owner.id, actor: "system", ip: null, requestId: `lsn:${sessionId}` },
      {
        action: ownedAction(owner.id, "webhook.deleted"),
        target: webhookId,
        details: { url: listenUrlOf(sessionId), reason: "listen_session_expired" },
      },
    );
    await storeSubscriptionDeleted(db, owner.id, webhookId, audit);
  }
  await cancelPendingDeliveries(env, config, owner, webhookId, [row?.mode ?? "live"]);
}
