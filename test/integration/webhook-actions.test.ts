import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { afterEach, describe, expect, it, vi } from "vitest";
import pkg from "../../package.json";
import { governorFor } from "../../src/objects";
import { dataRows } from "./data-plane";
import {
  call,
  deliverySetup,
  expectProblem,
  type FakeCall,
  fieldError,
  publishEvent,
  runDeliveryConsumer,
  stubDeliveryQueue,
  stubEndpoint,
} from "./helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

const stripeCrypto = Stripe.createSubtleCryptoProvider();
const RESULT_FIELDS = ["durationMs", "responseBody", "statusCode", "success"];

async function verifiesWith(c: FakeCall, secret: string): Promise<boolean> {
  let stripeOk = true;
  let standardOk = true;
  try {
    await Stripe.webhooks.constructEventAsync(c.body, c.headers.get("x-webhook-signature")!, secret, undefined, stripeCrypto);
  } catch {
    stripeOk = false;
  }
  try {
    new Webhook(secret).verify(c.body, {
      "webhook-id": c.headers.get("webhook-id")!,
      "webhook-timestamp": c.headers.get("webhook-timestamp")!,
      "webhook-signature": c.headers.get("webhook-signature")!,
    });
  } catch {
    standardOk = false;
  }
  expect(stripeOk, "both libraries agree").toBe(standardOk);
  return stripeOk;
}

type AttemptRow = {
  delivery_id: string | null;
  status_code: number | null;
  error: string | null;
  attempt: number;
  at: number;
  response_body: string | null;
  request_headers: string;
  request_body: string | null;
};

/** The webhook's logged attempts (in the tenant's data shards), oldest first. */
async function attemptRows(tenantId: string, webhookId: string) {
  const rows = (await dataRows(tenantId, "attempts", "webhook_id = ?", webhookId)) as AttemptRow[];
  return rows.sort((a, b) => a.at - b.at);
}

