import Stripe from "stripe";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  allPages,
  call,
  expectProblem,
  fieldError,
  newOperatorEndpoint,
  newOperatorType,
  newRoomyTenant,
  operatorAudit,
  stubEndpoint,
  uniqueTypeName,
} from "./helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

const stripeCrypto = Stripe.createSubtleCryptoProvider();
const FIELDS = [
  "createdAt",
  "customFields",
  "description",
  "disabledReason",
  "eventTypes",
  "filter",
  "format",
  "headers",
  "id",
  "isEnabled",
  "managedBy",
  "maxConcurrency",
  "modes",
  "ordering",
  "rateLimit",
  "secretLast4",
  "tenantIds",
  "updatedAt",
  "url",
  "version",
];

describe("/admin/webhooks: authentication", () => {
  const routes: [string, string][] = [
    ["POST", "/admin/webhooks"],
    ["GET", "/admin/webhooks"],
    ["GET", "/admin/webhooks/wh_x"],
    ["PATCH", "/admin/webhooks/wh_x"],
    ["DELETE", "/admin/webhooks/wh_x"],
    ["POST", "/admin/webhooks/wh_x/rotate-secret"],
    ["POST", "/admin/webhooks/wh_x/test"],
    ["GET", "/admin/webhooks/wh_x/stats"],
    ["POST", "/admin/webhooks/wh_x/recover"],
    ["GET", "/admin/deliveries"],
    ["GET", "/admin/deliveries/dlv_x"],
    ["POST", "/admin/deliveries/dlv_x/retry"],
  ];
  it.each(routes)("%s %s → 401 without a token and with a wrong one", async (method, path) => {
    const body = method === "GET" || method === "DELETE" ? undefined : { url: "https://ops.example.com/x", eventTypes: ["*"] };
    expectProblem(await call(method, path, { body }), 401, "unauthorized");
    expectProblem(
      await call(method, path, { body, headers: { authorization: "Bearer wrong-token-wrong-token" } }),
      401,
      "invalid_credential",
    );
  });
});

