import { env } from "cloudflare:workers";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { shardSql } from "./data-plane";
import { call, expectProblem, fieldError, newKey, newRoomyTenant, type Result } from "./helpers";

const URL_ = "https://hooks.example.com/hookgate";

type Responder = (req: Request) => Response | Promise<Response>;
let fetchSpy: MockInstance<typeof fetch>;
let responder: Responder;

// Outbound sends (verify: true, and any queue consumption) go to this fake.
beforeEach(() => {
  responder = () => new Response("ok", { status: 200 });
  fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => responder(new Request(input, init)));
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** The requests the fake saw for `url`, rebuilt from the spy's arguments. */
function sentTo(url: string): Request[] {
  return fetchSpy.mock.calls.map(([input, init]) => new Request(input, init)).filter((r) => r.url === url);
}

async function createType(key: string, name: string) {
  const res = await call("POST", "/v1/event-types", { key, body: { name } });
  expect(res.status, res.text).toBe(201);
}

async function create(key: string, body: Record<string, unknown> = {}): Promise<Result> {
  return call("POST", "/v1/webhooks", { key, body: { url: URL_, eventTypes: ["*"], ...body } });
}

async function created(key: string, body: Record<string, unknown> = {}) {
  const res = await create(key, body);
  expect(res.status, res.text).toBe(201);
  return res.body;
}

async function storedSecretBox(id: string): Promise<string> {
  const row = await env.DB.prepare("SELECT secret_enc FROM webhooks WHERE id = ?").bind(id).first<{ secret_enc: string }>();
  return row!.secret_enc;
}

describe("PATCH /v1/webhooks/:id", () => {
  it("updates fields, re-validating each", async () => {
    const { key } = await newRoomyTenant();
    await createType(key, "invoice.paid");
    const w = await created(key);

    const res = await call("PATCH", `/v1/webhooks/${w.id}`, {
      key,
      body: {
        url: "https://new.example.com/hooks",
        description: "renamed",
        eventTypes: ["invoice.paid"],
        format: "form",
        headers: { "X-Env": "prod" },
        customFields: { region: "eu" },
      },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      id: w.id,
      url: "https://new.example.com/hooks",
      description: "renamed",
      eventTypes: ["invoice.paid"],
      format: "form",
      // Masked: a value of 4 characters or fewer shows none of them.
      headers: { "X-Env": "****" },
      customFields: { region: "eu" },
      secretLast4: w.secretLast4,
    });
    expect(res.body).not.toHaveProperty("secret");
    const got = await call("GET", `/v1/webhooks/${w.id}`, { key });
    expect(got.body).toEqual(res.body);

    const disabled = await call("PATCH", `/v1/webhooks/${w.id}`, { key, body: { isEnabled: false } });
    expect(disabled.body).toMatchObject({ isEnabled: false, disabledReason: "manual" });
    const enabled = await call("PATCH", `/v1/webhooks/${w.id}`, { key, body: { isEnabled: true } });
    expect(enabled.body).toMatchObject({ isEnabled: true, disabledReason: null });

    const cleared = await call("PATCH", `/v1/webhooks/${w.id}`, { key, body: { description: null, headers: null, customFields: null } });
    expect(cleared.body).toMatchObject({ description: null, headers: {}, customFields: {} });

    for (const [body, path] of [
      // (http:// and loopback depend on ALLOW_INSECURE_URLS: ssrf.test.ts pins it.)
      [{ url: "https://10.0.0.1/" }, "url"],
      [{ url: "https://user:pw@new.example.com/" }, "url"],
      [{ url: "not a url" }, "url"],
      [{ eventTypes: ["nope.nope"] }, "eventTypes.0"],
      [{ eventTypes: ["*", "invoice.paid"] }, "eventTypes"],
      [{ format: "xml" }, "format"],
      [{ headers: { "X-Webhook-Id": "1" } }, "headers.X-Webhook-Id"],
      [{ headers: { "X-A": "1\r\n2" } }, "headers.X-A"],
      [{ customFields: { type: "x" } }, "customFields.type"],
      [{ managedBy: "ifttt" }, "managedBy"],
    ] as const) {
      const bad = await call("PATCH", `/v1/webhooks/${w.id}`, { key, body });
      expectProblem(bad, 422, "validation_failed");
      fieldError(bad, path);
    }
    const after = await call("GET", `/v1/webhooks/${w.id}`, { key });
    expect(after.body).toMatchObject({ url: "https://new.example.com/hooks", eventTypes: ["invoice.paid"], format: "form" });
  });

  it("refuses the secret with 422 (rotate-secret changes it)", async () => {
    const { key } = await newRoomyTenant();
    const w = await created(key);
    const boxBefore = await storedSecretBox(w.id);
    const res = await call("PATCH", `/v1/webhooks/${w.id}`, { key, body: { secret: "a-brand-new-secret-of-enough-length" } });
    expectProblem(res, 422, "validation_failed");
    expect(fieldError(res, "secret").message).toContain("rotate-secret");
    expect(await storedSecretBox(w.id)).toBe(boxBefore);
    expect((await call("GET", `/v1/webhooks/${w.id}`, { key })).body.secretLast4).toBe(w.secretLast4);
  });

  it("an empty patch changes nothing", async () => {
    const { key } = await newRoomyTenant();
    const w = await created(key, { description: "keep" });
    const res = await call("PATCH", `/v1/webhooks/${w.id}`, { key, body: {} });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ url: URL_, description: "keep" });
  });

  for (const [managedBy, shown] of [
    ["zapier", "Zapier"],
    ["n8n", "n8n"],
    ["make", "Make"],
  ] as const) {
    it(`a subscription managed by ${shown} accepts only isEnabled`, async () => {
      const { key } = await newRoomyTenant();
      const w = await created(key, { managedBy });
      expect(w.managedBy).toBe(managedBy);

      const off = await call("PATCH", `/v1/webhooks/${w.id}`, { key, body: { isEnabled: false } });
      expect(off.status, off.text).toBe(200);
      expect(off.body).toMatchObject({ isEnabled: false, managedBy });
      const on = await call("PATCH", `/v1/webhooks/${w.id}`, { key, body: { isEnabled: true } });
      expect(on.body.isEnabled).toBe(true);

      for (const body of [
        { url: "https://elsewhere.example.com/" },
        { description: "mine now" },
        { description: null },
        { eventTypes: ["*"] },
        { isEnabled: false, description: "sneaky" },
      ]) {
        const res = await call("PATCH", `/v1/webhooks/${w.id}`, { key, body });
        expectProblem(res, 403, "managed_subscription");
        expect(res.body.detail).toContain(`managed by ${shown}`);
      }
      const got = await call("GET", `/v1/webhooks/${w.id}`, { key });
      expect(got.body).toMatchObject({ url: URL_, description: null, isEnabled: true, managedBy });

      // Deleting is still allowed (the tool unsubscribes through the API).
      expect((await call("DELETE", `/v1/webhooks/${w.id}`, { key })).status).toBe(204);
    });
  }
});