describe("POST /v1/webhooks/:id/test", () => {
  it("sends a signed sample now and reports a 200", async () => {
    const { key, webhookId, secret } = await deliverySetup({ webhook: { headers: { "X-Team": "billing" } } });
    const endpoint = await stubEndpoint(new Response("received!", { status: 200 }));
    const res = await call("POST", `/v1/webhooks/${webhookId}/test`, { key, body: {} });
    expect(res.status, res.text).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(RESULT_FIELDS);
    expect(res.body).toMatchObject({ success: true, statusCode: 200, responseBody: "received!" });
    expect(Number.isInteger(res.body.durationMs)).toBe(true);
    expect(res.body.durationMs).toBeGreaterThanOrEqual(0);

    expect(endpoint.calls).toHaveLength(1);
    const c = endpoint.calls[0]!;
    expect(c.url).toBe("https://hooks.example.com/x");
    expect(c.init.method).toBe("POST");
    expect(c.init.redirect).toBe("manual");
    const body = JSON.parse(c.body);
    expect(Object.keys(body)).toEqual(["id", "type", "createdAt", "data"]);
    expect(body.type).toBe("invoice.paid");
    expect(body.id).toMatch(/^evt_/);
    expect(c.headers.get("x-webhook-event-id")).toBe(body.id);
    expect(c.headers.get("x-webhook-event-type")).toBe("invoice.paid");
    expect(c.headers.get("x-webhook-attempt")).toBe("1");
    expect(c.headers.get("user-agent")).toBe(`Hookgate/${pkg.version}`);
    expect(c.headers.get("x-team")).toBe("billing");
    expect(await verifiesWith(c, secret)).toBe(true);
  });

  it("reports a 500 with the body and error `http`", async () => {
    const { key, webhookId } = await deliverySetup();
    await stubEndpoint(new Response('{"error":"boom"}', { status: 500 }));
    const res = await call("POST", `/v1/webhooks/${webhookId}/test`, { key, body: {} });
    expect(res.status, res.text).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual([...RESULT_FIELDS, "error"].sort());
    expect(res.body).toMatchObject({ success: false, statusCode: 500, responseBody: '{"error":"boom"}', error: "http" });
  });

  it("cuts the response body at 4 KiB", async () => {
    const { key, webhookId } = await deliverySetup();
    await stubEndpoint(new Response("z".repeat(9000), { status: 200 }));
    const res = await call("POST", `/v1/webhooks/${webhookId}/test`, { key, body: {} });
    expect(res.body.success).toBe(true);
    expect(res.body.responseBody).toBe("z".repeat(4096));
  });

  it("reports a network failure, a timeout and a redirect", async () => {
    const { key, webhookId } = await deliverySetup();
    const endpoint = await stubEndpoint(() => Promise.reject(new TypeError("Network connection lost.")));
    const lost = await call("POST", `/v1/webhooks/${webhookId}/test`, { key, body: {} });
    expect(lost.body).toMatchObject({ success: false, statusCode: null, responseBody: null, error: "connection" });
    await endpoint.answerWith(() => Promise.reject(new DOMException("timed out", "TimeoutError")));
    const slow = await call("POST", `/v1/webhooks/${webhookId}/test`, { key, body: {} });
    expect(slow.body).toMatchObject({ success: false, statusCode: null, error: "timeout" });
    await endpoint.answerWith(() => new Response(null, { status: 302, headers: { Location: "https://elsewhere.example.com" } }));
    const moved = await call("POST", `/v1/webhooks/${webhookId}/test`, { key, body: {} });
    expect(moved.body).toMatchObject({ success: false, statusCode: 302, error: "redirect" });
    expect(endpoint.calls).toHaveLength(3);
  });

  it("uses the requested type; an unknown one is 422", async () => {
    const { key, webhookId } = await deliverySetup({ types: ["invoice.paid", "invoice.voided"] });
    const endpoint = await stubEndpoint(new Response("ok"));
    const res = await call("POST", `/v1/webhooks/${webhookId}/test`, { key, body: { type: "invoice.voided" } });
    expect(res.body.success).toBe(true);
    expect(endpoint.calls[0]!.headers.get("x-webhook-event-type")).toBe("invoice.voided");
    expect(JSON.parse(endpoint.calls[0]!.body).type).toBe("invoice.voided");
    const bad = await call("POST", `/v1/webhooks/${webhookId}/test`, { key, body: { type: "nope.nope" } });
    expectProblem(bad, 422, "validation_failed");
    fieldError(bad, "type");
    expect(endpoint.calls).toHaveLength(1);
  });

  it("works without a body, and for a wildcard subscription", async () => {
    const { key, webhookId } = await deliverySetup({ webhook: { eventTypes: ["*"] } });
    const endpoint = await stubEndpoint(new Response("ok"));
    const res = await call("POST", `/v1/webhooks/${webhookId}/test`, { key });
    expect(res.status, res.text).toBe(200);
    expect(res.body.success).toBe(true);
    expect(endpoint.calls[0]!.headers.get("x-webhook-event-type")).toEqual(expect.stringMatching(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/));
  });

  it("is logged as a test: an attempt row with no delivery that keeps the body it sent, not counted in stats", async () => {
    const { key, webhookId, secret, tenantId } = await deliverySetup({ webhook: { headers: { Authorization: "Bearer t0k3n-abc" } } });
    const endpoint = await stubEndpoint(new Response("nope", { status: 500 }));
    await call("POST", `/v1/webhooks/${webhookId}/test`, { key, body: {} });
    await endpoint.answerWith(new Response("ok", { status: 200 }));
    await call("POST", `/v1/webhooks/${webhookId}/test`, { key, body: {} });
    const rows = await attemptRows(tenantId, webhookId);
    expect(rows).toHaveLength(2);
    for (const [i, row] of rows.entries()) {
      expect(row.delivery_id).toBeNull();
      expect(row.request_body).toBe(endpoint.calls[i]!.body);
      expect(JSON.parse(row.request_body!).data).toMatchObject({ test: true });
      expect(row.attempt).toBe(1);
      const headers = JSON.parse(row.request_headers);
      expect(headers["X-Webhook-Signature"]).toBe("[redacted]");
      expect(headers["webhook-signature"]).toBe("[redacted]");
      expect(headers.Authorization).toBe("****-abc");
      expect(JSON.stringify(row)).not.toContain(secret);
      expect(JSON.stringify(row)).not.toContain("t0k3n-abc");
    }
    expect(rows.map((r) => [r.status_code, r.error, r.response_body])).toEqual([
      [500, "http", "nope"],
      [200, null, "ok"],
    ]);
    // No delivery was created, and stats ignore test sends.
    expect((await call("GET", `/v1/deliveries?webhookId=${webhookId}`, { key })).body.data).toEqual([]);
    const stats = await call("GET", `/v1/webhooks/${webhookId}/stats`, { key });
    expect(stats.body).toMatchObject({ attempts24h: 0, successRate24h: null, p50Ms: null, p95Ms: null, consecutiveFailures: 0 });
  });

  it("404 for another tenant's webhook or an unknown one; no request is sent", async () => {
    const a = await deliverySetup();
    const b = await deliverySetup();
    const endpoint = await stubEndpoint(new Response("ok"));
    expectProblem(await call("POST", `/v1/webhooks/${a.webhookId}/test`, { key: b.key, body: {} }), 404, "not_found");
    expectProblem(await call("POST", "/v1/webhooks/wh_doesnotexist/test", { key: a.key, body: {} }), 404, "not_found");
    expect(endpoint.calls).toHaveLength(0);
  });

  it("refuses unknown body fields with 422", async () => {
    const { key, webhookId } = await deliverySetup();
    const endpoint = await stubEndpoint(new Response("ok"));
    const res = await call("POST", `/v1/webhooks/${webhookId}/test`, { key, body: { typo: 1 } });
    expectProblem(res, 422, "validation_failed");
    expect(endpoint.calls).toHaveLength(0);
  });
});

