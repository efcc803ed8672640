import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { afterEach, describe, expect, it, vi } from "vitest";
import pkg from "../../package.json";
import { dataRows, shardSql } from "./data-plane";
import {
  call,
  deliverySetup,
  type FakeCall,
  getDelivery,
  publishEvent,
  runDeliveryConsumer,
  stubDeliveryQueue,
  stubEndpoint,
} from "./helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

const stripeCrypto = Stripe.createSubtleCryptoProvider();
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Stripe's SDK: throws on a bad signature; returns the parsed event. */
function stripeVerify(c: FakeCall, secret: string) {
  return Stripe.webhooks.constructEventAsync(c.body, c.headers.get("x-webhook-signature")!, secret, undefined, stripeCrypto);
}
/** Stripe's SDK on a non-JSON body (form format): signature check only. */
function stripeVerifyRaw(c: FakeCall, secret: string) {
  return Stripe.webhooks.signature!.verifyHeaderAsync(c.body, c.headers.get("x-webhook-signature")!, secret, undefined, stripeCrypto);
}
/** The standardwebhooks library: throws on a bad signature. */
function standardVerify(c: FakeCall, secret: string, jsonParse = true) {
  return new Webhook(secret).verify(
    c.body,
    {
      "webhook-id": c.headers.get("webhook-id")!,
      "webhook-timestamp": c.headers.get("webhook-timestamp")!,
      "webhook-signature": c.headers.get("webhook-signature")!,
    },
    { jsonParse },
  );
}

async function expectBothVerify(c: FakeCall, secret: string) {
  const event = await stripeVerify(c, secret);
  expect(event.id).toBe(c.headers.get("x-webhook-event-id"));
  expect(standardVerify(c, secret)).toEqual(JSON.parse(c.body));
}
async function expectNeitherVerifies(c: FakeCall, secret: string) {
  await expect(stripeVerify(c, secret)).rejects.toThrow(/signature/i);
  expect(() => standardVerify(c, secret)).toThrow(/signature/i);
}

/** Sets up a tenant + webhook, publishes one event, and delivers it with the endpoint answering `status`. */
async function deliverOnce(opts: { webhook?: Record<string, unknown>; data?: unknown; status?: number } = {}) {
  const queue = await stubDeliveryQueue();
  const setup = await deliverySetup({ webhook: opts.webhook });
  const endpoint = await stubEndpoint(new Response("thanks", { status: opts.status ?? 200 }));
  const published = await publishEvent(setup.key, "invoice.paid", opts.data ?? { amount: 4200, customer: "Zoë ✓" });
  expect(published.deliveryIds).toHaveLength(1);
  const deliveryId = published.deliveryIds[0]!;
  const result = await runDeliveryConsumer([deliveryId]);
  return { ...setup, ...published, queue, endpoint, deliveryId, result };
}

