import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { afterEach, describe, expect, it, vi } from "vitest";
import { bucketStart, locate } from "../../src/data/shard-map";
import { shardSql, updateDelivery } from "./data-plane";
import {
  allPages,
  call,
  DELIVERY_RATE_LIMITS,
  expectProblem,
  type FakeCall,
  newOperatorEndpoint,
  newOperatorType,
  newTenant,
  operatorAudit,
  runDeliveryConsumer,
  stubDeliveryQueue,
  stubEndpoint,
  uniqueTypeName,
} from "./helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

const stripeCrypto = Stripe.createSubtleCryptoProvider();
const OPS_URL = "https://ops.example.com/hook";

const stripeVerify = (c: FakeCall, secret: string) =>
  Stripe.webhooks.signature!.verifyHeaderAsync(c.body, c.headers.get("x-webhook-signature")!, secret, undefined, stripeCrypto);

async function tenant() {
  const { key, tenant } = await newTenant({ rateLimits: DELIVERY_RATE_LIMITS });
  return { key, id: tenant.id as string };
}

async function publishFor(tenantId: string, type: string, data: unknown = { score: 1 }) {
  const res = await call("POST", `/admin/tenants/${tenantId}/events`, { admin: true, body: { type, data } });
  expect(res.status, res.text).toBe(202);
  return res.body as { id: string; createdAt: string; deliveries: { id: string; webhookId: string }[] };
}

async function operatorDeliveries(query: string) {
  const res = await call("GET", `/admin/deliveries?limit=100&${query}`, { admin: true });
  expect(res.status, res.text).toBe(200);
  return res.body.data as { id: string; eventId: string; webhookId: string; tenantId: string; status: string; eventType: string }[];
}

/** Two tenants, an operator type, and an operator endpoint covering the first tenant only. */
async function coveredAndNot(endpoint: Record<string, unknown> = {}) {
  const queue = await stubDeliveryQueue();
  const type = await newOperatorType();
  const a = await tenant();
  const b = await tenant();
  const hook = await newOperatorEndpoint({ url: OPS_URL, eventTypes: [type.name], tenantIds: [a.id], ...endpoint });
  return { queue, type: type.name, a, b, hook };
}

describe("fan-out to operator endpoints", () => {
  it("an event of a covered tenant creates an operator delivery; one of another tenant does not", async () => {
    const { queue, type, a, b, hook } = await coveredAndNot();
    const forA = await publishFor(a.id, type);
    const forB = await publishFor(b.id, type);
    // The answer lists the tenant's deliveries only (it has no subscription of its own).
    expect(forA.deliveries).toEqual([]);
    expect(forB.deliveries).toEqual([]);

    const listed = await operatorDeliveries(`webhookId=${hook.id}`);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ eventId: forA.id, webhookId: hook.id, tenantId: a.id, eventType: type, status: "pending" });
    // The message names the shard that holds it: the event's tenant's.
    expect(queue.sent()).toEqual([{ kind: "attempt", deliveryId: listed[0]!.id, tenantId: a.id }]);
  });

  it("operator deliveries are invisible to the tenant: not in /v1/deliveries, nor in GET /v1/events/:id", async () => {
    const { a, hook } = await coveredAndNot({ eventTypes: ["*"] });
    const own = uniqueTypeName("own");
    expect((await call("POST", "/v1/event-types", { key: a.key, body: { name: own } })).status).toBe(201);
    const mine = await call("POST", "/v1/webhooks", { key: a.key, body: { url: "https://tenant.example.com/in", eventTypes: [own] } });
    // The tenant's own publish reaches the operator endpoint that covers it, too.
    const published = await call("POST", "/v1/events", { key: a.key, body: { type: own, data: { n: 1 } } });
    expect(published.status, published.text).toBe(202);
    expect(published.body.deliveries.map((d: { webhookId: string }) => d.webhookId)).toEqual([mine.body.id]);

    const operators = await operatorDeliveries(`eventId=${published.body.id}`);
    expect(operators.map((d) => d.webhookId)).toEqual([hook.id]);
    const tenantLog = await allPages("/v1/deliveries", { key: a.key });
    expect(tenantLog.items.map((d) => d.webhookId)).toEqual([mine.body.id]);
    const event = await call("GET", `/v1/events/${published.body.id}`, { key: a.key });
    expect(event.body.deliveries.map((d: { webhookId: string }) => d.webhookId)).toEqual([mine.body.id]);
    expectProblem(await call("GET", `/v1/deliveries/${operators[0]!.id}`, { key: a.key }), 404, "not_found");
    expectProblem(await call("POST", `/v1/deliveries/${operators[0]!.id}/retry`, { key: a.key }), 404, "not_found");
    // Nor can the operator's log reach the tenant's deliveries.
    expectProblem(await call("GET", `/admin/deliveries/${published.body.deliveries[0].id}`, { admin: true }), 404, "not_found");
  });

  it("tenantIds null covers every tenant, those created later too; a disabled endpoint gets nothing", async () => {
    await stubDeliveryQueue();
    const type = await newOperatorType();
    const everyone = await newOperatorEndpoint({ eventTypes: [type.name] });
    const off = await newOperatorEndpoint({ eventTypes: [type.name], isEnabled: false });
    const later = [await tenant(), await tenant()];
    for (const t of later) await publishFor(t.id, type.name);
    const listed = await operatorDeliveries(`webhookId=${everyone.id}`);
    expect(listed.map((d) => d.tenantId).sort()).toEqual(later.map((t) => t.id).sort());
    expect(await operatorDeliveries(`webhookId=${off.id}`)).toEqual([]);
  });

  it("deleting an operator endpoint cancels its pending deliveries", async () => {
    const { type, a, hook } = await coveredAndNot();
    await publishFor(a.id, type);
    expect((await call("DELETE", `/admin/webhooks/${hook.id}`, { admin: true })).status).toBe(204);
    expect((await operatorDeliveries(`webhookId=${hook.id}`)).map((d) => d.status)).toEqual(["cancelled"]);
  });
});

