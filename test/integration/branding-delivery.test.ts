import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { afterEach, describe, expect, it, vi } from "vitest";
import pkg from "../../package.json";
import {
  call,
  DELIVERY_RATE_LIMITS,
  deliverySetup,
  expectProblem,
  type FakeCall,
  fieldError,
  getDelivery,
  newOperatorEndpoint,
  newOperatorType,
  newTenant,
  publishEvent,
  runDeliveryConsumer,
  stubDeliveryQueue,
  stubEndpoint,
} from "./helpers";

/**
 * Deliveries under the operator's brand: `X-<headerPrefix>-*` in place of
 * `X-Webhook-*` and the brand's User-Agent, on every sender (deliveries,
 * retries of older deliveries, test sends, verification requests, operator
 * endpoints); the Standard Webhooks headers unchanged; the receivers' own
 * libraries still verify. Tests in this file share storage: each returns to
 * the default brand.
 */

afterEach(async () => {
  vi.restoreAllMocks();
  expect((await call("DELETE", "/admin/branding", { admin: true })).status).toBe(200);
});

const stripeCrypto = Stripe.createSubtleCryptoProvider();
const BRAND = { productName: "Acme", headerPrefix: "Acme-Hooks", userAgent: "Acme-Webhooks/3.1 (+https://acme.example)" };
const OURS = ["signature", "event-id", "event-type", "attempt", "timestamp"];

const setBrand = async (body: Record<string, unknown> = BRAND) => {
  const res = await call("PUT", "/admin/branding", { admin: true, body });
  expect(res.status, res.text).toBe(200);
};

/** Every header name of a call that starts with `x-`, lower-cased. */
const xHeaders = (c: FakeCall) => [...c.headers.keys()].filter((n) => n.startsWith("x-"));

async function expectVerifiesUnder(c: FakeCall, secret: string, prefix: string) {
  const event = await Stripe.webhooks.constructEventAsync(c.body, c.headers.get(`x-${prefix}-signature`)!, secret, undefined, stripeCrypto);
  expect(event.id).toBe(c.headers.get(`x-${prefix}-event-id`));
  const standard = new Webhook(secret).verify(c.body, {
    "webhook-id": c.headers.get("webhook-id")!,
    "webhook-timestamp": c.headers.get("webhook-timestamp")!,
    "webhook-signature": c.headers.get("webhook-signature")!,
  });
  expect(standard).toEqual(JSON.parse(c.body));
}

