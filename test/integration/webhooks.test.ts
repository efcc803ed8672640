import { env } from "cloudflare:workers";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { call, expectProblem, fieldError, newRoomyTenant, type Result } from "./helpers";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const WH = /^wh_[0-9A-Za-z]+$/;
const PUBLIC_FIELDS = [
  "id",
  "url",
  "description",
  "eventTypes",
  "isEnabled",
  "disabledReason",
  "format",
  "headers",
  "customFields",
  "filter",
  "rateLimit",
  "maxConcurrency",
  "ordering",
  "version",
  "secretLast4",
  "managedBy",
  "createdAt",
  "updatedAt",
];
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

function base64Bytes(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function expectNoSecret(res: Result, secrets: string[]) {
  for (const s of secrets) {
    expect(res.text).not.toContain(s);
    expect(res.text).not.toContain(s.replace(/^whsec_/, ""));
  }
  expect(res.text).not.toMatch(/"secret"\s*:/);
}

describe("POST /v1/webhooks", () => {
  it("creates a subscription and shows a whsec_ secret of 32 random bytes once", async () => {
    const { key } = await newRoomyTenant();
    await createType(key, "invoice.paid");
    const before = Date.now();
    const res = await create(key, { eventTypes: ["invoice.paid"], description: "billing" });
    expect(res.status, res.text).toBe(201);
    const w = res.body;
    expect(Object.keys(w).sort()).toEqual([...PUBLIC_FIELDS, "secret"].sort());
    expect(w.id).toMatch(WH);
    expect(w).toMatchObject({
      url: URL_,
      description: "billing",
      eventTypes: ["invoice.paid"],
      isEnabled: true,
      disabledReason: null,
      format: "json",
      headers: {},
      customFields: {},
      managedBy: null,
    });
    expect(w.createdAt).toMatch(ISO);
    expect(Date.parse(w.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(w.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(base64Bytes(w.secret.slice("whsec_".length))).toHaveLength(32);
    expect(w.secretLast4).toBe(w.secret.slice(-4));

    const other = await created(key);
    expect(other.secret).not.toBe(w.secret);
    expect(base64Bytes(other.secret.slice(6))).toHaveLength(32);

    const got = await call("GET", `/v1/webhooks/${w.id}`, { key });
    expect(got.status, got.text).toBe(200);
    expect(Object.keys(got.body).sort()).toEqual([...PUBLIC_FIELDS].sort());
    const { secret: _secret, ...rest } = w;
    expect(got.body).toEqual(rest);
    expectNoSecret(got, [w.secret, other.secret]);

    const list = await call("GET", "/v1/webhooks", { key });
    expect(list.status, list.text).toBe(200);
    expect(list.body.data.map((x: any) => x.id)).toEqual([w.id, other.id]);
    expectNoSecret(list, [w.secret, other.secret]);
  });

  it("stores the secret encrypted: not in clear, and with a fresh IV per webhook", async () => {
    const { key } = await newRoomyTenant();
    const secret = "my-own-signing-secret-0123456789";
    const a = await created(key, { secret });
    const b = await created(key, { secret });
    expect(a.secret).toBe(secret);
    expect(a.secretLast4).toBe("6789");
    const boxA = await storedSecretBox(a.id);
    const boxB = await storedSecretBox(b.id);
    for (const box of [boxA, boxB]) {
      expect(box).not.toContain(secret);
      expect(box).not.toContain(secret.slice(0, 12));
      expect(box).not.toContain(btoa(secret).slice(0, 16));
    }
    expect(boxA).not.toBe(boxB);

    const generated = await created(key);
    const boxG = await storedSecretBox(generated.id);
    expect(boxG).not.toContain(generated.secret);
    expect(boxG).not.toContain(generated.secret.slice(6));
    // Nothing else in the row holds it either.
    const row = await env.DB.prepare("SELECT * FROM webhooks WHERE id = ?").bind(generated.id).first();
    expect(JSON.stringify(row)).not.toContain(generated.secret.slice(6, 30));
  });

  it("accepts a caller secret of 24 characters or more; 23 is a 422", async () => {
    const { key } = await newRoomyTenant();
    const s24 = "abcdefghijklmnopqrstuvwx";
    const ok = await created(key, { secret: s24 });
    expect(ok.secret).toBe(s24);
    expect(ok.secretLast4).toBe("uvwx");
    const short = await create(key, { secret: s24.slice(0, 23) });
    expectProblem(short, 422, "validation_failed");
    expect(fieldError(short, "secret").message).toContain("24");
    const spaced = await create(key, { secret: "has spaces in it and is long enough" });
    expectProblem(spaced, 422, "validation_failed");
    fieldError(spaced, "secret");
  });

  it("refuses reserved header names, naming the header", async () => {
    const { key } = await newRoomyTenant();
    for (const name of [
      "Host",
      "content-type",
      "Content-Length",
      "user-agent",
      "webhook-id",
      "Webhook-Signature",
      "X-Webhook-Foo",
      "x-webhook-signature",
    ]) {
      const res = await create(key, { headers: { [name]: "v" } });
      expectProblem(res, 422, "validation_failed");
      expect(fieldError(res, `headers.${name}`).message).toMatch(/reserved/);
    }
    const bad = await create(key, { headers: { "bad name": "v" } });
    expectProblem(bad, 422, "validation_failed");
    fieldError(bad, "headers.bad name");
    expect((await call("GET", "/v1/webhooks", { key })).body.data).toEqual([]);

    const ok = await created(key, { headers: { "X-Team": "billing", Authorization: "Bearer abc" } });
    // Reads mask the values (webhook-headers.test.ts covers the rest).
    expect(ok.headers).toEqual({ "X-Team": "****ling", Authorization: "**** abc" });
  });

  it("refuses line breaks in header values", async () => {
    const { key } = await newRoomyTenant();
    for (const value of ["a\r\nX-Injected: 1", "a\nb", "a\rb"]) {
      const res = await create(key, { headers: { "X-Team": value } });
      expectProblem(res, 422, "validation_failed");
      fieldError(res, "headers.X-Team");
    }
    expect((await call("GET", "/v1/webhooks", { key })).body.data).toEqual([]);
  });

  it('eventTypes must name catalog types, or be ["*"] alone', async () => {
    const { key } = await newRoomyTenant({ quotas: { webhooks: 10 } });
    await createType(key, "invoice.paid");
    await createType(key, "invoice.voided");
    await createType(key, "old.type");
    expect((await call("DELETE", "/v1/event-types/old.type", { key })).status).toBe(204);

    const unknown = await create(key, { eventTypes: ["invoice.paid", "invoice.refunded"] });
    expectProblem(unknown, 422, "validation_failed");
    const e = fieldError(unknown, "eventTypes.1");
    expect(e.message).toContain("invoice.refunded");
    expect(e.allowed).toEqual(["*", "invoice.paid", "invoice.voided"]);

    const archived = await create(key, { eventTypes: ["old.type"] });
    expectProblem(archived, 422, "validation_failed");
    fieldError(archived, "eventTypes.0");

    const mixed = await create(key, { eventTypes: ["*", "invoice.paid"] });
    expectProblem(mixed, 422, "validation_failed");
    fieldError(mixed, "eventTypes");

    const empty = await create(key, { eventTypes: [] });
    expectProblem(empty, 422, "validation_failed");
    fieldError(empty, "eventTypes");

    const missing = await call("POST", "/v1/webhooks", { key, body: { url: URL_ } });
    expectProblem(missing, 422, "validation_failed");
    fieldError(missing, "eventTypes");

    expect((await call("GET", "/v1/webhooks", { key })).body.data).toEqual([]);
    expect((await created(key, { eventTypes: ["*"] })).eventTypes).toEqual(["*"]);
    expect((await created(key, { eventTypes: ["invoice.voided", "invoice.paid", "invoice.paid"] })).eventTypes).toEqual([
      "invoice.voided",
      "invoice.paid",
    ]);
  });

  it("format is json or form; anything else lists the allowed formats", async () => {
    const { key } = await newRoomyTenant();
    expect((await created(key, { format: "json" })).format).toBe("json");
    expect((await created(key, { format: "form" })).format).toBe("form");
    const xml = await create(key, { format: "xml" });
    expectProblem(xml, 422, "validation_failed");
    expect(fieldError(xml, "format").allowed).toEqual(["json", "form"]);
  });

  it("validates customFields", async () => {
    const { key } = await newRoomyTenant();
    for (const [fields, path] of [
      [{ id: "x" }, "customFields.id"],
      [{ data: "x" }, "customFields.data"],
      [{ "bad name": "x" }, "customFields.bad name"],
      [{ nested: { a: 1 } }, "customFields.nested"],
      [{ list: [1] }, "customFields.list"],
      [{ long: "x".repeat(1025) }, "customFields.long"],
    ] as const) {
      const res = await create(key, { customFields: fields });
      expectProblem(res, 422, "validation_failed");
      fieldError(res, path);
    }
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`f${i}`, i]));
    expectProblem(await create(key, { customFields: many }), 422, "validation_failed");
    const ok = await created(key, { customFields: { account: "acme", tier: 2, beta: true } });
    expect(ok.customFields).toEqual({ account: "acme", tier: 2, beta: true });
    expect((await call("GET", `/v1/webhooks/${ok.id}`, { key })).body.customFields).toEqual({ account: "acme", tier: 2, beta: true });
  });

  it("managedBy is zapier, n8n or make", async () => {
    const { key } = await newRoomyTenant();
    const res = await create(key, { managedBy: "ifttt" });
    expectProblem(res, 422, "validation_failed");
    expect(fieldError(res, "managedBy").allowed).toEqual(["zapier", "n8n", "make"]);
  });

  it("isEnabled: false creates a disabled subscription", async () => {
    const { key } = await newRoomyTenant();
    const w = await created(key, { isEnabled: false });
    expect(w).toMatchObject({ isEnabled: false, disabledReason: "manual" });
  });

  it("enforces the webhooks quota (default 3); deleting frees a slot", async () => {
    const { key } = await newRoomyTenant();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await created(key)).id);
    const fourth = await create(key);
    expectProblem(fourth, 409, "quota_exceeded");
    expect(fourth.body.limit).toBe(3);
    expect((await call("GET", "/v1/webhooks", { key })).body.data).toHaveLength(3);
    expect((await call("DELETE", `/v1/webhooks/${ids[0]}`, { key })).status).toBe(204);
    await created(key);
    expectProblem(await create(key), 409, "quota_exceeded");
  });

  it("concurrent creates never overshoot the quota", async () => {
    const { key } = await newRoomyTenant({ quotas: { webhooks: 2 } });
    const results = await Promise.all(Array.from({ length: 6 }, () => create(key)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(2);
    for (const r of results.filter((r) => r.status !== 201)) expectProblem(r, 409, "quota_exceeded");
  });
});

describe("verify: true", () => {
  it("sends one signed webhook.verification and creates the subscription on a 2xx", async () => {
    const { key } = await newRoomyTenant();
    const url = "https://verify-ok.example.com/hook?src=hookgate";
    responder = () => new Response(null, { status: 204 });
    const res = await create(key, { url, verify: true, headers: { "X-Team": "billing" } });
    expect(res.status, res.text).toBe(201);
    const sent = sentTo(url);
    expect(sent).toHaveLength(1);
    const req = sent[0]!;
    expect(req.method).toBe("POST");
    expect(req.headers.get("content-type")).toBe("application/json");
    expect(req.headers.get("x-team")).toBe("billing");
    const body = await req.text();
    const payload = JSON.parse(body);
    expect(payload.type).toBe("webhook.verification");
    expect(payload.id).toMatch(/^evt_/);
    expect(payload.data.webhookId).toBe(res.body.id);

    // Both signature schemes verify with the secret the API returned.
    const stripeStyle = req.headers.get("x-webhook-signature")!;
    const t = /t=(\d+)/.exec(stripeStyle)![1]!;
    expect(Math.abs(Number(t) - Date.now() / 1000)).toBeLessThan(60);
    const mac = await crypto.subtle.sign(
      "HMAC",
      await crypto.subtle.importKey("raw", new TextEncoder().encode(res.body.secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]),
      new TextEncoder().encode(`${t}.${body}`),
    );
    const hex = [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(stripeStyle).toBe(`t=${t},v1=${hex}`);

    expect(req.headers.get("webhook-signature")).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    expect(req.headers.get("webhook-id")).toBe(payload.id);
    const verified = new StandardWebhook(res.body.secret).verify(body, {
      "webhook-id": req.headers.get("webhook-id")!,
      "webhook-timestamp": req.headers.get("webhook-timestamp")!,
      "webhook-signature": req.headers.get("webhook-signature")!,
    });
    expect(verified).toEqual(payload);

    expect((await call("GET", `/v1/webhooks/${res.body.id}`, { key })).status).toBe(200);
  });

  it("refuses with 422 verification_failed and the endpoint's status when it does not answer 2xx; nothing is stored", async () => {
    const { key } = await newRoomyTenant();
    const url = "https://verify-bad.example.com/hook";
    responder = () => new Response("nope", { status: 500 });
    const res = await create(key, { url, verify: true });
    expectProblem(res, 422, "verification_failed");
    expect(res.body.endpointStatus).toBe(500);
    expect(res.body.detail).toContain("500");
    expect(sentTo(url)).toHaveLength(1);
    expect((await call("GET", "/v1/webhooks", { key })).body.data).toEqual([]);

    responder = () => new Response(null, { status: 302, headers: { location: "https://elsewhere.example.com/" } });
    const redirect = await create(key, { url, verify: true });
    expectProblem(redirect, 422, "verification_failed");
    expect(redirect.body.endpointStatus).toBe(302);

    responder = () => {
      throw new TypeError("Network connection refused");
    };
    const down = await create(key, { url, verify: true });
    expectProblem(down, 422, "verification_failed");
    expect(down.body.endpointStatus).toBeNull();

    expect((await call("GET", "/v1/webhooks", { key })).body.data).toEqual([]);
    const count = await env.DB.prepare("SELECT count(*) AS n FROM webhooks WHERE url = ?").bind(url).first<{ n: number }>();
    expect(count!.n).toBe(0);
  });

  it("verify: false (the default) sends nothing", async () => {
    const { key } = await newRoomyTenant();
    const url = "https://no-verify.example.com/hook";
    await created(key, { url });
    await created(key, { url, verify: false });
    expect(sentTo(url)).toHaveLength(0);
  });
});

describe("GET /v1/webhooks", () => {
  it("pages with limit and cursor", async () => {
    const { key } = await newRoomyTenant({ quotas: { webhooks: 10 } });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await created(key, { description: `n${i}` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: Result = await call("GET", `/v1/webhooks?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { key });
      expect(res.status, res.text).toBe(200);
      seen.push(...res.body.data.map((w: any) => w.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
    expectProblem(await call("GET", "/v1/webhooks?limit=0", { key }), 400, "invalid_query");
  });
});