describe("DELETE /v1/webhooks/:id", () => {
  it("204; the subscription is gone and its pending deliveries are cancelled", async () => {
    const { key, tenant } = await newRoomyTenant();
    await createType(key, "invoice.paid");
    const doomed = await created(key, { eventTypes: ["invoice.paid"] });
    const kept = await created(key, { eventTypes: ["*"], url: "https://kept.example.com/hook" });

    const first = await call("POST", "/v1/events", { key, body: { type: "invoice.paid", data: { n: 1 } } });
    expect(first.status, first.text).toBe(202);
    const second = await call("POST", "/v1/events", { key, body: { type: "invoice.paid", data: { n: 2 } } });
    expect(second.status, second.text).toBe(202);
    const doomedDelivery = (e: Result) => e.body.deliveries.find((d: any) => d.webhookId === doomed.id).id as string;
    // Pretend the first one was already delivered: settled deliveries keep their status.
    const settled = doomedDelivery(first);
    await shardSql(tenant.id, settled, "UPDATE deliveries SET status = 'succeeded' WHERE id = ?", settled);

    const del = await call("DELETE", `/v1/webhooks/${doomed.id}`, { key });
    expect(del.status, del.text).toBe(204);
    expect(del.text).toBe("");

    const e2 = await call("GET", `/v1/events/${second.body.id}`, { key });
    const cancelled = e2.body.deliveries.find((d: any) => d.webhookId === doomed.id);
    expect(cancelled.status).toBe("cancelled");
    const other = e2.body.deliveries.find((d: any) => d.webhookId === kept.id);
    expect(other.status).not.toBe("cancelled");
    const e1 = await call("GET", `/v1/events/${first.body.id}`, { key });
    expect(e1.body.deliveries.find((d: any) => d.webhookId === doomed.id).status).toBe("succeeded");

    expectProblem(await call("GET", `/v1/webhooks/${doomed.id}`, { key }), 404, "not_found");
    expectProblem(await call("PATCH", `/v1/webhooks/${doomed.id}`, { key, body: { isEnabled: true } }), 404, "not_found");
    expectProblem(await call("DELETE", `/v1/webhooks/${doomed.id}`, { key }), 404, "not_found");
    expect((await call("GET", "/v1/webhooks", { key })).body.data.map((w: any) => w.id)).toEqual([kept.id]);

    // New events no longer reach it.
    const third = await call("POST", "/v1/events", { key, body: { type: "invoice.paid", data: { n: 3 } } });
    expect(third.body.deliveries.map((d: any) => d.webhookId)).toEqual([kept.id]);
  });
});