describe("the request to an operator endpoint", () => {
  it("carries tenantId in the body and X-Webhook-Tenant-Id, and both signatures verify over the body as sent", async () => {
    const customFields = { team: "support" };
    const { type, a, hook } = await coveredAndNot({ customFields, headers: { Authorization: "Bearer ops-token" } });
    const published = await publishFor(a.id, type, { score: 99, who: "Zoë" });
    const [delivery] = await operatorDeliveries(`webhookId=${hook.id}`);
    const endpoint = await stubEndpoint(new Response("got it"));
    const result = await runDeliveryConsumer([delivery!.id]);
    expect(result.explicitAcks).toEqual(result.ids);
    expect(endpoint.calls).toHaveLength(1);
    const sent = endpoint.calls[0]!;
    expect(sent.url).toBe(OPS_URL);
    expect(sent.body).toBe(
      JSON.stringify({
        id: published.id,
        type,
        createdAt: published.createdAt,
        tenantId: a.id,
        mode: "live",
        data: { score: 99, who: "Zoë" },
        customFields,
      }),
    );
    expect(sent.headers.get("x-webhook-tenant-id")).toBe(a.id);
    expect(sent.headers.get("x-webhook-event-id")).toBe(published.id);
    expect(sent.headers.get("authorization")).toBe("Bearer ops-token");

    const event = await Stripe.webhooks.constructEventAsync(
      sent.body,
      sent.headers.get("x-webhook-signature")!,
      hook.secret,
      undefined,
      stripeCrypto,
    );
    expect(event).toMatchObject({ id: published.id, tenantId: a.id });
    const standard = new Webhook(hook.secret).verify(sent.body, {
      "webhook-id": sent.headers.get("webhook-id")!,
      "webhook-timestamp": sent.headers.get("webhook-timestamp")!,
      "webhook-signature": sent.headers.get("webhook-signature")!,
    });
    expect(standard).toMatchObject({ tenantId: a.id });
    // A body with another tenant's id does not verify: the signature covers tenantId.
    const forged = sent.body.replace(a.id, "ten_someoneelse");
    await expect(
      Stripe.webhooks.constructEventAsync(forged, sent.headers.get("x-webhook-signature")!, hook.secret, undefined, stripeCrypto),
    ).rejects.toThrow(/signature/i);

    const detail = await call("GET", `/admin/deliveries/${delivery!.id}`, { admin: true });
    expect(detail.status, detail.text).toBe(200);
    expect(detail.body).toMatchObject({ id: delivery!.id, tenantId: a.id, status: "succeeded", attemptCount: 1 });
    expect(detail.body.attempts).toHaveLength(1);
    expect(detail.body.attempts[0]).toMatchObject({ attempt: 1, statusCode: 200, responseBody: "got it", requestBody: sent.body });
    expect(detail.body.attempts[0].requestHeaders["X-Webhook-Tenant-Id"]).toBe(a.id);
    expect(detail.body.attempts[0].requestHeaders.Authorization).toBe("****oken");
  });

  it("format form: tenantId is a form field, and the signature covers the form body", async () => {
    const { type, a, hook } = await coveredAndNot({ format: "form", customFields: { team: "ops" } });
    const published = await publishFor(a.id, type, { score: 3 });
    const [delivery] = await operatorDeliveries(`webhookId=${hook.id}`);
    const endpoint = await stubEndpoint(new Response("ok"));
    await runDeliveryConsumer([delivery!.id]);
    const sent = endpoint.calls[0]!;
    expect(sent.headers.get("content-type")).toBe("application/x-www-form-urlencoded");
    const form = new URLSearchParams(sent.body);
    expect([...form.keys()]).toEqual(["id", "type", "createdAt", "tenantId", "mode", "data", "team"]);
    expect(form.get("tenantId")).toBe(a.id);
    expect(form.get("mode")).toBe("live");
    expect(form.get("id")).toBe(published.id);
    expect(JSON.parse(form.get("data")!)).toEqual({ score: 3 });
    expect(sent.headers.get("x-webhook-tenant-id")).toBe(a.id);
    await expect(stripeVerify(sent, hook.secret)).resolves.toBe(true);
  });

  it("the tenant's own subscription to the same event gets no tenantId", async () => {
    const { type, a } = await coveredAndNot();
    const mine = await call("POST", "/v1/webhooks", { key: a.key, body: { url: "https://tenant.example.com/in", eventTypes: [type] } });
    const published = await publishFor(a.id, type);
    const endpoint = await stubEndpoint(new Response("ok"));
    await runDeliveryConsumer([published.deliveries[0]!.id]);
    const sent = endpoint.calls[0]!;
    expect(sent.url).toBe("https://tenant.example.com/in");
    expect(JSON.parse(sent.body)).not.toHaveProperty("tenantId");
    expect(sent.headers.get("x-webhook-tenant-id")).toBeNull();
    await expect(stripeVerify(sent, mine.body.secret)).resolves.toBe(true);
  });

  it("410 Gone disables the endpoint, logged as operator_webhook.disabled in the operator's log", async () => {
    const { type, a, hook } = await coveredAndNot();
    await publishFor(a.id, type);
    const [delivery] = await operatorDeliveries(`webhookId=${hook.id}`);
    await stubEndpoint(new Response("gone", { status: 410 }));
    await runDeliveryConsumer([delivery!.id]);
    expect((await call("GET", `/admin/webhooks/${hook.id}`, { admin: true })).body).toMatchObject({
      isEnabled: false,
      disabledReason: "gone",
    });
    const entry = (await operatorAudit("operator_webhook.disabled")).find((e) => e.target === hook.id);
    expect(entry).toMatchObject({ actor: "system", details: { reason: "gone", statusCode: 410 } });
  });
});