describe("GET /v1/webhooks/:id/stats", () => {
  it("starts empty", async () => {
    const { key, webhookId } = await deliverySetup();
    const res = await call("GET", `/v1/webhooks/${webhookId}/stats`, { key });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({
      state: "closed",
      nextProbeAt: null,
      disabledReason: null,
      consecutiveFailures: 0,
      attempts24h: 0,
      successRate24h: null,
      p50Ms: null,
      p95Ms: null,
      series: Array.from({ length: 24 }, () => ({ start: expect.any(String), succeeded: 0, failed: 0 })),
    });
  });

  it("counts the last 24 h of delivery attempts and the breaker's count", async () => {
    await stubDeliveryQueue();
    const { key, webhookId } = await deliverySetup();
    const endpoint = await stubEndpoint(new Response("ok"));
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await publishEvent(key, "invoice.paid", { i })).deliveryIds[0]!);
    await runDeliveryConsumer(ids.slice(0, 3));
    await endpoint.answerWith(new Response("", { status: 500 }));
    await runDeliveryConsumer([ids[3]!]);
    await runDeliveryConsumer([ids[3]!]);
    const res = await call("GET", `/v1/webhooks/${webhookId}/stats`, { key });
    expect(res.body).toMatchObject({ state: "closed", disabledReason: null, consecutiveFailures: 2, attempts24h: 5 });
    expect(res.body.successRate24h).toBeCloseTo(3 / 5, 10);
    expect(res.body.p50Ms).toEqual(expect.any(Number));
    expect(res.body.p95Ms).toBeGreaterThanOrEqual(res.body.p50Ms);
  });

  it("computes the success rate and p50/p95 from the attempts' durations", async () => {
    const { key, webhookId } = await deliverySetup();
    const now = Date.now();
    // Attempts are counted by the subscription's governor as they are recorded.
    const governor = governorFor(env, webhookId);
    const record = (durationMs: number, ok: boolean, at: number) => governor.record(ok, 1000, undefined, durationMs, at);
    // 20 attempts in the last day: 10, 20, ..., 200 ms; every 4th failed (5 of 20).
    for (let i = 1; i <= 20; i++) await record(i * 10, i % 4 !== 0, now - i * 60_000);
    // Not counted: older than 24 h, and a test send.
    await record(99_999, false, now - 25 * 3_600_000);
    const endpoint = await stubEndpoint(new Response("nope", { status: 500 }));
    expect((await call("POST", `/v1/webhooks/${webhookId}/test`, { key, body: {} })).body.success).toBe(false);
    expect(endpoint.calls).toHaveLength(1);
    const res = await call("GET", `/v1/webhooks/${webhookId}/stats`, { key });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ attempts24h: 20, successRate24h: 0.75, p50Ms: 100, p95Ms: 190 });
  });

  it("shows a disabled subscription and why", async () => {
    const { key, webhookId } = await deliverySetup();
    await call("PATCH", `/v1/webhooks/${webhookId}`, { key, body: { isEnabled: false } });
    const res = await call("GET", `/v1/webhooks/${webhookId}/stats`, { key });
    expect(res.body).toMatchObject({ state: "closed", disabledReason: "manual" });
  });

  it("404 for another tenant's webhook", async () => {
    const a = await deliverySetup();
    const b = await deliverySetup();
    expectProblem(await call("GET", `/v1/webhooks/${a.webhookId}/stats`, { key: b.key }), 404, "not_found");
  });
});

