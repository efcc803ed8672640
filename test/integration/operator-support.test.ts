import { afterEach, describe, expect, it, vi } from "vitest";
import { ADMIN_TOKEN, call, deliverySetup, expectProblem, fieldError, publishEvent, stubDeliveryQueue, stubEndpoint } from "./helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

const admin = { admin: true } as const;
const wrongToken = { headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } };

async function twoTenants() {
  await stubDeliveryQueue();
  await stubEndpoint(new Response("ok", { status: 200 }));
  const a = await deliverySetup();
  const b = await deliverySetup();
  return { a, b };
}

describe("a tenant's webhooks, for the operator", () => {
  it("lists and gets the tenant's subscriptions, and another tenant's id is 404", async () => {
    const { a, b } = await twoTenants();
    const list = await call("GET", `/admin/tenants/${a.tenantId}/webhooks`, admin);
    expect(list.status, list.text).toBe(200);
    expect(list.body.data.map((w: { id: string }) => w.id)).toEqual([a.webhookId]);
    expect(list.body.nextCursor).toBeNull();
    const one = await call("GET", `/admin/tenants/${a.tenantId}/webhooks/${a.webhookId}`, admin);
    expect(one.status, one.text).toBe(200);
    expect(one.body).toMatchObject({ id: a.webhookId, url: "https://hooks.example.com/x", isEnabled: true });
    expect(JSON.stringify(one.body)).not.toContain(a.secret);
    expectProblem(await call("GET", `/admin/tenants/${a.tenantId}/webhooks/${b.webhookId}`, admin), 404, "not_found");
    expectProblem(
      await call("PATCH", `/admin/tenants/${a.tenantId}/webhooks/${b.webhookId}`, { ...admin, body: { isEnabled: false } }),
      404,
      "not_found",
    );
    expectProblem(await call("GET", "/admin/tenants/ten_00000000000000000000/webhooks", admin), 404, "not_found");
  });

  it("refuses a wrong operator token or a tenant key with 401", async () => {
    const { a } = await twoTenants();
    for (const path of [`/admin/tenants/${a.tenantId}/webhooks`, `/admin/tenants/${a.tenantId}/webhooks/${a.webhookId}`]) {
      expectProblem(await call("GET", path, wrongToken), 401, "invalid_credential");
      expectProblem(await call("GET", path, { key: a.key }), 401, "invalid_credential");
    }
    const res = await call("PATCH", `/admin/tenants/${a.tenantId}/webhooks/${a.webhookId}`, { ...wrongToken, body: { isEnabled: false } });
    expectProblem(res, 401, "invalid_credential");
    const after = await call("GET", `/v1/webhooks/${a.webhookId}`, { key: a.key });
    expect(after.body.isEnabled).toBe(true);
  });

  it("switches an endpoint off and on, audited as operator in the tenant's log and the operator's", async () => {
    const { a } = await twoTenants();
    const off = await call("PATCH", `/admin/tenants/${a.tenantId}/webhooks/${a.webhookId}`, { ...admin, body: { isEnabled: false } });
    expect(off.status, off.text).toBe(200);
    expect(off.body).toMatchObject({ id: a.webhookId, isEnabled: false });
    const seen = await call("GET", `/v1/webhooks/${a.webhookId}`, { key: a.key });
    expect(seen.body.isEnabled).toBe(false);
    const requestId = off.headers.get("x-request-id");

    const tenantLog = await call("GET", `/v1/audit-log?action=webhook.updated`, { key: a.key });
    const entry = tenantLog.body.data.find((e: { requestId: string }) => e.requestId === requestId);
    expect(entry).toMatchObject({ actor: "operator", target: a.webhookId });
    const viaAdmin = await call("GET", `/admin/tenants/${a.tenantId}/audit-log?action=webhook.updated`, admin);
    expect(viaAdmin.status, viaAdmin.text).toBe(200);
    expect(viaAdmin.body.data.some((e: { requestId: string }) => e.requestId === requestId)).toBe(true);
    const operatorLog = await call("GET", "/admin/audit-log?action=webhook.updated&limit=100", admin);
    const mirrored = operatorLog.body.data.find((e: { requestId: string }) => e.requestId === requestId);
    expect(mirrored).toMatchObject({ actor: "operator", target: a.webhookId, details: { tenantId: a.tenantId } });

    const on = await call("PATCH", `/admin/tenants/${a.tenantId}/webhooks/${a.webhookId}`, { ...admin, body: { isEnabled: true } });
    expect(on.body.isEnabled).toBe(true);
  });

  it.each([
    ["url", { isEnabled: false, url: "https://evil.example.com/x" }],
    ["eventTypes", { isEnabled: false, eventTypes: ["invoice.paid"] }],
    ["isEnabled", { isEnabled: "no" }],
  ])("refuses a change of %s with 422 naming it, and changes nothing", async (field, body) => {
    const { a } = await twoTenants();
    const res = await call("PATCH", `/admin/tenants/${a.tenantId}/webhooks/${a.webhookId}`, { ...admin, body });
    expectProblem(res, 422, "validation_failed");
    const named = res.body.errors.some((e: { path: string }) => e.path === field);
    expect(named, res.text).toBe(true);
    const after = await call("GET", `/v1/webhooks/${a.webhookId}`, { key: a.key });
    expect(after.body).toMatchObject({ isEnabled: true, url: "https://hooks.example.com/x" });
  });
});

