import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  call,
  callWithEnv,
  deliverySetup,
  type FakeCall,
  newOperatorEndpoint,
  newOperatorType,
  newTenant,
  runDeliveryConsumer,
  stubDeliveryQueue,
  stubEndpoint,
} from "./helpers";

/**
 * A change to a subscription applies to the very next delivery in the
 * isolate that made it: the publish's cached subscriber list is dropped by
 * every write, so an inline first attempt right after the change already
 * uses the new row. Each test warms the cache with a publish first.
 */

afterEach(() => vi.restoreAllMocks());

const stripeCrypto = Stripe.createSubtleCryptoProvider();

/** Whether `secret` produced one of the request's signatures, in both schemes (they must agree). */
async function signedWith(c: FakeCall, secret: string): Promise<boolean> {
  let stripe = true;
  try {
    await Stripe.webhooks.constructEventAsync(c.body, c.headers.get("x-webhook-signature")!, secret, undefined, stripeCrypto);
  } catch {
    stripe = false;
  }
  let standard = true;
  try {
    new Webhook(secret).verify(c.body, {
      "webhook-id": c.headers.get("webhook-id")!,
      "webhook-timestamp": c.headers.get("webhook-timestamp")!,
      "webhook-signature": c.headers.get("webhook-signature")!,
    });
  } catch {
    standard = false;
  }
  expect(standard, "the two schemes agree").toBe(stripe);
  return stripe;
}

const INLINE = { FIRST_ATTEMPT: "inline" };
/** A publish whose first attempts run inline, within the request (as in production). */
async function publishInline(key: string, data: unknown = { amount: 1 }, type = "invoice.paid") {
  const r = await callWithEnv(INLINE, "POST", "/v1/events", { key, body: { type, data } });
  expect(r.status, r.text).toBe(202);
  return r.body as { id: string; deliveries: { id: string; webhookId: string; status: string }[] };
}

/** A subscription whose deliveries have been going out inline (so this isolate holds its subscriber list). */
async function warmed(webhook: Record<string, unknown> = {}, tenant: Record<string, unknown> = {}) {
  const setup = await deliverySetup({ webhook, tenant });
  const queue = await stubDeliveryQueue();
  const endpoint = await stubEndpoint(new Response("ok"));
  await publishInline(setup.key);
  expect(endpoint.calls, "the warm-up delivery went out inline").toHaveLength(1);
  expect(await signedWith(endpoint.calls[0]!, setup.secret)).toBe(true);
  return { ...setup, queue, endpoint };
}