describe("the delivery request, byte for byte", () => {
  it("POSTs the JSON body {id,type,createdAt,data} in that key order, with every header", async () => {
    const data = { amount: 4200, customer: "Zoë ✓", nested: { b: 1, a: [1, "x", null] } };
    const before = Math.floor(Date.now() / 1000);
    const {
      endpoint,
      eventId,
      body: event,
      result,
      deliveryId,
      queue,
      tenantId,
    } = await deliverOnce({
      data,
      webhook: { headers: { Authorization: "Bearer endpoint-token-123", "X-Team": "billing" } },
    });
    const after = Math.ceil(Date.now() / 1000);
    expect(queue.sent()).toEqual([{ kind: "attempt", deliveryId, tenantId }]);
    expect(result.explicitAcks).toEqual(result.ids);
    expect(result.retryMessages).toEqual([]);
    expect(endpoint.calls).toHaveLength(1);
    const c = endpoint.calls[0]!;
    expect(c.url).toBe("https://hooks.example.com/x");
    expect(c.init.method).toBe("POST");
    expect(c.init.redirect).toBe("manual");

    // Exactly this text: key order id, type, createdAt, data; no customFields when there are none.
    expect(c.body).toBe(JSON.stringify({ id: eventId, type: "invoice.paid", createdAt: event.createdAt, data }));
    expect(Object.keys(JSON.parse(c.body))).toEqual(["id", "type", "createdAt", "data"]);
    expect(JSON.parse(c.body).createdAt).toMatch(ISO);

    const h = c.headers;
    expect(h.get("content-type")).toBe("application/json");
    expect(h.get("user-agent")).toBe(`Hookgate/${pkg.version}`);
    expect(h.get("x-webhook-event-id")).toBe(eventId);
    expect(h.get("x-webhook-event-type")).toBe("invoice.paid");
    expect(h.get("x-webhook-attempt")).toBe("1");
    const t = Number(h.get("x-webhook-timestamp"));
    expect(h.get("x-webhook-timestamp")).toMatch(/^\d+$/);
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(after);
    expect(h.get("x-webhook-signature")).toMatch(new RegExp(`^t=${t},v1=[0-9a-f]{64}$`));
    expect(h.get("webhook-id")).toBe(eventId);
    expect(h.get("webhook-timestamp")).toBe(String(t));
    expect(h.get("webhook-signature")).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(h.get("authorization")).toBe("Bearer endpoint-token-123");
    expect(h.get("x-team")).toBe("billing");
    // Nothing else is sent.
    expect([...h.keys()].sort()).toEqual(
      [
        "authorization",
        "content-type",
        "user-agent",
        "webhook-id",
        "webhook-signature",
        "webhook-timestamp",
        "x-team",
        "x-webhook-attempt",
        "x-webhook-event-id",
        "x-webhook-event-type",
        "x-webhook-signature",
        "x-webhook-timestamp",
      ].sort(),
    );
  });

  it("adds customFields last when the endpoint has them", async () => {
    const customFields = { account: "acme", region: "eu", tier: 3, beta: true };
    const { endpoint, eventId, body: event } = await deliverOnce({ webhook: { customFields }, data: { amount: 1 } });
    const c = endpoint.calls[0]!;
    expect(c.body).toBe(
      JSON.stringify({ id: eventId, type: "invoice.paid", createdAt: event.createdAt, data: { amount: 1 }, customFields }),
    );
    expect(Object.keys(JSON.parse(c.body))).toEqual(["id", "type", "createdAt", "data", "customFields"]);
  });

  it("sends the form format as x-www-form-urlencoded: id, type, createdAt, data (JSON text), then each custom field", async () => {
    const data = { amount: 4200, note: "a&b=c d+é" };
    const customFields = { account: "acme co", vip: true, n: 7 };
    const { endpoint, eventId, body: event, secret } = await deliverOnce({ webhook: { format: "form", customFields }, data });
    const c = endpoint.calls[0]!;
    expect(c.headers.get("content-type")).toBe("application/x-www-form-urlencoded");
    const expected = new URLSearchParams([
      ["id", eventId],
      ["type", "invoice.paid"],
      ["createdAt", event.createdAt],
      ["data", JSON.stringify(data)],
      ["account", "acme co"],
      ["vip", "true"],
      ["n", "7"],
    ]).toString();
    expect(c.body).toBe(expected);
    const parsed = new URLSearchParams(c.body);
    expect([...parsed.keys()]).toEqual(["id", "type", "createdAt", "data", "account", "vip", "n"]);
    expect(JSON.parse(parsed.get("data")!)).toEqual(data);
    // Both signature schemes cover the raw form body too.
    await expect(stripeVerifyRaw(c, secret)).resolves.toBe(true);
    expect(() => standardVerify(c, secret, false)).not.toThrow();
    const other = (await deliverySetup()).secret;
    await expect(stripeVerifyRaw(c, other)).rejects.toThrow(/signature/i);
    expect(() => standardVerify(c, other, false)).toThrow(/signature/i);
  });

  it("keeps the event id on every retry and counts X-Webhook-Attempt up from 1", async () => {
    const queue = await stubDeliveryQueue();
    const { key } = await deliverySetup();
    const endpoint = await stubEndpoint((_c, n) => new Response("no", { status: n < 3 ? 500 : 200 }));
    const a = await publishEvent(key, "invoice.paid", { n: 1 });
    const b = await publishEvent(key, "invoice.paid", { n: 2 });
    expect(a.eventId).not.toBe(b.eventId);
    const id = a.deliveryIds[0]!;
    for (let i = 0; i < 3; i++) await runDeliveryConsumer([id]);
    expect(endpoint.calls.map((c) => c.headers.get("x-webhook-attempt"))).toEqual(["1", "2", "3"]);
    expect(new Set(endpoint.calls.map((c) => c.headers.get("x-webhook-event-id")))).toEqual(new Set([a.eventId]));
    expect(new Set(endpoint.calls.map((c) => c.headers.get("webhook-id")))).toEqual(new Set([a.eventId]));
    // The body is the same event every time.
    expect(new Set(endpoint.calls.map((c) => c.body)).size).toBe(1);
    await runDeliveryConsumer([b.deliveryIds[0]!]);
    expect(endpoint.calls[3]!.headers.get("x-webhook-event-id")).toBe(b.eventId);
    expect(endpoint.calls[3]!.headers.get("x-webhook-attempt")).toBe("1");
    expect((await getDelivery(key, id)).status).toBe("succeeded");
    expect(queue.sent()).toHaveLength(2);
  });
});

