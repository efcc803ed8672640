import Stripe from "stripe";
import { afterEach, describe, expect, it, vi } from "vitest";
import { countDataRows } from "./data-plane";
import {
  call,
  DELIVERY_RATE_LIMITS,
  expectProblem,
  fieldError,
  newOperatorType,
  newTenant,
  type Result,
  runDeliveryConsumer,
  stubDeliveryQueue,
  stubEndpoint,
  uniqueTypeName,
} from "./helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

const stripeCrypto = Stripe.createSubtleCryptoProvider();
const EVT = /^evt_[0-9A-Za-z]+$/;
const SCHEMA = { type: "object", required: ["score"], properties: { score: { type: "number" } } };

function publishFor(tenantId: string, type: string, data: unknown, idempotencyKey?: string): Promise<Result> {
  return call("POST", `/admin/tenants/${tenantId}/events`, {
    admin: true,
    body: { type, data },
    ...(idempotencyKey !== undefined && { headers: { "Idempotency-Key": idempotencyKey } }),
  });
}

async function eventsOf(tenantId: string): Promise<number> {
  return countDataRows(tenantId, "events");
}

/** A tenant with one subscription to `types` (its secret returned once). */
async function subscribedTenant(types: string[]) {
  const { key, tenant } = await newTenant({ rateLimits: DELIVERY_RATE_LIMITS });
  const hook = await call("POST", "/v1/webhooks", { key, body: { url: "https://tenant.example.com/in", eventTypes: types } });
  expect(hook.status, hook.text).toBe(201);
  return { key, tenantId: tenant.id as string, webhookId: hook.body.id as string, secret: hook.body.secret as string };
}

describe("POST /admin/tenants/:id/events: refusals", () => {
  it("401 without the admin token, or with a tenant's key, and nothing is stored", async () => {
    const { key, tenant } = await newTenant();
    const type = await newOperatorType();
    const anonymous = await call("POST", `/admin/tenants/${tenant.id}/events`, { body: { type: type.name, data: {} } });
    expectProblem(anonymous, 401, "unauthorized");
    expectProblem(
      await call("POST", `/admin/tenants/${tenant.id}/events`, { headers: { authorization: "Bearer wrong-token-wrong-token" }, body: {} }),
      401,
      "invalid_credential",
    );
    expectProblem(
      await call("POST", `/admin/tenants/${tenant.id}/events`, { key, body: { type: type.name, data: {} } }),
      401,
      "invalid_credential",
    );
    expect(await eventsOf(tenant.id)).toBe(0);
  });

  it("404 for an unknown tenant, the operator's own id included", async () => {
    const type = await newOperatorType();
    for (const id of ["ten_doesnotexist", "operator"]) expectProblem(await publishFor(id, type.name, {}), 404, "not_found");
  });

  it("422 for an unknown or archived type, listing what the operator may publish for the tenant", async () => {
    const { key, tenant } = await newTenant();
    const own = uniqueTypeName("own");
    expect((await call("POST", "/v1/event-types", { key, body: { name: own } })).status).toBe(201);
    const live = await newOperatorType();
    const archived = await newOperatorType();
    expect((await call("DELETE", `/admin/event-types/${archived.name}`, { admin: true })).status).toBe(204);

    for (const name of ["no.such", archived.name]) {
      const res = await publishFor(tenant.id, name, {});
      expectProblem(res, 422, "validation_failed");
      const allowed = fieldError(res, "type").allowed!;
      expect(allowed).toEqual(expect.arrayContaining([own, live.name]));
      expect(allowed).not.toContain(archived.name);
    }
    expect(await eventsOf(tenant.id)).toBe(0);
  });

  it("422 when data breaks the type's schema, and for a malformed body", async () => {
    const { tenant } = await newTenant();
    const type = await newOperatorType({ schema: SCHEMA });
    const res = await publishFor(tenant.id, type.name, { score: "high" });
    expectProblem(res, 422, "validation_failed");
    expect(res.body.errors[0].path).toMatch(/score/);
    expectProblem(
      await call("POST", `/admin/tenants/${tenant.id}/events`, { admin: true, body: { type: type.name } }),
      422,
      "validation_failed",
    );
    expectProblem(
      await call("POST", `/admin/tenants/${tenant.id}/events`, { admin: true, body: { type: type.name, data: {}, extra: 1 } }),
      422,
      "validation_failed",
    );
    expect(await eventsOf(tenant.id)).toBe(0);
  });
});