describe("rotate-secret: the next delivery after the answer", () => {
  it("graceSeconds 0: is signed with the new secret only", async () => {
    const w = await warmed();
    const rotated = await call("POST", `/v1/webhooks/${w.webhookId}/rotate-secret`, { key: w.key, body: { graceSeconds: 0 } });
    expect(rotated.status, rotated.text).toBe(200);
    await publishInline(w.key);
    const sent = w.endpoint.calls[1]!;
    expect(await signedWith(sent, rotated.body.secret)).toBe(true);
    expect(await signedWith(sent, w.secret)).toBe(false);
    expect(sent.headers.get("x-webhook-signature")).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  });

  it("graceSeconds 3600: carries both signatures", async () => {
    const w = await warmed();
    const rotated = await call("POST", `/v1/webhooks/${w.webhookId}/rotate-secret`, { key: w.key, body: { graceSeconds: 3600 } });
    expect(rotated.status, rotated.text).toBe(200);
    await publishInline(w.key);
    const sent = w.endpoint.calls[1]!;
    expect(sent.headers.get("x-webhook-signature")).toMatch(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(await signedWith(sent, rotated.body.secret)).toBe(true);
    expect(await signedWith(sent, w.secret)).toBe(true);
  });

  it("an operator endpoint's rotation (/admin/webhooks) signs its next delivery with the new secret", async () => {
    const type = await newOperatorType();
    const { tenant } = await newTenant();
    const hook = await newOperatorEndpoint({ eventTypes: [type.name] });
    await stubDeliveryQueue();
    const endpoint = await stubEndpoint(new Response("ok"));
    const fire = () =>
      callWithEnv(INLINE, "POST", `/admin/tenants/${tenant.id}/events`, { admin: true, body: { type: type.name, data: {} } });
    try {
      expect((await fire()).status).toBe(202);
      const mine = () => endpoint.calls.filter((c) => c.url === "https://ops.example.com/hook");
      expect(mine()).toHaveLength(1);
      const rotated = await call("POST", `/admin/webhooks/${hook.id}/rotate-secret`, { admin: true, body: { graceSeconds: 0 } });
      expect(rotated.status, rotated.text).toBe(200);
      expect((await fire()).status).toBe(202);
      expect(mine()).toHaveLength(2);
      expect(await signedWith(mine()[1]!, rotated.body.secret)).toBe(true);
      expect(await signedWith(mine()[1]!, hook.secret)).toBe(false);
    } finally {
      // Operator endpoints reach every tenant: this one must not outlive the test.
      await call("DELETE", `/admin/webhooks/${hook.id}`, { admin: true });
    }
  });

  it("an ordered line run on in place: the delivery after the rotation is signed with the new secret", async () => {
    const setup = await deliverySetup({ webhook: { ordering: "key" } });
    await stubDeliveryQueue();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const endpoint = await stubEndpoint(async (_c, n) => {
      if (n === 1) await gate;
      return new Response("ok");
    });
    const publish = async (n: number) =>
      (await call("POST", "/v1/events", { key: setup.key, body: { type: "invoice.paid", data: { n }, orderingKey: "k" } })).body
        .deliveries[0].id as string;
    const [first] = [await publish(1), await publish(2)];
    // The head is in flight; the second waits for its turn and will be run in place right after it.
    const running = runDeliveryConsumer([first!]);
    for (let i = 0; i < 200 && endpoint.calls.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(endpoint.calls).toHaveLength(1);
    const rotated = await call("POST", `/v1/webhooks/${setup.webhookId}/rotate-secret`, { key: setup.key, body: { graceSeconds: 0 } });
    expect(rotated.status, rotated.text).toBe(200);
    release();
    await running;
    expect(endpoint.calls.map((c) => JSON.parse(c.body).data.n)).toEqual([1, 2]);
    expect(await signedWith(endpoint.calls[1]!, rotated.body.secret)).toBe(true);
    expect(await signedWith(endpoint.calls[1]!, setup.secret)).toBe(false);
  });
});

describe("PATCH and DELETE: the next delivery after the answer", () => {
  it("url, headers, format and customFields", async () => {
    const w = await warmed({ headers: { "X-Team": "billing" } });
    const patch = {
      url: "https://elsewhere.example.com/in",
      headers: { "X-Team": "payments" },
      format: "form",
      customFields: { region: "eu" },
    };
    const patched = await call("PATCH", `/v1/webhooks/${w.webhookId}`, { key: w.key, body: patch });
    expect(patched.status, patched.text).toBe(200);
    await publishInline(w.key);
    const sent = w.endpoint.calls[1]!;
    expect(sent.url).toBe("https://elsewhere.example.com/in");
    expect(sent.headers.get("x-team")).toBe("payments");
    expect(sent.headers.get("content-type")).toMatch(/^application\/x-www-form-urlencoded/);
    expect(new URLSearchParams(sent.body).get("region")).toBe("eu");
  });

  it("filter and eventTypes: an event no longer matched gets no delivery", async () => {
    const w = await warmed();
    const other = await call("POST", "/v1/event-types", { key: w.key, body: { name: "invoice.voided" } });
    expect(other.status).toBe(201);
    const filtered = await call("PATCH", `/v1/webhooks/${w.webhookId}`, {
      key: w.key,
      body: { filter: { data: { amount: { $gte: 100 } } } },
    });
    expect(filtered.status, filtered.text).toBe(200);
    expect((await publishInline(w.key, { amount: 1 })).deliveries).toEqual([]);
    expect((await publishInline(w.key, { amount: 100 })).deliveries).toHaveLength(1);
    const retyped = await call("PATCH", `/v1/webhooks/${w.webhookId}`, { key: w.key, body: { eventTypes: ["invoice.voided"] } });
    expect(retyped.status, retyped.text).toBe(200);
    expect((await publishInline(w.key, { amount: 100 })).deliveries).toEqual([]);
    expect((await publishInline(w.key, { amount: 100 }, "invoice.voided")).deliveries).toHaveLength(1);
    expect(w.endpoint.calls).toHaveLength(3);
  });

  it("isEnabled: false and DELETE: no delivery", async () => {
    const w = await warmed();
    expect((await call("PATCH", `/v1/webhooks/${w.webhookId}`, { key: w.key, body: { isEnabled: false } })).status).toBe(200);
    expect((await publishInline(w.key)).deliveries).toEqual([]);
    expect((await call("PATCH", `/v1/webhooks/${w.webhookId}`, { key: w.key, body: { isEnabled: true } })).status).toBe(200);
    expect((await publishInline(w.key)).deliveries).toHaveLength(1);
    expect((await call("DELETE", `/v1/webhooks/${w.webhookId}`, { key: w.key })).status).toBe(204);
    expect((await publishInline(w.key)).deliveries).toEqual([]);
    expect(w.endpoint.calls).toHaveLength(2);
  });

  it("maxConcurrency: the next first attempt waits for the one in flight", async () => {
    const w = await warmed();
    expect((await call("PATCH", `/v1/webhooks/${w.webhookId}`, { key: w.key, body: { maxConcurrency: 1 } })).status).toBe(200);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    await w.endpoint.answerWith(async () => {
      await gate;
      return new Response("ok");
    });
    const first = callWithEnv(INLINE, "POST", "/v1/events", { key: w.key, body: { type: "invoice.paid", data: { n: 1 } } });
    for (let i = 0; i < 200 && w.endpoint.calls.length === 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(w.endpoint.calls).toHaveLength(2);
    // Published while the first is in flight: its attempt waits (then goes to the queue), never a second request at once.
    const second = await publishInline(w.key, { n: 2 });
    expect(w.endpoint.calls).toHaveLength(2);
    expect(w.queue.sent().map((m) => m.deliveryId)).toContain(second.deliveries[0]!.id);
    release();
    await first;
  });

  it("a 410 Gone: the next publish creates no delivery", async () => {
    const w = await warmed();
    await w.endpoint.answerWith(new Response("gone", { status: 410 }));
    expect((await publishInline(w.key)).deliveries).toHaveLength(1);
    expect((await call("GET", `/v1/webhooks/${w.webhookId}`, { key: w.key })).body).toMatchObject({ disabledReason: "gone" });
    expect((await publishInline(w.key)).deliveries).toEqual([]);
    expect(w.endpoint.calls).toHaveLength(2);
  });

  it("a tenant's retrySchedule: the next failed first attempt is retried on the new schedule", async () => {
    const w = await warmed();
    const patched = await call("PATCH", `/admin/tenants/${w.tenantId}`, { admin: true, body: { retrySchedule: ["10s"] } });
    expect(patched.status, patched.text).toBe(200);
    await w.endpoint.answerWith(new Response("down", { status: 500 }));
    const published = await publishInline(w.key);
    const retry = w.queue.messages.find((m) => m.body.deliveryId === published.deliveries[0]!.id);
    expect(retry?.delaySeconds).toBeGreaterThanOrEqual(10);
    expect(retry?.delaySeconds).toBeLessThanOrEqual(11);
  });
});

describe("a change made in another isolate", () => {
  it("reaches this isolate's next publish and attempt within 2 s of its cached copies' reads (subscription and tenant)", async () => {
    let clock = Date.now();
    vi.spyOn(Date, "now").mockImplementation(() => clock);
    const start = clock;
    const w = await warmed();
    // Written by another isolate: D1 changes, and nothing is dropped in this one.
    await env.DB.prepare("UPDATE webhooks SET url = ? WHERE id = ?").bind("https://moved.example.com/in", w.webhookId).run();
    await env.DB.prepare("UPDATE tenants SET retry_schedule = ? WHERE id = ?").bind("[10]", w.tenantId).run();
    await w.endpoint.answerWith(new Response("down", { status: 500 }));

    clock = start + 1_999;
    const early = await publishInline(w.key);
    expect(w.endpoint.calls[1]!.url, "still this isolate's copy").toBe("https://hooks.example.com/x");
    expect(w.queue.messages.find((m) => m.body.deliveryId === early.deliveries[0]!.id)?.delaySeconds).toBeGreaterThanOrEqual(60);

    clock = start + 2_000;
    const late = await publishInline(w.key);
    expect(w.endpoint.calls[2]!.url).toBe("https://moved.example.com/in");
    const retry = w.queue.messages.find((m) => m.body.deliveryId === late.deliveries[0]!.id);
    expect(retry?.delaySeconds).toBeGreaterThanOrEqual(10);
    expect(retry?.delaySeconds).toBeLessThanOrEqual(11);
  });
});