describe("operator endpoints: create, read, change, delete", () => {
  it("creates one with tenantIds, shows the secret once, then GET/list/PATCH/DELETE", async () => {
    const { tenant } = await newRoomyTenant();
    const type = await newOperatorType();
    const res = await call("POST", "/admin/webhooks", {
      admin: true,
      body: { url: "https://ops.example.com/a", eventTypes: [type.name], tenantIds: [tenant.id, tenant.id], description: "support" },
    });
    expect(res.status, res.text).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual([...FIELDS, "secret"].sort());
    expect(res.body).toMatchObject({ url: "https://ops.example.com/a", eventTypes: [type.name], tenantIds: [tenant.id], isEnabled: true });
    expect(res.body.secret).toMatch(/^whsec_/);
    const { secret, ...shown } = res.body;

    const got = await call("GET", `/admin/webhooks/${res.body.id}`, { admin: true });
    expect(got.status, got.text).toBe(200);
    expect(got.body).toEqual(shown);
    expect(got.text).not.toContain(secret);
    expect((await allPages("/admin/webhooks", { admin: true })).items).toContainEqual(shown);

    const patched = await call("PATCH", `/admin/webhooks/${res.body.id}`, { admin: true, body: { tenantIds: null, eventTypes: ["*"] } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ tenantIds: null, eventTypes: ["*"] });
    expect((await call("GET", `/admin/webhooks/${res.body.id}`, { admin: true })).body.tenantIds).toBeNull();

    expect((await call("DELETE", `/admin/webhooks/${res.body.id}`, { admin: true })).status).toBe(204);
    expectProblem(await call("GET", `/admin/webhooks/${res.body.id}`, { admin: true }), 404, "not_found");
    expectProblem(await call("DELETE", `/admin/webhooks/${res.body.id}`, { admin: true }), 404, "not_found");
  });

  it("absent tenantIds means every tenant (null); eventTypes may be any tenant's names or *", async () => {
    const { key } = await newRoomyTenant();
    const own = uniqueTypeName("tenanttype");
    expect((await call("POST", "/v1/event-types", { key, body: { name: own } })).status).toBe(201);
    const everyone = await newOperatorEndpoint({ eventTypes: [own] });
    expect(everyone.body.tenantIds).toBeNull();
    const star = await newOperatorEndpoint({ eventTypes: ["*"], isEnabled: false });
    expect(star.body).toMatchObject({ eventTypes: ["*"], isEnabled: false, disabledReason: "manual" });
  });

  it("422 naming each unknown tenant id; [] is refused; tenantIds are not a tenant subscription's field", async () => {
    const { tenant, key } = await newRoomyTenant();
    const res = await call("POST", "/admin/webhooks", {
      admin: true,
      body: { url: "https://ops.example.com/a", eventTypes: ["*"], tenantIds: ["ten_nope", tenant.id, "operator"] },
    });
    expectProblem(res, 422, "validation_failed");
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(["tenantIds.0", "tenantIds.2"]);
    expect(fieldError(res, "tenantIds.0").message).toContain("ten_nope");
    expectProblem(
      await call("POST", "/admin/webhooks", { admin: true, body: { url: "https://ops.example.com/a", eventTypes: ["*"], tenantIds: [] } }),
      422,
      "validation_failed",
    );
    const hook = await newOperatorEndpoint({ eventTypes: ["*"], tenantIds: [tenant.id] });
    const patch = await call("PATCH", `/admin/webhooks/${hook.id}`, { admin: true, body: { tenantIds: ["ten_missing"] } });
    expectProblem(patch, 422, "validation_failed");
    fieldError(patch, "tenantIds.0");
    expect((await call("GET", `/admin/webhooks/${hook.id}`, { admin: true })).body.tenantIds).toEqual([tenant.id]);

    const tenantSide = await call("POST", "/v1/webhooks", {
      key,
      body: { url: "https://hooks.example.com/x", eventTypes: ["*"], tenantIds: [tenant.id] },
    });
    expectProblem(tenantSide, 422, "validation_failed");
  });

  it("422 for event types no covered catalog holds, for a bad URL, for a reserved header", async () => {
    const a = await newRoomyTenant();
    const b = await newRoomyTenant();
    const onlyB = uniqueTypeName("bonly");
    expect((await call("POST", "/v1/event-types", { key: b.key, body: { name: onlyB } })).status).toBe(201);
    const type = await newOperatorType();

    const unknown = await call("POST", "/admin/webhooks", {
      admin: true,
      body: { url: "https://ops.example.com/a", eventTypes: [type.name, "no.such"] },
    });
    expectProblem(unknown, 422, "validation_failed");
    expect(fieldError(unknown, "eventTypes.1").allowed).toContain(type.name);
    expect(unknown.body.errors).toHaveLength(1);
    // B's type is valid for an endpoint covering B (or everyone), not for one covering A alone.
    const narrowed = await call("POST", "/admin/webhooks", {
      admin: true,
      body: { url: "https://ops.example.com/a", eventTypes: [onlyB], tenantIds: [a.tenant.id] },
    });
    expectProblem(narrowed, 422, "validation_failed");
    fieldError(narrowed, "eventTypes.0");
    const covering = await newOperatorEndpoint({ eventTypes: [onlyB], tenantIds: [a.tenant.id, b.tenant.id] });
    // Narrowing it to A leaves a type no covered tenant has.
    const narrowing = await call("PATCH", `/admin/webhooks/${covering.id}`, { admin: true, body: { tenantIds: [a.tenant.id] } });
    expectProblem(narrowing, 422, "validation_failed");
    fieldError(narrowing, "eventTypes.0");

    expectProblem(
      await call("POST", "/admin/webhooks", { admin: true, body: { url: "http://ops.example.com/a", eventTypes: ["*"] } }),
      422,
      "validation_failed",
    );
    const header = await call("POST", "/admin/webhooks", {
      admin: true,
      body: { url: "https://ops.example.com/a", eventTypes: ["*"], headers: { "X-Webhook-Tenant-Id": "forged" } },
    });
    expectProblem(header, 422, "validation_failed");
    const field = await call("POST", "/admin/webhooks", {
      admin: true,
      body: { url: "https://ops.example.com/a", eventTypes: ["*"], customFields: { tenantId: "forged" } },
    });
    expectProblem(field, 422, "validation_failed");
    fieldError(field, "customFields.tenantId");
  });

  it("is not bound by a tenant's webhooks quota", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await newOperatorEndpoint({ eventTypes: ["*"], isEnabled: false })).id);
    expect(new Set(ids).size).toBe(4);
  });
});