describe("a tenant's deliveries and audit log, for the operator", () => {
  it("lists the tenant's deliveries with the delivery log's filters, never another tenant's", async () => {
    const { a, b } = await twoTenants();
    const mine = await publishEvent(a.key, "invoice.paid");
    const theirs = await publishEvent(b.key, "invoice.paid");
    const list = await call("GET", `/admin/tenants/${a.tenantId}/deliveries?webhookId=${a.webhookId}`, admin);
    expect(list.status, list.text).toBe(200);
    expect(list.body.data.map((d: { id: string }) => d.id)).toEqual(mine.deliveryIds);
    const filtered = await call("GET", `/admin/tenants/${a.tenantId}/deliveries?eventType=invoice.voided`, admin);
    expect(filtered.body.data).toEqual([]);
    const one = await call("GET", `/admin/tenants/${a.tenantId}/deliveries/${mine.deliveryIds[0]}`, admin);
    expect(one.status, one.text).toBe(200);
    expect(one.body).toMatchObject({ id: mine.deliveryIds[0], eventId: mine.eventId });
    expect(Array.isArray(one.body.attempts)).toBe(true);
    expectProblem(await call("GET", `/admin/tenants/${a.tenantId}/deliveries/${theirs.deliveryIds[0]}`, admin), 404, "not_found");
  });

  it("refuses a bad filter with 400 naming it, and a wrong token with 401", async () => {
    const { a } = await twoTenants();
    const bad = await call("GET", `/admin/tenants/${a.tenantId}/deliveries?status=lost`, admin);
    expectProblem(bad, 400, "invalid_query");
    expect(fieldError(bad, "status").allowed).toContain("failed");
    expectProblem(await call("GET", `/admin/tenants/${a.tenantId}/deliveries`, wrongToken), 401, "invalid_credential");
    expectProblem(await call("GET", `/admin/tenants/${a.tenantId}/audit-log`, wrongToken), 401, "invalid_credential");
    expectProblem(await call("GET", "/admin/tenants/ten_00000000000000000000/deliveries", admin), 404, "not_found");
    expectProblem(await call("GET", "/admin/tenants/ten_00000000000000000000/audit-log", admin), 404, "not_found");
  });

  it("reads the tenant's audit log as the tenant does", async () => {
    const { a, b } = await twoTenants();
    const own = await call("GET", "/v1/audit-log?limit=100", { key: a.key });
    const viaAdmin = await call("GET", `/admin/tenants/${a.tenantId}/audit-log?limit=100`, admin);
    expect(viaAdmin.status, viaAdmin.text).toBe(200);
    expect(viaAdmin.body.data.map((e: { id: string }) => e.id)).toEqual(own.body.data.map((e: { id: string }) => e.id));
    expect(viaAdmin.body.data.some((e: { target: string }) => e.target === b.webhookId)).toBe(false);
    const bad = await call("GET", `/admin/tenants/${a.tenantId}/audit-log?action=NOPE`, admin);
    expectProblem(bad, 400, "invalid_query");
    expect(fieldError(bad, "action").message).toBeTruthy();
  });
});

describe("finding a tenant", () => {
  it("GET /admin/tenants?search= matches part of the name in any case, or a whole id", async () => {
    const marker = `Acme-${Math.random().toString(36).slice(2, 10)}`;
    const first = await call("POST", "/admin/tenants", { ...admin, body: { name: `${marker} Corp` } });
    const second = await call("POST", "/admin/tenants", { ...admin, body: { name: `${marker} Labs` } });
    const other = await call("POST", "/admin/tenants", { ...admin, body: { name: `Other-${marker.slice(5)}x` } });
    expect([first.status, second.status, other.status]).toEqual([201, 201, 201]);
    const byName = await call("GET", `/admin/tenants?search=${encodeURIComponent(marker.toLowerCase())}`, admin);
    expect(byName.status, byName.text).toBe(200);
    expect(byName.body.data.map((t: { id: string }) => t.id)).toEqual([first.body.tenant.id, second.body.tenant.id]);
    const paged = await call("GET", `/admin/tenants?search=${encodeURIComponent(marker)}&limit=1`, admin);
    expect(paged.body.data).toHaveLength(1);
    const next = await call(
      "GET",
      `/admin/tenants?search=${encodeURIComponent(marker)}&limit=1&cursor=${encodeURIComponent(paged.body.nextCursor)}`,
      admin,
    );
    expect(next.body.data.map((t: { id: string }) => t.id)).toEqual([second.body.tenant.id]);
    const byId = await call("GET", `/admin/tenants?search=${other.body.tenant.id}`, admin);
    expect(byId.body.data.map((t: { id: string }) => t.id)).toEqual([other.body.tenant.id]);
    expectProblem(await call("GET", `/admin/tenants?search=${"x".repeat(101)}`, admin), 400, "invalid_query");
    expectProblem(await call("GET", `/admin/tenants?search=${marker}`, wrongToken), 401, "invalid_credential");
  });
});
