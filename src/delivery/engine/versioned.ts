import type { AttemptInsert, EventRecord } from "../../data/records";
import { modeOfId } from "../../data/shard-map";
import type { WebhookRow } from "../../db/webhooks";
import { newId } from "../../lib/crypto";
import { isOperator } from "../../tenants/operator";
import { payloadAtVersion } from "../../versions/payload";
import type { OutgoingEvent } from "../http/request";

export type Outgoing = { ok: true; event: OutgoingEvent; converted: boolean } | { ok: false; detail: string };

/**
 * The event as `webhook` receives it: its data at the subscription's payload
 * version (downgraded through each newer version's patch), saying which
 * version that is; an operator endpoint also learns whose event it is. The
 * type's versions come from the isolate's cache (src/versions/cache.ts), so
 * this costs no read per delivery. A patch that does not apply answers why.
 */
export async function outgoingFor(
  env: Pick<Env, "DB">,
  e: EventRecord,
  webhook: Pick<WebhookRow, "tenantId" | "version">,
): Promise<Outgoing> {
  const data = JSON.parse(e.data) as unknown;
  const payload = await payloadAtVersion(env, { tenantId: e.tenantId, type: e.type, data, version: e.version ?? null }, webhook.version);
  if (!payload.ok) return payload;
  return {
    ok: true,
    converted: payload.version !== (e.version ?? null),
    event: {
      id: e.id,
      type: e.type,
      createdAt: e.createdAt,
      // An operator endpoint also learns whose event it is, and its mode (the id says it).
      ...(isOperator(webhook.tenantId) && { tenantId: e.tenantId, mode: modeOfId(e.id) }),
      ...(payload.version !== null && { version: payload.version }),
      data: payload.data,
    },
  };
}

/** The log's account of an attempt that sent nothing: the data could not be turned into the subscription's version. */
export function untransformableAttempt(
  webhook: Pick<WebhookRow, "id" | "tenantId">,
  deliveryId: string,
  attempt: number,
  detail: string,
): AttemptInsert {
  return {
    id: newId("att"),
    tenantId: webhook.tenantId,
    deliveryId,
    webhookId: webhook.id,
    attempt,
    at: new Date(),
    statusCode: null,
    durationMs: 0,
    responseBody: detail,
    error: "version_transform",
    requestHeaders: {},
    bodyShape: null,
    requestBody: "",
    isTest: false,
  };
}