describe("tenants never see operator endpoints", () => {
  it("GET/PATCH/DELETE /v1/webhooks/:id of one → 404; it is not in /v1/webhooks", async () => {
    const { key, tenant } = await newRoomyTenant();
    const hook = await newOperatorEndpoint({ eventTypes: ["*"], tenantIds: [tenant.id] });
    expectProblem(await call("GET", `/v1/webhooks/${hook.id}`, { key }), 404, "not_found");
    expectProblem(await call("PATCH", `/v1/webhooks/${hook.id}`, { key, body: { isEnabled: false } }), 404, "not_found");
    expectProblem(await call("DELETE", `/v1/webhooks/${hook.id}`, { key }), 404, "not_found");
    expectProblem(await call("POST", `/v1/webhooks/${hook.id}/rotate-secret`, { key, body: {} }), 404, "not_found");
    expectProblem(await call("POST", `/v1/webhooks/${hook.id}/test`, { key, body: {} }), 404, "not_found");
    expect((await call("GET", "/v1/webhooks", { key })).body.data).toEqual([]);
    expect((await call("GET", `/admin/webhooks/${hook.id}`, { admin: true })).body.isEnabled).toBe(true);
  });

  it("and the operator's routes do not reach a tenant's subscription", async () => {
    const { key } = await newRoomyTenant();
    const own = await call("POST", "/v1/webhooks", { key, body: { url: "https://hooks.example.com/x", eventTypes: ["*"] } });
    expectProblem(await call("GET", `/admin/webhooks/${own.body.id}`, { admin: true }), 404, "not_found");
    expectProblem(await call("DELETE", `/admin/webhooks/${own.body.id}`, { admin: true }), 404, "not_found");
    expect((await allPages("/admin/webhooks", { admin: true })).items.map((w) => w.id)).not.toContain(own.body.id);
  });
});