describe("tenants cannot publish the operator's types", () => {
  it("POST /v1/events of an operator type → 403 operator_event_type, nothing stored or sent", async () => {
    const queue = await stubDeliveryQueue();
    const type = await newOperatorType();
    const { key, tenantId } = await subscribedTenant([type.name]);
    const res = await call("POST", "/v1/events", { key, body: { type: type.name, data: { score: 1 } } });
    expectProblem(res, 403, "operator_event_type");
    const archived = await newOperatorType();
    expect((await call("DELETE", `/admin/event-types/${archived.name}`, { admin: true })).status).toBe(204);
    expectProblem(await call("POST", "/v1/events", { key, body: { type: archived.name, data: {} } }), 403, "operator_event_type");
    expect(await eventsOf(tenantId)).toBe(0);
    expect(queue.sent()).toEqual([]);
  });

  it("the tenant's unknown-type error lists only what it may publish (not the operator's types)", async () => {
    const type = await newOperatorType();
    const { key } = await newTenant();
    const own = uniqueTypeName("mine");
    expect((await call("POST", "/v1/event-types", { key, body: { name: own } })).status).toBe(201);
    const res = await call("POST", "/v1/events", { key, body: { type: "no.such", data: {} } });
    expectProblem(res, 422, "validation_failed");
    expect(fieldError(res, "type").allowed).toEqual([own]);
    expect(fieldError(res, "type").allowed).not.toContain(type.name);
  });
});

describe("the operator publishes for a tenant", () => {
  it("202 exactly as POST /v1/events: the tenant polls it, its subscription gets a signed delivery", async () => {
    const queue = await stubDeliveryQueue();
    const type = await newOperatorType({ schema: SCHEMA });
    const { key, tenantId, webhookId, secret } = await subscribedTenant([type.name]);
    const res = await publishFor(tenantId, type.name, { score: 97 });
    expect(res.status, res.text).toBe(202);
    expect(Object.keys(res.body).sort()).toEqual(["createdAt", "data", "deliveries", "id", "type"]);
    expect(res.body).toMatchObject({ type: type.name, data: { score: 97 } });
    expect(res.body.id).toMatch(EVT);
    expect(res.body.deliveries).toHaveLength(1);
    expect(res.body.deliveries[0]).toMatchObject({ webhookId, status: "pending", attemptCount: 0 });
    expect(res.headers.get("idempotent-replayed")).toBeNull();

    const polled = await call("GET", `/v1/events?type=${type.name}`, { key });
    expect(polled.body.data).toEqual([{ id: res.body.id, type: type.name, createdAt: res.body.createdAt, data: { score: 97 } }]);
    const one = await call("GET", `/v1/events/${res.body.id}`, { key });
    expect(one.body.deliveries.map((d: { id: string }) => d.id)).toEqual([res.body.deliveries[0].id]);

    const endpoint = await stubEndpoint(new Response("ok"));
    expect(queue.sent()).toEqual([{ kind: "attempt", deliveryId: res.body.deliveries[0].id, tenantId }]);
    await runDeliveryConsumer(queue.sent());
    expect(endpoint.calls).toHaveLength(1);
    const sent = endpoint.calls[0]!;
    expect(sent.url).toBe("https://tenant.example.com/in");
    // A tenant's own subscription is not told whose event it is: it is always its own.
    expect(Object.keys(JSON.parse(sent.body))).toEqual(["id", "type", "createdAt", "data"]);
    expect(sent.headers.get("x-webhook-tenant-id")).toBeNull();
    const event = await Stripe.webhooks.constructEventAsync(
      sent.body,
      sent.headers.get("x-webhook-signature")!,
      secret,
      undefined,
      stripeCrypto,
    );
    expect(event.id).toBe(res.body.id);
    expect((await call("GET", `/v1/deliveries/${res.body.deliveries[0].id}`, { key })).body.status).toBe("succeeded");
  });

  it("publishes the tenant's own types too, and only to that tenant", async () => {
    await stubDeliveryQueue();
    const own = uniqueTypeName("own");
    const a = await subscribedTenant(["*"]);
    const b = await subscribedTenant(["*"]);
    for (const t of [a, b]) expect((await call("POST", "/v1/event-types", { key: t.key, body: { name: own } })).status).toBe(201);
    const res = await publishFor(a.tenantId, own, { n: 1 });
    expect(res.status, res.text).toBe(202);
    expect(res.body.deliveries.map((d: { webhookId: string }) => d.webhookId)).toEqual([a.webhookId]);
    expect(await eventsOf(a.tenantId)).toBe(1);
    expect(await eventsOf(b.tenantId)).toBe(0);
    expect((await call("GET", `/v1/events/${res.body.id}`, { key: b.key })).status).toBe(404);
  });

  it("an operator type reaches only subscriptions that list it (or *) ", async () => {
    await stubDeliveryQueue();
    const type = await newOperatorType();
    const other = await newOperatorType();
    const { key, tenantId, webhookId: listing } = await subscribedTenant([type.name]);
    const star = await call("POST", "/v1/webhooks", { key, body: { url: "https://tenant.example.com/all", eventTypes: ["*"] } });
    const elsewhere = await call("POST", "/v1/webhooks", { key, body: { url: "https://tenant.example.com/o", eventTypes: [other.name] } });
    expect(elsewhere.status, elsewhere.text).toBe(201);
    const res = await publishFor(tenantId, type.name, {});
    expect(res.body.deliveries.map((d: { webhookId: string }) => d.webhookId).sort()).toEqual([listing, star.body.id].sort());
  });
});