describe("signatures, checked by the receivers' own libraries", () => {
  it("Stripe's SDK and standardwebhooks both verify a delivery with the webhook secret", async () => {
    const { endpoint, secret } = await deliverOnce();
    const c = endpoint.calls[0]!;
    await expectBothVerify(c, secret);
  });

  it("a wrong secret or a changed body fails both", async () => {
    const { endpoint, secret } = await deliverOnce();
    const c = endpoint.calls[0]!;
    const other = (await deliverySetup()).secret;
    await expectNeitherVerifies(c, other);
    const tampered = { ...c, body: c.body.replace("4200", "4201") };
    await expectNeitherVerifies(tampered, secret);
  });

  it("a caller-chosen whsec_ secret signs too", async () => {
    const own = `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))))}`;
    const { endpoint, secret } = await deliverOnce({ webhook: { secret: own } });
    expect(secret).toBe(own);
    await expectBothVerify(endpoint.calls[0]!, own);
  });

  it("during a rotation grace period each library accepts the old and the new secret", async () => {
    await stubDeliveryQueue();
    const { key, webhookId, secret: oldSecret } = await deliverySetup();
    const rotated = await call("POST", `/v1/webhooks/${webhookId}/rotate-secret`, { key, body: { graceSeconds: 3600 } });
    expect(rotated.status, rotated.text).toBe(200);
    const newSecret = rotated.body.secret as string;
    expect(newSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(newSecret).not.toBe(oldSecret);

    const endpoint = await stubEndpoint(new Response("ok"));
    const { deliveryIds } = await publishEvent(key, "invoice.paid");
    await runDeliveryConsumer(deliveryIds);
    const c = endpoint.calls[0]!;
    // One signature per live secret in each header.
    expect(c.headers.get("x-webhook-signature")).toMatch(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(c.headers.get("webhook-signature")).toMatch(/^v1,[A-Za-z0-9+/]{43}= v1,[A-Za-z0-9+/]{43}=$/);
    await expectBothVerify(c, oldSecret);
    await expectBothVerify(c, newSecret);
    await expectNeitherVerifies(c, (await deliverySetup()).secret);
  });

  it("after a rotation with graceSeconds 0 only the new secret verifies", async () => {
    await stubDeliveryQueue();
    const { key, webhookId, secret: oldSecret } = await deliverySetup();
    const rotated = await call("POST", `/v1/webhooks/${webhookId}/rotate-secret`, { key, body: { graceSeconds: 0 } });
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body.previousSecretExpiresAt).toBeNull();
    const newSecret = rotated.body.secret as string;

    const endpoint = await stubEndpoint(new Response("ok"));
    const { deliveryIds } = await publishEvent(key, "invoice.paid");
    await runDeliveryConsumer(deliveryIds);
    const c = endpoint.calls[0]!;
    expect(c.headers.get("x-webhook-signature")).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(c.headers.get("webhook-signature")).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    await expectBothVerify(c, newSecret);
    await expectNeitherVerifies(c, oldSecret);
  });

  it("a rotation without a body defaults to no grace", async () => {
    await stubDeliveryQueue();
    const { key, webhookId, secret: oldSecret } = await deliverySetup();
    const rotated = await call("POST", `/v1/webhooks/${webhookId}/rotate-secret`, { key });
    expect(rotated.status, rotated.text).toBe(200);
    const endpoint = await stubEndpoint(new Response("ok"));
    const { deliveryIds } = await publishEvent(key, "invoice.paid");
    await runDeliveryConsumer(deliveryIds);
    await expectBothVerify(endpoint.calls[0]!, rotated.body.secret);
    await expectNeitherVerifies(endpoint.calls[0]!, oldSecret);
  });
});

describe("the attempt log", () => {
  it("records each attempt with redacted headers and the exact body", async () => {
    await stubDeliveryQueue();
    const setup = await deliverySetup({
      webhook: { headers: { Authorization: "Bearer endpoint-token-123", "X-Api-Key": "k-999", "X-Team": "billing" } },
    });
    const { key, secret, webhookId } = setup;
    const endpoint = await stubEndpoint((_c, n) =>
      n === 1 ? new Response("boom", { status: 500 }) : new Response("fine", { status: 201 }),
    );
    const { deliveryIds, eventId } = await publishEvent(key, "invoice.paid");
    const id = deliveryIds[0]!;
    const before = Date.now();
    await runDeliveryConsumer([id]);
    await runDeliveryConsumer([id]);
    const after = Date.now();

    const d = await getDelivery(key, id);
    expect(d).toMatchObject({
      id,
      eventId,
      eventType: "invoice.paid",
      webhookId,
      status: "succeeded",
      attemptCount: 2,
      lastStatusCode: 201,
      nextAttemptAt: null,
    });
    expect(d.attempts).toHaveLength(2);
    const [first, second] = d.attempts;
    expect(Object.keys(first).sort()).toEqual([
      "at",
      "attempt",
      "durationMs",
      "error",
      "requestBody",
      "requestHeaders",
      "responseBody",
      "statusCode",
    ]);
    expect(first).toMatchObject({ attempt: 1, statusCode: 500, responseBody: "boom", error: "http" });
    expect(second).toMatchObject({ attempt: 2, statusCode: 201, responseBody: "fine", error: null });
    for (const [i, a] of d.attempts.entries()) {
      expect(a.at).toMatch(ISO);
      expect(Date.parse(a.at)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(a.at)).toBeLessThanOrEqual(after + 1000);
      expect(Number.isInteger(a.durationMs)).toBe(true);
      expect(a.durationMs).toBeGreaterThanOrEqual(0);
      const sent = endpoint.calls[i]!;
      expect(a.requestBody).toBe(sent.body);
      const h = a.requestHeaders as Record<string, string>;
      expect(h["X-Webhook-Signature"]).toBe("[redacted]");
      expect(h["webhook-signature"]).toBe("[redacted]");
      // The endpoint's own headers are masked as reads mask them, whatever their names.
      expect(h.Authorization).toBe("****-123");
      expect(h["X-Api-Key"]).toBe("****-999");
      expect(h["X-Team"]).toBe("****ling");
      expect(h["X-Webhook-Attempt"]).toBe(String(i + 1));
      expect(h["X-Webhook-Event-Id"]).toBe(eventId);
      expect(h["X-Webhook-Timestamp"]).toBe(sent.headers.get("x-webhook-timestamp"));
      expect(h["User-Agent"]).toBe(`Hookgate/${pkg.version}`);
      expect(h["Content-Type"]).toBe("application/json");
      expect(JSON.stringify(h)).not.toContain("endpoint-token-123");
      expect(JSON.stringify(h)).not.toContain("k-999");
    }

    // The secret (nor its key bytes, nor a signature) appears in the API, in the stored attempt rows, or in the audit log.
    const secretForms = [secret, secret.slice("whsec_".length)];
    const signatures = endpoint.calls.flatMap((c) => [c.headers.get("x-webhook-signature")!, c.headers.get("webhook-signature")!]);
    const apiText = (await call("GET", `/v1/deliveries/${id}`, { key })).text;
    const listText = (await call("GET", `/v1/deliveries?webhookId=${webhookId}`, { key })).text;
    const webhookText = (await call("GET", `/v1/webhooks/${webhookId}`, { key })).text;
    const rows = await dataRows(setup.tenantId, "attempts", "webhook_id = ?", webhookId);
    expect(rows).toHaveLength(2);
    const audit = await env.DB.prepare("SELECT * FROM audit_log WHERE tenant_id = ?").bind(setup.tenantId).all();
    const auditApi = (await call("GET", "/v1/audit-log?limit=100", { key })).text;
    for (const text of [apiText, listText, webhookText, JSON.stringify(rows), JSON.stringify(audit.results), auditApi]) {
      for (const s of [...secretForms, ...signatures]) expect(text).not.toContain(s);
    }
    expect(JSON.parse(webhookText).secretLast4).toBe(secret.slice(-4));
  });

  it("stores at most 4096 bytes of a long response body", async () => {
    const { key, deliveryId, tenantId } = await deliverOnce({ status: 500 });
    vi.restoreAllMocks();
    await stubDeliveryQueue();
    const big = "x".repeat(10_000);
    await stubEndpoint(new Response(big, { status: 500 }));
    await runDeliveryConsumer([deliveryId]);
    const d = await getDelivery(key, deliveryId);
    expect(d.attempts[0].responseBody).toBe("thanks");
    expect(d.attempts[1].responseBody).toBe("x".repeat(4096));
    const [row] = await shardSql<{ n: number }>(
      tenantId,
      deliveryId,
      "SELECT length(response_body) AS n FROM attempts WHERE delivery_id = ? AND attempt = 2",
      deliveryId,
    );
    expect(row!.n).toBe(4096);
  });

  it("never stores more than 4096 bytes when the cut falls inside a multi-byte character", async () => {
    const { key, deliveryId, tenantId } = await deliverOnce({ status: 500 });
    vi.restoreAllMocks();
    await stubDeliveryQueue();
    // "€" is 3 bytes in UTF-8: 4096 bytes end one byte into the 1366th.
    await stubEndpoint(new Response("€".repeat(3000), { status: 500 }));
    await runDeliveryConsumer([deliveryId]);
    const d = await getDelivery(key, deliveryId);
    const stored = d.attempts[1].responseBody as string;
    expect(new TextEncoder().encode(stored).byteLength).toBeLessThanOrEqual(4096);
    expect(stored).toBe("€".repeat(1365));
    const [row] = await shardSql<{ n: number }>(
      tenantId,
      deliveryId,
      "SELECT length(CAST(response_body AS BLOB)) AS n FROM attempts WHERE delivery_id = ? AND attempt = 2",
      deliveryId,
    );
    expect(row!.n).toBeLessThanOrEqual(4096);
  });

  it("a streamed body larger than 4 KiB is cut at 4096 bytes too", async () => {
    const { key, deliveryId } = await deliverOnce({ status: 503 });
    vi.restoreAllMocks();
    await stubDeliveryQueue();
    await stubEndpoint(() => {
      const chunk = new TextEncoder().encode("y".repeat(1000));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 50) controller.enqueue(chunk);
          else controller.close();
        },
      });
      return new Response(stream, { status: 500 });
    });
    await runDeliveryConsumer([deliveryId]);
    const d = await getDelivery(key, deliveryId);
    expect(d.attempts[1].responseBody).toBe("y".repeat(4096));
  });
});
