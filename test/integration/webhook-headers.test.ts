import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { dataRows } from "./data-plane";
import {
  allPages,
  call,
  DELIVERY_RATE_LIMITS,
  deliverySetup,
  getDelivery,
  newOperatorEndpoint,
  newTenant,
  publishEvent,
  runDeliveryConsumer,
  stubDeliveryQueue,
  stubEndpoint,
  uniqueTypeName,
} from "./helpers";

/**
 * An endpoint's custom headers are secrets: sealed at rest with the webhook
 * id bound in, masked to their last 4 characters on every read and in the
 * attempt log, and sent in clear only to the endpoint.
 */

afterEach(() => {
  vi.restoreAllMocks();
});

const TOKEN = "Bearer zq7Kx3Wv8Pd2Lm5Nf9f2c";
const HEADERS = { Authorization: TOKEN, "X-Team": "qvbilling", "X-Pin": "1234" };
const MASKED = { Authorization: "****9f2c", "X-Team": "****ling", "X-Pin": "****" };
/** What of the values must never be stored or shown: all but the last 4 characters the hints may keep. */
const HIDDEN = ["zq7Kx3Wv8Pd2Lm5N", "qvbil", "1234"];

type StoredRow = { headers_enc: string | null; header_hints: string | null };

async function storedRow(id: string): Promise<StoredRow & { all: string }> {
  const row = await env.DB.prepare("SELECT * FROM webhooks WHERE id = ?").bind(id).first<Record<string, unknown>>();
  expect(row).not.toBeNull();
  return { headers_enc: row!.headers_enc as string | null, header_hints: row!.header_hints as string | null, all: JSON.stringify(row) };
}

/** `text` holds none of `values`, nor any 5-character piece of one. */
function expectNoPlaintext(text: string, values: string[]) {
  for (const v of values) {
    expect(text).not.toContain(v);
    for (let i = 0; i + 5 <= v.length; i++) expect(text).not.toContain(v.slice(i, i + 5));
  }
}

describe("custom headers at rest", () => {
  it("are stored sealed: headers_enc is an AES-GCM box, header_hints only the last 4 (none for short values)", async () => {
    const { webhookId } = await deliverySetup({ webhook: { headers: HEADERS } });
    const row = await storedRow(webhookId);
    expect(row.headers_enc).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(JSON.parse(row.header_hints!)).toEqual({ Authorization: "9f2c", "X-Team": "ling", "X-Pin": "" });
    expectNoPlaintext(row.all, HIDDEN);
    // The old clear column is gone.
    expect(row.all).not.toContain('"headers"');
  });

  it("none, or an empty map, stores nothing (both columns null)", async () => {
    const none = await deliverySetup();
    expect(await storedRow(none.webhookId)).toMatchObject({ headers_enc: null, header_hints: null });
    const { key } = none;
    const empty = await call("POST", "/v1/webhooks", { key, body: { url: "https://hooks.example.com/e", eventTypes: ["*"], headers: {} } });
    expect(empty.status, empty.text).toBe(201);
    expect(empty.body.headers).toEqual({});
    expect(await storedRow(empty.body.id)).toMatchObject({ headers_enc: null, header_hints: null });
  });

  it("each webhook's box is its own: the same headers seal differently", async () => {
    const a = await deliverySetup({ webhook: { headers: HEADERS } });
    const b = await call("POST", "/v1/webhooks", {
      key: a.key,
      body: { url: "https://hooks.example.com/b", eventTypes: ["*"], headers: HEADERS },
    });
    expect(b.status, b.text).toBe(201);
    expect((await storedRow(a.webhookId)).headers_enc).not.toBe((await storedRow(b.body.id)).headers_enc);
  });
});