describe("operator endpoint actions", () => {
  it("POST /admin/webhooks/:id/test sends a signed sample carrying a placeholder tenantId", async () => {
    const type = await newOperatorType();
    const hook = await newOperatorEndpoint({ eventTypes: [type.name] });
    const endpoint = await stubEndpoint(new Response("fine", { status: 200 }));
    const res = await call("POST", `/admin/webhooks/${hook.id}/test`, { admin: true, body: {} });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ success: true, statusCode: 200, responseBody: "fine" });
    const sent = endpoint.calls[0]!;
    const body = JSON.parse(sent.body);
    expect(Object.keys(body)).toEqual(["id", "type", "createdAt", "tenantId", "mode", "data"]);
    expect(body).toMatchObject({ type: type.name, tenantId: "ten_test", mode: "live" });
    expect(sent.headers.get("x-webhook-mode")).toBe("live");
    expect(sent.headers.get("x-webhook-tenant-id")).toBe("ten_test");
    await Stripe.webhooks.constructEventAsync(sent.body, sent.headers.get("x-webhook-signature")!, hook.secret, undefined, stripeCrypto);
    expectProblem(
      await call("POST", `/admin/webhooks/${hook.id}/test`, { admin: true, body: { type: "no.such" } }),
      422,
      "validation_failed",
    );
    expectProblem(await call("POST", "/admin/webhooks/wh_unknown/test", { admin: true, body: {} }), 404, "not_found");
  });

  it("rotate-secret: the new secret signs, the old one no longer does", async () => {
    const hook = await newOperatorEndpoint({ eventTypes: ["*"], isEnabled: true });
    const rotated = await call("POST", `/admin/webhooks/${hook.id}/rotate-secret`, { admin: true, body: {} });
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(hook.secret);
    const endpoint = await stubEndpoint(new Response("ok"));
    await call("POST", `/admin/webhooks/${hook.id}/test`, { admin: true, body: {} });
    const sent = endpoint.calls[0]!;
    const header = sent.headers.get("x-webhook-signature")!;
    await Stripe.webhooks.constructEventAsync(sent.body, header, rotated.body.secret, undefined, stripeCrypto);
    await expect(Stripe.webhooks.constructEventAsync(sent.body, header, hook.secret, undefined, stripeCrypto)).rejects.toThrow(
      /signature/i,
    );
    expectProblem(await call("POST", "/admin/webhooks/wh_unknown/rotate-secret", { admin: true, body: {} }), 404, "not_found");
  });

  it("stats answer for an operator endpoint", async () => {
    const hook = await newOperatorEndpoint({ eventTypes: ["*"], isEnabled: false });
    const res = await call("GET", `/admin/webhooks/${hook.id}/stats`, { admin: true });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ state: "closed", disabledReason: "manual", attempts24h: 0 });
  });
});

describe("audit: operator_webhook.* in the operator's log", () => {
  it("created, updated, secret_rotated and deleted, with actor operator; never webhook.* there", async () => {
    const hook = await call("POST", "/admin/webhooks", {
      admin: true,
      ip: "198.51.100.9",
      body: { url: "https://ops.example.com/audited", eventTypes: ["*"], isEnabled: false },
    });
    const id = hook.body.id as string;
    await call("PATCH", `/admin/webhooks/${id}`, { admin: true, body: { description: "watched" } });
    await call("POST", `/admin/webhooks/${id}/rotate-secret`, { admin: true, body: { graceSeconds: 60 } });
    await call("DELETE", `/admin/webhooks/${id}`, { admin: true });
    const created = (await operatorAudit("operator_webhook.created")).find((e) => e.target === id);
    expect(created).toMatchObject({ actor: "operator", ip: "198.51.100.9", requestId: hook.headers.get("x-request-id") });
    expect(created.details).toEqual({ url: "https://ops.example.com/audited", eventTypes: ["*"] });
    expect((await operatorAudit("operator_webhook.updated")).find((e) => e.target === id).details).toEqual({ fields: ["description"] });
    expect((await operatorAudit("operator_webhook.secret_rotated")).find((e) => e.target === id).details).toEqual({ graceSeconds: 60 });
    expect((await operatorAudit("operator_webhook.deleted")).find((e) => e.target === id)).toMatchObject({ actor: "operator" });
    for (const action of ["webhook.created", "webhook.updated", "webhook.deleted", "webhook.secret_rotated"]) {
      expect(await operatorAudit(action), action).toEqual([]);
    }
  });

  it("a tenant's own subscription still logs webhook.* in the tenant's log", async () => {
    const { key } = await newRoomyTenant();
    const own = await call("POST", "/v1/webhooks", { key, body: { url: "https://hooks.example.com/x", eventTypes: ["*"] } });
    const entries = await call("GET", "/v1/audit-log?action=webhook.created", { key });
    expect(entries.body.data.map((e: { target: string }) => e.target)).toEqual([own.body.id]);
    expect((await operatorAudit("operator_webhook.created")).some((e) => e.target === own.body.id)).toBe(false);
  });
});