describe("delivery headers follow the brand", () => {
  it("X-Webhook-* and Hookgate's User-Agent before a change; X-<prefix>-* and the brand's after, for the next attempt", async () => {
    await stubDeliveryQueue();
    const { key, secret, types } = await deliverySetup();
    const endpoint = await stubEndpoint(new Response("ok"));

    const first = await publishEvent(key, types[0]!);
    await runDeliveryConsumer(first.deliveryIds);
    const before = endpoint.calls[0]!;
    expect(before.headers.get("user-agent")).toBe(`Hookgate/${pkg.version}`);
    for (const h of OURS) expect(before.headers.get(`x-webhook-${h}`), h).toBeTruthy();
    await expectVerifiesUnder(before, secret, "webhook");

    await setBrand();
    const second = await publishEvent(key, types[0]!);
    await runDeliveryConsumer(second.deliveryIds);
    const after = endpoint.calls[1]!;
    expect(after.headers.get("user-agent")).toBe(BRAND.userAgent);
    expect(after.headers.get("x-acme-hooks-event-id")).toBe(second.eventId);
    expect(after.headers.get("x-acme-hooks-event-type")).toBe(types[0]);
    expect(after.headers.get("x-acme-hooks-attempt")).toBe("1");
    expect(after.headers.get("x-acme-hooks-timestamp")).toBe(after.headers.get("webhook-timestamp"));
    expect(after.headers.get("x-acme-hooks-signature")).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(xHeaders(after).filter((n) => n.startsWith("x-webhook-"))).toEqual([]);
    expect(after.headers.get("webhook-id")).toBe(second.eventId);
    await expectVerifiesUnder(after, secret, "acme-hooks");

    // The attempt log keeps the names as sent, the signatures redacted.
    const logged = (await getDelivery(key, second.deliveryIds[0]!)).attempts[0].requestHeaders as Record<string, string>;
    expect(logged["X-Acme-Hooks-Signature"]).toBe("[redacted]");
    expect(logged["webhook-signature"]).toBe("[redacted]");
    expect(logged["X-Acme-Hooks-Event-Id"]).toBe(second.eventId);
    expect(logged["User-Agent"]).toBe(BRAND.userAgent);
  });

  it("a delivery published before the change and retried after it goes out under the new brand", async () => {
    await stubDeliveryQueue();
    const { key, secret, types } = await deliverySetup();
    const endpoint = await stubEndpoint(new Response("down", { status: 503 }));
    const { deliveryIds, eventId } = await publishEvent(key, types[0]!);
    await runDeliveryConsumer(deliveryIds);
    expect(endpoint.calls[0]!.headers.get("x-webhook-attempt")).toBe("1");

    await setBrand();
    await endpoint.answerWith(new Response("ok"));
    await runDeliveryConsumer(deliveryIds);
    const retry = endpoint.calls[1]!;
    expect(retry.headers.get("x-acme-hooks-attempt")).toBe("2");
    expect(retry.headers.get("x-acme-hooks-event-id")).toBe(eventId);
    expect(retry.headers.has("x-webhook-signature")).toBe(false);
    await expectVerifiesUnder(retry, secret, "acme-hooks");

    // And back: a reset applies to the next attempt too.
    await call("DELETE", "/admin/branding", { admin: true });
    const again = await publishEvent(key, types[0]!);
    await runDeliveryConsumer(again.deliveryIds);
    expect(endpoint.calls[2]!.headers.get("x-webhook-event-id")).toBe(again.eventId);
    expect(endpoint.calls[2]!.headers.get("user-agent")).toBe(`Hookgate/${pkg.version}`);
  });

  it("a test send carries the brand's headers and names the product", async () => {
    await setBrand();
    const { key, webhookId, secret } = await deliverySetup();
    const endpoint = await stubEndpoint(new Response("fine"));
    const res = await call("POST", `/v1/webhooks/${webhookId}/test`, { key, body: {} });
    expect(res.status, res.text).toBe(200);
    const c = endpoint.calls[0]!;
    expect(c.headers.get("user-agent")).toBe(BRAND.userAgent);
    expect(c.headers.get("x-acme-hooks-attempt")).toBe("1");
    expect(xHeaders(c).filter((n) => n.startsWith("x-webhook-"))).toEqual([]);
    expect(JSON.parse(c.body).data.message).toBe("A test event from Acme");
    expect(c.body).not.toContain("Hookgate");
    await expectVerifiesUnder(c, secret, "acme-hooks");
  });

  it("an endpoint's verification request carries them too", async () => {
    await setBrand();
    const { key } = await newTenant({ rateLimits: DELIVERY_RATE_LIMITS });
    await call("POST", "/v1/event-types", { key, body: { name: "invoice.paid" } });
    const endpoint = await stubEndpoint(new Response("ok"));
    const res = await call("POST", "/v1/webhooks", {
      key,
      body: { url: "https://verify.example.com/hook", eventTypes: ["invoice.paid"], verify: true },
    });
    expect(res.status, res.text).toBe(201);
    const c = endpoint.calls[0]!;
    expect(JSON.parse(c.body).type).toBe("webhook.verification");
    expect(JSON.parse(c.body).data.message).toMatch(/^Acme is verifying/);
    expect(c.headers.get("user-agent")).toBe(BRAND.userAgent);
    await expectVerifiesUnder(c, res.body.secret, "acme-hooks");
  });

  it("an operator endpoint gets X-<prefix>-Tenant-Id", async () => {
    await setBrand();
    await stubDeliveryQueue();
    const endpoint = await stubEndpoint(new Response("ok"));
    const type = await newOperatorType();
    const { tenant } = await newTenant({ rateLimits: DELIVERY_RATE_LIMITS });
    const hook = await newOperatorEndpoint({ url: "https://ops.example.com/hook", eventTypes: [type.name], tenantIds: [tenant.id] });
    const published = await call("POST", `/admin/tenants/${tenant.id}/events`, { admin: true, body: { type: type.name, data: {} } });
    expect(published.status, published.text).toBe(202);
    const listed = await call("GET", `/admin/deliveries?webhookId=${hook.id}&tenantId=${tenant.id}`, { admin: true });
    expect(listed.body.data, listed.text).toHaveLength(1);
    await runDeliveryConsumer([listed.body.data[0].id]);
    const c = endpoint.calls[0]!;
    expect(c.headers.get("x-acme-hooks-tenant-id")).toBe(tenant.id);
    expect(c.headers.has("x-webhook-tenant-id")).toBe(false);
    await expectVerifiesUnder(c, hook.secret, "acme-hooks");
  }, 30_000);

  it("an endpoint's own headers may not take the brand's prefix (422 naming the header)", async () => {
    await setBrand();
    const { key } = await newTenant();
    await call("POST", "/v1/event-types", { key, body: { name: "invoice.paid" } });
    const res = await call("POST", "/v1/webhooks", {
      key,
      body: { url: "https://hooks.example.com/x", eventTypes: ["invoice.paid"], headers: { "x-acme-hooks-signature": "forged" } },
    });
    expectProblem(res, 422, "validation_failed");
    expect(fieldError(res, "headers.x-acme-hooks-signature").message).toMatch(/reserved/);
    const ok = await call("POST", "/v1/webhooks", {
      key,
      body: { url: "https://hooks.example.com/x", eventTypes: ["invoice.paid"], headers: { "X-Acme-Team": "billing" } },
    });
    expect(ok.status, ok.text).toBe(201);
  });
});