describe("idempotency per tenant", () => {
  it("the same key within 24 h returns the first event and fans out nothing new", async () => {
    const queue = await stubDeliveryQueue();
    const type = await newOperatorType();
    const { tenantId } = await subscribedTenant([type.name]);
    const first = await publishFor(tenantId, type.name, { score: 1 }, "order-42");
    expect(first.status, first.text).toBe(202);
    const again = await publishFor(tenantId, type.name, { score: 1 }, "order-42");
    expect(again.status, again.text).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
    expect(await eventsOf(tenantId)).toBe(1);
    expect(queue.sent()).toHaveLength(1);

    const reused = await publishFor(tenantId, type.name, { score: 2 }, "order-42");
    expectProblem(reused, 422, "idempotency_key_reused");
    expect(await eventsOf(tenantId)).toBe(1);
  });

  it("keys are per tenant: another tenant's same key is a new event", async () => {
    await stubDeliveryQueue();
    const type = await newOperatorType();
    const a = await subscribedTenant([type.name]);
    const b = await subscribedTenant([type.name]);
    const forA = await publishFor(a.tenantId, type.name, { score: 1 }, "shared-key");
    const forB = await publishFor(b.tenantId, type.name, { score: 1 }, "shared-key");
    expect(forA.status).toBe(202);
    expect(forB.status).toBe(202);
    expect(forB.headers.get("idempotent-replayed")).toBeNull();
    expect(forB.body.id).not.toBe(forA.body.id);
    expect(forB.body.deliveries[0].webhookId).toBe(b.webhookId);
  });

  it("one namespace per tenant: the operator's publish and the tenant's own share the tenant's keys", async () => {
    await stubDeliveryQueue();
    const { key, tenantId } = await subscribedTenant(["*"]);
    const own = uniqueTypeName("own");
    expect((await call("POST", "/v1/event-types", { key, body: { name: own } })).status).toBe(201);
    const byTenant = await call("POST", "/v1/events", { key, body: { type: own, data: { n: 1 } }, headers: { "Idempotency-Key": "k-1" } });
    expect(byTenant.status, byTenant.text).toBe(202);
    const byOperator = await publishFor(tenantId, own, { n: 1 }, "k-1");
    expect(byOperator.status).toBe(202);
    expect(byOperator.headers.get("idempotent-replayed")).toBe("true");
    expect(byOperator.body.id).toBe(byTenant.body.id);
    expect(await eventsOf(tenantId)).toBe(1);
  });

  it("concurrent publishes with one key store exactly one event", async () => {
    await stubDeliveryQueue();
    const type = await newOperatorType();
    const { tenantId } = await subscribedTenant([type.name]);
    const results = await Promise.all(Array.from({ length: 5 }, () => publishFor(tenantId, type.name, { score: 5 }, "burst")));
    expect(results.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(await eventsOf(tenantId)).toBe(1);
  });
});