describe("POST /v1/webhooks/:id/rotate-secret", () => {
  it("returns a new whsec_ secret once; secretLast4 changes; the audit entry holds no secret", async () => {
    const { key, webhookId, secret: oldSecret, tenantId } = await deliverySetup();
    expect((await call("GET", `/v1/webhooks/${webhookId}`, { key })).body.secretLast4).toBe(oldSecret.slice(-4));
    const res = await call("POST", `/v1/webhooks/${webhookId}/rotate-secret`, { key, body: {} });
    expect(res.status, res.text).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(["previousSecretExpiresAt", "secret"]);
    const newSecret = res.body.secret as string;
    expect(newSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(newSecret.slice(6))).toHaveLength(32);
    expect(newSecret).not.toBe(oldSecret);
    expect(res.body.previousSecretExpiresAt).toBeNull();

    const wh = await call("GET", `/v1/webhooks/${webhookId}`, { key });
    expect(wh.body.secretLast4).toBe(newSecret.slice(-4));
    expect(wh.text).not.toContain(newSecret);
    expect(wh.body).not.toHaveProperty("secret");

    const audit = await call("GET", "/v1/audit-log?action=webhook.secret_rotated", { key });
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0]).toMatchObject({ action: "webhook.secret_rotated", target: webhookId, details: { graceSeconds: 0 } });
    expect(audit.body.data[0].actor).toMatch(/^key_/);
    const allAudit = await call("GET", "/v1/audit-log?limit=100", { key });
    const rows = await env.DB.prepare("SELECT * FROM audit_log WHERE tenant_id = ?").bind(tenantId).all();
    // Nor is the secret stored in clear in D1.
    const webhookRow = await env.DB.prepare("SELECT * FROM webhooks WHERE id = ?").bind(webhookId).first();
    for (const text of [audit.text, allAudit.text, JSON.stringify(rows.results), JSON.stringify(webhookRow)]) {
      for (const s of [oldSecret, newSecret, oldSecret.slice(6), newSecret.slice(6)]) expect(text).not.toContain(s);
    }
  });

  it("with graceSeconds: the old secret keeps signing until it ends", async () => {
    const { key, webhookId, secret: oldSecret } = await deliverySetup();
    const before = Date.now();
    const res = await call("POST", `/v1/webhooks/${webhookId}/rotate-secret`, { key, body: { graceSeconds: 3600 } });
    expect(res.status, res.text).toBe(200);
    const expires = Date.parse(res.body.previousSecretExpiresAt);
    expect(expires).toBeGreaterThanOrEqual(before + 3_600_000 - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 3_600_000 + 1000);
    const endpoint = await stubEndpoint(new Response("ok"));
    await call("POST", `/v1/webhooks/${webhookId}/test`, { key, body: {} });
    expect(await verifiesWith(endpoint.calls[0]!, oldSecret)).toBe(true);
    expect(await verifiesWith(endpoint.calls[0]!, res.body.secret)).toBe(true);

    // Once the grace period is over only the new secret signs.
    await env.DB.prepare("UPDATE webhooks SET previous_secret_expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1000, webhookId)
      .run();
    await call("POST", `/v1/webhooks/${webhookId}/test`, { key, body: {} });
    expect(await verifiesWith(endpoint.calls[1]!, oldSecret)).toBe(false);
    expect(await verifiesWith(endpoint.calls[1]!, res.body.secret)).toBe(true);
    expect(endpoint.calls[1]!.headers.get("x-webhook-signature")).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  });

  it("graceSeconds 0: only the new secret signs from now", async () => {
    const { key, webhookId, secret: oldSecret } = await deliverySetup();
    const res = await call("POST", `/v1/webhooks/${webhookId}/rotate-secret`, { key, body: { graceSeconds: 0 } });
    const endpoint = await stubEndpoint(new Response("ok"));
    await call("POST", `/v1/webhooks/${webhookId}/test`, { key, body: {} });
    expect(await verifiesWith(endpoint.calls[0]!, oldSecret)).toBe(false);
    expect(await verifiesWith(endpoint.calls[0]!, res.body.secret)).toBe(true);
  });

  it("refuses a bad graceSeconds with 422; 404 for another tenant's webhook", async () => {
    const { key, webhookId, secret } = await deliverySetup();
    for (const graceSeconds of [-1, 604_801, 1.5, "3600"]) {
      const res = await call("POST", `/v1/webhooks/${webhookId}/rotate-secret`, { key, body: { graceSeconds } });
      expectProblem(res, 422, "validation_failed");
      fieldError(res, "graceSeconds");
    }
    const other = await deliverySetup();
    expectProblem(await call("POST", `/v1/webhooks/${webhookId}/rotate-secret`, { key: other.key, body: {} }), 404, "not_found");
    // Nothing changed.
    expect((await call("GET", `/v1/webhooks/${webhookId}`, { key })).body.secretLast4).toBe(secret.slice(-4));
  });
});