describe("custom headers on reads", () => {
  it("create, get, list and PATCH answers show each name with a masked value", async () => {
    const { key, webhookId, webhook } = await deliverySetup({ webhook: { headers: HEADERS } });
    expect(webhook.headers).toEqual(MASKED);
    expect((await call("GET", `/v1/webhooks/${webhookId}`, { key })).body.headers).toEqual(MASKED);
    const list = await allPages("/v1/webhooks", { key });
    expect(list.items.find((w) => w.id === webhookId).headers).toEqual(MASKED);
    const patched = await call("PATCH", `/v1/webhooks/${webhookId}`, { key, body: { description: "only this" } });
    expect(patched.body.headers).toEqual(MASKED);
    for (const text of [JSON.stringify(webhook), patched.text, JSON.stringify(list.items)]) expectNoPlaintext(text, HIDDEN);
  });

  it("the operator's endpoints are masked the same way", async () => {
    const hook = await newOperatorEndpoint({ eventTypes: ["*"], headers: HEADERS });
    expect(hook.body.headers).toEqual(MASKED);
    expect((await call("GET", `/admin/webhooks/${hook.id}`, { admin: true })).body.headers).toEqual(MASKED);
    const list = await allPages("/admin/webhooks", { admin: true });
    expect(list.items.find((w) => w.id === hook.id).headers).toEqual(MASKED);
    const patched = await call("PATCH", `/admin/webhooks/${hook.id}`, { admin: true, body: { headers: { "X-Ops": "Xq9zOpsQk7wvalue" } } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.headers).toEqual({ "X-Ops": "****alue" });
    expectNoPlaintext((await storedRow(hook.id)).all, ["Xq9zOpsQk7w"]);
    expect((await call("DELETE", `/admin/webhooks/${hook.id}`, { admin: true })).status).toBe(204);
  });

  it("masks by characters, not UTF-16 units, and never shows a value of 4 characters or fewer", async () => {
    const { key } = await deliverySetup();
    const res = await call("POST", "/v1/webhooks", {
      key,
      body: { url: "https://hooks.example.com/m", eventTypes: ["*"], headers: { "X-A": "abcde", "X-B": "abcd", "X-C": "x", "X-D": "" } },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.headers).toEqual({ "X-A": "****bcde", "X-B": "****", "X-C": "****", "X-D": "****" });
  });
});

describe("custom headers in deliveries", () => {
  it("a delivery sends the real values; the attempt log masks them and redacts the signatures", async () => {
    await stubDeliveryQueue();
    const { key, webhookId, tenantId } = await deliverySetup({ webhook: { headers: HEADERS } });
    const endpoint = await stubEndpoint(new Response("ok"));
    const { deliveryIds } = await publishEvent(key, "invoice.paid");
    await runDeliveryConsumer(deliveryIds);
    expect(endpoint.calls).toHaveLength(1);
    const sent = endpoint.calls[0]!.headers;
    expect(sent.get("authorization")).toBe(TOKEN);
    expect(sent.get("x-team")).toBe("qvbilling");
    expect(sent.get("x-pin")).toBe("1234");

    const d = await getDelivery(key, deliveryIds[0]!);
    const logged = d.attempts[0].requestHeaders as Record<string, string>;
    expect(logged).toMatchObject({ ...MASKED, "X-Webhook-Signature": "[redacted]", "webhook-signature": "[redacted]" });
    expect(logged["X-Webhook-Event-Type"]).toBe("invoice.paid");
    const attempts = await dataRows(tenantId, "attempts", "webhook_id = ?", webhookId);
    expect(attempts).toHaveLength(1);
    expectNoPlaintext(String(attempts[0]!.request_headers), HIDDEN);
    expectNoPlaintext(JSON.stringify(d), HIDDEN);
  });

  it("a test send carries them too, and logs them masked", async () => {
    const { key, webhookId, tenantId } = await deliverySetup({ webhook: { headers: HEADERS } });
    const endpoint = await stubEndpoint(new Response("ok"));
    const res = await call("POST", `/v1/webhooks/${webhookId}/test`, { key, body: {} });
    expect(res.status, res.text).toBe(200);
    expect(endpoint.calls[0]!.headers.get("authorization")).toBe(TOKEN);
    // A test send is logged with no delivery.
    const [logged] = await dataRows(tenantId, "attempts", "webhook_id = ? AND delivery_id IS NULL", webhookId);
    expect(logged).toBeDefined();
    expect(JSON.parse(String(logged!.request_headers))).toMatchObject(MASKED);
  });

  it("PATCH replaces the whole map: the old headers are no longer sent, null removes them all", async () => {
    await stubDeliveryQueue();
    const { key, webhookId } = await deliverySetup({ webhook: { headers: HEADERS } });
    const endpoint = await stubEndpoint(new Response("ok"));

    const replaced = await call("PATCH", `/v1/webhooks/${webhookId}`, { key, body: { headers: { "X-New": "Zn3wQk8Tvalue" } } });
    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.body.headers).toEqual({ "X-New": "****alue" });
    expect(JSON.parse((await storedRow(webhookId)).header_hints!)).toEqual({ "X-New": "alue" });
    await runDeliveryConsumer((await publishEvent(key, "invoice.paid")).deliveryIds);
    const first = endpoint.calls.at(-1)!.headers;
    expect(first.get("x-new")).toBe("Zn3wQk8Tvalue");
    expect(first.get("authorization")).toBeNull();
    expect(first.get("x-team")).toBeNull();

    const cleared = await call("PATCH", `/v1/webhooks/${webhookId}`, { key, body: { headers: null } });
    expect(cleared.body.headers).toEqual({});
    expect(await storedRow(webhookId)).toMatchObject({ headers_enc: null, header_hints: null });
    await runDeliveryConsumer((await publishEvent(key, "invoice.paid")).deliveryIds);
    const last = endpoint.calls.at(-1)!;
    expect(endpoint.calls).toHaveLength(2);
    expect(last.headers.get("x-new")).toBeNull();
    expect(last.headers.get("x-webhook-event-id")).toMatch(/^evt_/);

    // The audit log names the field, never the values.
    const audit = await call("GET", "/v1/audit-log?limit=100&action=webhook.updated", { key });
    expect(audit.status, audit.text).toBe(200);
    expect(audit.body.data.map((e: any) => e.details.fields)).toEqual([["headers"], ["headers"]]);
    expectNoPlaintext(audit.text, ["Zn3wQk8T"]);
  });

  it("PATCH of other fields keeps the sealed headers as they were", async () => {
    const { key, webhookId } = await deliverySetup({ webhook: { headers: HEADERS } });
    const before = await storedRow(webhookId);
    const res = await call("PATCH", `/v1/webhooks/${webhookId}`, { key, body: { description: "renamed", customFields: { a: 1 } } });
    expect(res.status, res.text).toBe(200);
    expect(await storedRow(webhookId)).toMatchObject({ headers_enc: before.headers_enc, header_hints: before.header_hints });
  });

  it("verify: true sends the headers being stored, on create and on PATCH", async () => {
    const { key } = await newTenant({ rateLimits: DELIVERY_RATE_LIMITS });
    const type = uniqueTypeName("hdr");
    expect((await call("POST", "/v1/event-types", { key, body: { name: type } })).status).toBe(201);
    const endpoint = await stubEndpoint(new Response("ok"));
    const created = await call("POST", "/v1/webhooks", {
      key,
      body: { url: "https://hooks.example.com/v", eventTypes: [type], headers: HEADERS, verify: true },
    });
    expect(created.status, created.text).toBe(201);
    expect(endpoint.calls[0]!.headers.get("authorization")).toBe(TOKEN);

    // Verifying a PATCH that leaves the headers alone sends the stored ones, decrypted.
    const again = await call("PATCH", `/v1/webhooks/${created.body.id}`, {
      key,
      body: { url: "https://hooks.example.com/v2", verify: true },
    });
    expect(again.status, again.text).toBe(200);
    expect(endpoint.calls[1]!.url).toBe("https://hooks.example.com/v2");
    expect(endpoint.calls[1]!.headers.get("x-pin")).toBe("1234");
    const swapped = await call("PATCH", `/v1/webhooks/${created.body.id}`, {
      key,
      body: { headers: { "X-Only": "just-this-one" }, verify: true },
    });
    expect(swapped.status, swapped.text).toBe(200);
    expect(endpoint.calls[2]!.headers.get("x-only")).toBe("just-this-one");
    expect(endpoint.calls[2]!.headers.get("authorization")).toBeNull();
  });
});
