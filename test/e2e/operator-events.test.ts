import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, createTenant } from "./client";
import { type Received, startReceiver, until } from "./receiver";

const stripe = new Stripe("sk_test_x");

describe("the operator's events over real HTTP (wrangler dev + a receiver on 127.0.0.1)", () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  const at = (path: string) => receiver.received.filter((r: Received) => r.path === path);
  const header = (r: Received, name: string) => {
    const value = r.headers[name];
    return Array.isArray(value) ? value.join(",") : (value ?? "");
  };

  it("a type of the operator's catalog, published for a tenant, reaches the tenant's and the operator's endpoints", async () => {
    const type = `test_${Date.now().toString(36)}.completed`;
    const defined = await api("POST", "/admin/event-types", {
      admin: true,
      body: { name: type, description: "A test run finished", schema: { type: "object", required: ["score"] } },
    });
    expect(defined.status).toBe(201);
    expect(defined.body.owner).toBe("operator");

    const { tenant, key } = await createTenant();
    const catalog = await api("GET", `/v1/event-types/${type}`, { key: key.key });
    expect(catalog.body).toMatchObject({ name: type, owner: "operator" });
    const tenantHook = await api("POST", "/v1/webhooks", { key: key.key, body: { url: `${receiver.url}/tenant`, eventTypes: [type] } });
    expect(tenantHook.status).toBe(201);
    const operatorHook = await api("POST", "/admin/webhooks", {
      admin: true,
      body: { url: `${receiver.url}/operator`, eventTypes: [type], tenantIds: [tenant.id] },
    });
    expect(operatorHook.status).toBe(201);
    // The tenant itself may not fire the operator's type.
    expect((await api("POST", "/v1/events", { key: key.key, body: { type, data: { score: 1 } } })).status).toBe(403);

    const published = await api("POST", `/admin/tenants/${tenant.id}/events`, {
      admin: true,
      body: { type, data: { score: 98 } },
      headers: { "Idempotency-Key": `run-${type}` },
    });
    expect(published.status).toBe(202);
    const eventId = published.body.id as string;

    const [toTenant, toOperator] = await until("both endpoints received the event", () => {
      const t = at("/tenant").find((r) => header(r, "x-webhook-event-id") === eventId);
      const o = at("/operator").find((r) => header(r, "x-webhook-event-id") === eventId);
      return t && o ? [t, o] : undefined;
    });

    const tenantEvent = stripe.webhooks.constructEvent(toTenant.body, header(toTenant, "x-webhook-signature"), tenantHook.body.secret);
    expect(tenantEvent).toMatchObject({ id: eventId, type, data: { score: 98 } });
    expect(tenantEvent).not.toHaveProperty("tenantId");
    expect(header(toTenant, "x-webhook-tenant-id")).toBe("");

    const operatorEvent = stripe.webhooks.constructEvent(
      toOperator.body,
      header(toOperator, "x-webhook-signature"),
      operatorHook.body.secret,
    );
    expect(operatorEvent).toMatchObject({ id: eventId, type, tenantId: tenant.id, data: { score: 98 } });
    expect(header(toOperator, "x-webhook-tenant-id")).toBe(tenant.id);
    // Each endpoint's secret signs its own deliveries only.
    expect(() =>
      stripe.webhooks.constructEvent(toOperator.body, header(toOperator, "x-webhook-signature"), tenantHook.body.secret),
    ).toThrow();

    const operatorLog = await until("the operator's delivery succeeded", async () => {
      const list = await api("GET", `/admin/deliveries?webhookId=${operatorHook.body.id}`, { admin: true });
      return list.body.data[0]?.status === "succeeded" ? list.body.data : undefined;
    });
    expect(operatorLog).toHaveLength(1);
    expect(operatorLog[0]).toMatchObject({ eventId, tenantId: tenant.id });
    const tenantLog = await api("GET", "/v1/deliveries", { key: key.key });
    expect(tenantLog.body.data.map((d: { webhookId: string }) => d.webhookId)).toEqual([tenantHook.body.id]);
  });
});