describe("webhooks: tenants and scopes", () => {
  it("another tenant's webhook is a 404 on GET, PATCH and DELETE, and stays untouched", async () => {
    const a = await newRoomyTenant();
    const b = await newRoomyTenant();
    const w = await created(a.key, { description: "a's" });
    expectProblem(await call("GET", `/v1/webhooks/${w.id}`, { key: b.key }), 404, "not_found");
    expectProblem(await call("PATCH", `/v1/webhooks/${w.id}`, { key: b.key, body: { description: "b's" } }), 404, "not_found");
    expectProblem(await call("PATCH", `/v1/webhooks/${w.id}`, { key: b.key, body: { isEnabled: false } }), 404, "not_found");
    expectProblem(await call("DELETE", `/v1/webhooks/${w.id}`, { key: b.key }), 404, "not_found");
    expect((await call("GET", "/v1/webhooks", { key: b.key })).body.data).toEqual([]);
    const got = await call("GET", `/v1/webhooks/${w.id}`, { key: a.key });
    expect(got.body).toMatchObject({ description: "a's", isEnabled: true });
    expectProblem(await call("GET", "/v1/webhooks/wh_doesnotexist", { key: a.key }), 404, "not_found");
  });

  it("reads need webhooks:read and writes webhooks:write", async () => {
    const { key: admin } = await newRoomyTenant();
    const w = await created(admin);
    const reader = await newKey(admin, { scopes: ["webhooks:read"] });
    const writer = await newKey(admin, { scopes: ["webhooks:write"] });
    const eventsOnly = await newKey(admin, { scopes: ["events:read", "events:write"] });

    expect((await call("GET", "/v1/webhooks", { key: reader.key })).status).toBe(200);
    expect((await call("GET", `/v1/webhooks/${w.id}`, { key: reader.key })).status).toBe(200);
    for (const [method, path, body] of [
      ["POST", "/v1/webhooks", { url: URL_, eventTypes: ["*"] }],
      ["PATCH", `/v1/webhooks/${w.id}`, { description: "x" }],
      ["DELETE", `/v1/webhooks/${w.id}`, undefined],
    ] as const) {
      const res = await call(method, path, { key: reader.key, ...(body && { body }) });
      expectProblem(res, 403, "insufficient_scope");
      expect(res.body.requiredScope).toBe("webhooks:write");
    }
    const noRead = await call("GET", `/v1/webhooks/${w.id}`, { key: writer.key });
    expectProblem(noRead, 403, "insufficient_scope");
    expect(noRead.body.requiredScope).toBe("webhooks:read");
    const patched = await call("PATCH", `/v1/webhooks/${w.id}`, { key: writer.key, body: { description: "by writer" } });
    expect(patched.status, patched.text).toBe(200);

    const other = await call("GET", "/v1/webhooks", { key: eventsOnly.key });
    expectProblem(other, 403, "insufficient_scope");
    expect(other.body.requiredScope).toBe("webhooks:read");
  });
});

describe("PATCH with managedBy and verify (any field but secret can change)", () => {
  it("hands an unmanaged subscription to a tool; from then on only isEnabled can change", async () => {
    const { key } = await newRoomyTenant();
    const hook = await created(key);
    const res = await call("PATCH", `/v1/webhooks/${hook.id}`, { key, body: { managedBy: "zapier" } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.managedBy).toBe("zapier");
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key })).body.managedBy).toBe("zapier");
    const refused = await call("PATCH", `/v1/webhooks/${hook.id}`, { key, body: { url: "https://elsewhere.example.com/x" } });
    expectProblem(refused, 403, "managed_subscription");
    expect(refused.body.detail).toContain("managed by Zapier");
    // Unknown tools are refused with the allowed list.
    const other = await created(key, { url: "https://two.example.com/x" });
    const bad = await call("PATCH", `/v1/webhooks/${other.id}`, { key, body: { managedBy: "ifttt" } });
    expectProblem(bad, 422, "validation_failed");
    expect(fieldError(bad, "managedBy").allowed).toEqual(["zapier", "n8n", "make"]);
  });

  it("verify: true checks the new URL, signed with the live secret, and refuses (URL unchanged) unless 2xx", async () => {
    const { key } = await newRoomyTenant();
    const hook = await created(key);
    const moved = "https://moved.example.com/hook";

    responder = () => new Response("no", { status: 500 });
    const refused = await call("PATCH", `/v1/webhooks/${hook.id}`, { key, body: { url: moved, verify: true } });
    expectProblem(refused, 422, "verification_failed");
    expect(refused.body.endpointStatus).toBe(500);
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key })).body.url).toBe(URL_);

    responder = () => new Response(null, { status: 204 });
    const ok = await call("PATCH", `/v1/webhooks/${hook.id}`, { key, body: { url: moved, verify: true } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.url).toBe(moved);
    const sent = sentTo(moved);
    expect(sent).toHaveLength(2);
    const req = sent[1]!;
    const body = await req.text();
    expect(JSON.parse(body).type).toBe("webhook.verification");
    // The secret shown at creation still verifies: PATCH never changes it.
    expect(() =>
      new StandardWebhook(hook.secret).verify(body, {
        "webhook-id": req.headers.get("webhook-id")!,
        "webhook-timestamp": req.headers.get("webhook-timestamp")!,
        "webhook-signature": req.headers.get("webhook-signature")!,
      }),
    ).not.toThrow();
    // verify is an instruction, not a stored field.
    const audit = await call("GET", "/v1/audit-log?action=webhook.updated", { key });
    expect(audit.body.data[0].details.fields).toEqual(["url"]);
  });
});