describe("GET /admin/deliveries", () => {
  it("filters by webhookId, tenantId, eventId, eventType, status and time; pages newest first", async () => {
    const { type, a, b, hook } = await coveredAndNot({ tenantIds: null });
    const second = await newOperatorType();
    await call("PATCH", `/admin/webhooks/${hook.id}`, { admin: true, body: { eventTypes: [type, second.name] } });
    const e1 = await publishFor(a.id, type);
    const e2 = await publishFor(b.id, type);
    const e3 = await publishFor(a.id, second.name);
    // Known times within the day the events were placed in (a delivery's time lies in its shard's day).
    const T0 = bucketStart(locate(e1.id, "evt")!.bucket);
    const placed = [
      { tenantId: a.id, e: e1 },
      { tenantId: b.id, e: e2 },
      { tenantId: a.id, e: e3 },
    ];
    for (const [i, { tenantId, e }] of placed.entries()) {
      await shardSql(tenantId, e.id, "UPDATE deliveries SET created_at = ? WHERE event_id = ?", T0 + i * 1000, e.id);
    }
    const all = await operatorDeliveries(`webhookId=${hook.id}`);
    expect(all.map((d) => d.eventId)).toEqual([e3.id, e2.id, e1.id]);
    expect((await operatorDeliveries(`webhookId=${hook.id}&tenantId=${a.id}`)).map((d) => d.eventId)).toEqual([e3.id, e1.id]);
    expect((await operatorDeliveries(`eventId=${e2.id}`)).map((d) => d.tenantId)).toEqual([b.id]);
    expect((await operatorDeliveries(`webhookId=${hook.id}&eventType=${second.name}`)).map((d) => d.eventId)).toEqual([e3.id]);
    expect(await operatorDeliveries(`webhookId=${hook.id}&status=succeeded`)).toEqual([]);
    const window = `since=${new Date(T0 + 500).toISOString()}&until=${new Date(T0 + 1500).toISOString()}`;
    expect((await operatorDeliveries(`webhookId=${hook.id}&${window}`)).map((d) => d.eventId)).toEqual([e2.id]);

    const paged = await allPages(`/admin/deliveries?webhookId=${hook.id}`, { admin: true }, 1);
    expect(paged.pages).toBe(3);
    expect(paged.items.map((d) => d.id)).toEqual(all.map((d) => d.id));
    expect(Object.keys(paged.items[0]).sort()).toEqual(
      [
        "attemptCount",
        "createdAt",
        "eventId",
        "eventType",
        "id",
        "lastAttemptAt",
        "lastDurationMs",
        "lastStatusCode",
        "nextAttemptAt",
        "status",
        "tenantId",
        "webhookId",
      ].sort(),
    );
    expectProblem(await call("GET", "/admin/deliveries?status=lost", { admin: true }), 400, "invalid_query");
    expectProblem(await call("GET", "/admin/deliveries/dlv_unknown", { admin: true }), 404, "not_found");
  });

  it("POST /admin/deliveries/:id/retry: 409 while pending, then one more attempt, audited in the operator's log", async () => {
    const { queue, type, a, hook } = await coveredAndNot();
    await publishFor(a.id, type);
    const [delivery] = await operatorDeliveries(`webhookId=${hook.id}`);
    expectProblem(await call("POST", `/admin/deliveries/${delivery!.id}/retry`, { admin: true }), 409, "conflict");
    await updateDelivery(delivery!.id, "status = 'failed'");
    expect((await operatorDeliveries(`webhookId=${hook.id}&status=failed`)).map((d) => d.id)).toEqual([delivery!.id]);

    const retried = await call("POST", `/admin/deliveries/${delivery!.id}/retry`, { admin: true });
    expect(retried.status, retried.text).toBe(202);
    expect(retried.body).toMatchObject({ id: delivery!.id, status: "pending", tenantId: a.id });
    expect(queue.sent()).toEqual([
      { kind: "attempt", deliveryId: delivery!.id, tenantId: a.id },
      { kind: "attempt", deliveryId: delivery!.id, tenantId: a.id, manual: true },
    ]);
    const entry = (await operatorAudit("operator_delivery.retried")).find((e) => e.target === delivery!.id);
    expect(entry).toMatchObject({ actor: "operator", requestId: retried.headers.get("x-request-id") });
    expectProblem(await call("POST", "/admin/deliveries/dlv_unknown/retry", { admin: true }), 404, "not_found");
  });

  it("POST /admin/webhooks/:id/recover re-sends the endpoint's failed deliveries since a time", async () => {
    const { queue, type, a, hook } = await coveredAndNot();
    await publishFor(a.id, type);
    await publishFor(a.id, type);
    const ids = (await operatorDeliveries(`webhookId=${hook.id}`)).map((d) => d.id);
    expect(ids).toHaveLength(2);
    for (const id of ids) await updateDelivery(id, "status = 'failed'");
    const since = new Date(Date.now() - 60_000).toISOString();
    const res = await call("POST", `/admin/webhooks/${hook.id}/recover`, { admin: true, body: { since } });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toEqual({ recovered: 2 });
    expect((await operatorDeliveries(`webhookId=${hook.id}&status=pending`)).map((d) => d.id).sort()).toEqual([...ids].sort());
    expect(
      queue
        .sent()
        .filter((m) => m.kind === "attempt" && m.manual)
        .map((m) => m.deliveryId)
        .sort(),
    ).toEqual([...ids].sort());
    const entry = (await operatorAudit("operator_webhook.recovered")).find((e) => e.target === hook.id);
    expect(entry).toMatchObject({ actor: "operator", details: { deliveries: 2 } });
    expectProblem(await call("POST", "/admin/webhooks/wh_unknown/recover", { admin: true, body: { since } }), 404, "not_found");
  });
});
