import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, expectProblem, fieldError, newKey, newTenant, sha256Hex } from "./helpers";
import { countRows, expectAccepted, ISO, newSource, SRC, send, sourceTenant } from "./sources-kit";

// The sources resource over /v1/sources: what a create answers and stores, reads, PATCH, DELETE, limits and audit.

afterEach(() => {
  vi.restoreAllMocks();
});

const STRIPE_SECRET = "whsec_stripe_0123456789abcdefWXYZ";

describe("POST /v1/sources", () => {
  it("201 with the URL and token (once), the verification without its secret, and every field", async () => {
    const { key } = await sourceTenant(["payment.succeeded"]);
    const body = {
      name: "stripe-payments",
      eventType: "payment.succeeded",
      verification: { scheme: "stripe", secret: STRIPE_SECRET },
      mapping: { amount: "{{trigger.data.object.amount}}" },
      dedupe: { path: "id" },
      response: { status: 200, body: "thanks", contentType: "text/plain" },
      rateLimit: 120,
    };
    const before = Date.now();
    const res = await call("POST", "/v1/sources", { key, body });
    expect(res.status, res.text).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(
      [
        "createdAt",
        "dedupe",
        "eventType",
        "id",
        "isEnabled",
        "mapping",
        "name",
        "orderingKey",
        "rateLimit",
        "response",
        "token",
        "updatedAt",
        "url",
        "verification",
      ].sort(),
    );
    expect(res.body.id).toMatch(SRC);
    expect(res.body.token).toMatch(/^[0-9A-Za-z]{32,}$/);
    expect(res.body.url).toBe(`http://hookgate.test/in/${res.body.id}/${res.body.token}`);
    expect(res.body).toMatchObject({
      name: "stripe-payments",
      eventType: "payment.succeeded",
      verification: { scheme: "stripe", secretLast4: "WXYZ" },
      mapping: body.mapping,
      dedupe: { path: "id" },
      response: body.response,
      rateLimit: 120,
      isEnabled: true,
    });
    expect(res.body.verification).not.toHaveProperty("secret");
    expect(res.text).not.toContain(STRIPE_SECRET);
    expect(res.body.createdAt).toMatch(ISO);
    expect(Date.parse(res.body.createdAt)).toBeGreaterThanOrEqual(before - 1000);

    // Read back: the same fields, never the token, the URL or the secret.
    const got = await call("GET", `/v1/sources/${res.body.id}`, { key });
    expect(got.status, got.text).toBe(200);
    const { token: _t, url: _u, ...rest } = res.body;
    expect(got.body).toEqual(rest);
    const list = await call("GET", "/v1/sources", { key });
    expect(list.status, list.text).toBe(200);
    expect(list.body).toEqual({ data: [rest], nextCursor: null });
    for (const text of [got.text, list.text]) {
      expect(text).not.toContain(res.body.token);
      expect(text).not.toContain(STRIPE_SECRET);
    }
  });

  it("defaults: no verification, no mapping, rate limit 600, enabled", async () => {
    const { key } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created" });
    expect(src.body).toMatchObject({
      verification: null,
      mapping: null,
      dedupe: null,
      response: null,
      rateLimit: 600,
      isEnabled: true,
    });
  });

  it("a short secret gets no secretLast4 (four characters of it would give it away)", async () => {
    const { key } = await sourceTenant();
    const res = await call("POST", "/v1/sources", {
      key,
      body: { name: "short", eventType: "order.created", verification: { scheme: "basic", username: "hooks", password: "pw12" } },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.verification).toEqual({ scheme: "basic", username: "hooks", secretLast4: null });
    expect(res.text).not.toContain("pw12");
  });

  it("stores the token as SHA-256 only and the secret sealed: neither appears in any column", async () => {
    const { key } = await sourceTenant();
    const secrets = ["meta-app-secret-0123456789", "meta-verify-token-abcdef"];
    const src = await newSource(key, {
      eventType: "order.created",
      verification: { scheme: "meta", secret: secrets[0], verifyToken: secrets[1] },
    });
    const row = await env.DB.prepare("SELECT * FROM sources WHERE id = ?").bind(src.id).first<Record<string, unknown>>();
    expect(row).not.toBeNull();
    expect(row!.token_hash).toBe(await sha256Hex(src.token));
    expect(typeof row!.secret_enc).toBe("string");
    for (const [column, value] of Object.entries(row!)) {
      for (const secret of [src.token, ...secrets]) expect(String(value), column).not.toContain(secret);
    }
    expect(JSON.parse(String(row!.verification))).toEqual({ scheme: "meta" });
  });

  it("409 quota_exceeded at the tenant's `sources` quota (raised by PATCH /admin/tenants)", async () => {
    const { key, tenantId } = await sourceTenant(["order.created"], { quotas: { sources: 2 } });
    await newSource(key, { eventType: "order.created" });
    const second = await newSource(key, { eventType: "order.created" });
    const third = await call("POST", "/v1/sources", { key, body: { name: "third", eventType: "order.created" } });
    expectProblem(third, 409, "quota_exceeded");
    expect(await countRows("sources", "tenant_id = ? AND name = 'third'", tenantId)).toBe(0);
    // A deleted source frees its slot; a raised quota makes room too.
    expect((await call("DELETE", `/v1/sources/${second.id}`, { key })).status).toBe(204);
    expect((await call("POST", "/v1/sources", { key, body: { name: "third", eventType: "order.created" } })).status).toBe(201);
    expectProblem(await call("POST", "/v1/sources", { key, body: { name: "fourth", eventType: "order.created" } }), 409, "quota_exceeded");
    const raised = await call("PATCH", `/admin/tenants/${tenantId}`, { admin: true, body: { quotas: { sources: 3 } } });
    expect(raised.status, raised.text).toBe(200);
    expect((await call("POST", "/v1/sources", { key, body: { name: "fourth", eventType: "order.created" } })).status).toBe(201);
  });

  it("409 duplicate_name for a live name (create and PATCH); the name is free again after DELETE", async () => {
    const { key } = await sourceTenant();
    const first = await newSource(key, { name: "github", eventType: "order.created" });
    expectProblem(await call("POST", "/v1/sources", { key, body: { name: "github", eventType: "order.created" } }), 409, "duplicate_name");
    const other = await newSource(key, { name: "other", eventType: "order.created" });
    expectProblem(await call("PATCH", `/v1/sources/${other.id}`, { key, body: { name: "github" } }), 409, "duplicate_name");
    expect((await call("DELETE", `/v1/sources/${first.id}`, { key })).status).toBe(204);
    const again = await call("POST", "/v1/sources", { key, body: { name: "github", eventType: "order.created" } });
    expect(again.status, again.text).toBe(201);
    expect(again.body.id).not.toBe(first.id);
  });

  it("another tenant's names do not collide", async () => {
    const a = await sourceTenant();
    const b = await sourceTenant();
    await newSource(a.key, { name: "same", eventType: "order.created" });
    expect((await call("POST", "/v1/sources", { key: b.key, body: { name: "same", eventType: "order.created" } })).status).toBe(201);
  });
});

describe("validation (422 naming the field)", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["an unknown scheme", { verification: { scheme: "carrier-pigeon", secret: "x" } }, "verification.scheme"],
    ["a scheme without its secret", { verification: { scheme: "github" } }, "verification.secret"],
    ["hmac without a header", { verification: { scheme: "hmac", secret: "s3cret" } }, "verification.header"],
    ["basic without a password", { verification: { scheme: "basic", username: "u" } }, "verification.password"],
    ["meta without a verify token", { verification: { scheme: "meta", secret: "s" } }, "verification.verifyToken"],
    ["a response status under 200", { response: { status: 199 } }, "response.status"],
    ["a response status over 299", { response: { status: 301 } }, "response.status"],
    ["a response body over 1000 characters", { response: { status: 200, body: "x".repeat(1001) } }, "response.body"],
    ["a body on a 204 response", { response: { status: 204, body: "ok" } }, "response.body"],
    [
      "a response content type that is no media type",
      { response: { status: 200, contentType: "text/plain\r\nx-evil: 1" } },
      "response.contentType",
    ],
    ["rateLimit 0", { rateLimit: 0 }, "rateLimit"],
    ["a bad placeholder in the mapping", { mapping: { a: { b: "{{body.amount}}" } } }, "mapping.a.b"],
    ["a bad placeholder in the eventType", { eventType: "github.{{header.x-github-event}}" }, "eventType"],
    ["an unknown field", { colour: "red" }, "colour"],
  ];
  for (const [what, patch, path] of cases) {
    it(`${what} → ${path || "body"}`, async () => {
      const { key, tenantId } = await sourceTenant();
      const res = await call("POST", "/v1/sources", { key, body: { name: "v", eventType: "order.created", ...patch } });
      expectProblem(res, 422, "validation_failed");
      expect(fieldError(res, path).message.length).toBeGreaterThan(0);
      expect(await countRows("sources", "tenant_id = ?", tenantId)).toBe(0);
    });
  }

  it("an unknown scheme lists the valid ones", async () => {
    const { key } = await sourceTenant();
    const res = await call("POST", "/v1/sources", {
      key,
      body: { name: "v", eventType: "order.created", verification: { scheme: "carrier-pigeon", secret: "x" } },
    });
    expectProblem(res, 422, "validation_failed");
    expect(fieldError(res, "verification.scheme").allowed).toEqual([
      "hmac",
      "stripe",
      "github",
      "meta",
      "shopify",
      "slack",
      "standard-webhooks",
      "twilio",
      "basic",
      "api-key",
    ]);
  });

  it("a static eventType outside the catalog lists the catalog", async () => {
    const { key } = await sourceTenant(["order.created", "order.shipped"]);
    const res = await call("POST", "/v1/sources", { key, body: { name: "v", eventType: "order.lost" } });
    expectProblem(res, 422, "validation_failed");
    const err = fieldError(res, "eventType");
    expect(err.message).toContain("order.lost");
    expect(err.allowed).toEqual(["order.created", "order.shipped"]);
  });

  it("PATCH refuses the token (pointing at rotate-token) and validates like create", async () => {
    const { key } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created" });
    const token = await call("PATCH", `/v1/sources/${src.id}`, { key, body: { token: "a".repeat(40) } });
    expectProblem(token, 422, "validation_failed");
    expect(fieldError(token, "token").message).toContain("rotate-token");
    expectProblem(await call("PATCH", `/v1/sources/${src.id}`, { key, body: { eventType: "order.lost" } }), 422, "validation_failed");
    expectProblem(await call("PATCH", `/v1/sources/${src.id}`, { key, body: { mapping: "{{nope}}" } }), 422, "validation_failed");
    // The URL still works with its token.
    expectAccepted(await send(src.path, "{}"));
  });
});

describe("PATCH /v1/sources/:id", () => {
  const bodyFor = (secret: string) => ({ eventType: "order.created", verification: { scheme: "api-key", header: "x-key", secret } });

  it("changes fields; a verification sent without its secret (same scheme) keeps the stored secret", async () => {
    const { key } = await sourceTenant(["order.created", "order.shipped"]);
    const src = await newSource(key, bodyFor("first-secret-AAAA"));
    const res = await call("PATCH", `/v1/sources/${src.id}`, {
      key,
      body: { name: "renamed", eventType: "order.shipped", rateLimit: 30, verification: { scheme: "api-key", header: "x-other" } },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      name: "renamed",
      eventType: "order.shipped",
      rateLimit: 30,
      verification: { scheme: "api-key", header: "x-other", secretLast4: "AAAA" },
    });
    expect(Date.parse(res.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(src.body.updatedAt));
    expect((await call("GET", `/v1/sources/${src.id}`, { key })).body).toEqual(res.body);
    expect((await send(src.path, "{}", { headers: { "x-key": "first-secret-AAAA" } })).status).toBe(401);
    const ok = expectAccepted(await send(src.path, "{}", { headers: { "x-other": "first-secret-AAAA" } }));
    expect((await call("GET", `/v1/events/${ok}`, { key })).body.type).toBe("order.shipped");
  });

  it("a new secret replaces the old one", async () => {
    const { key } = await sourceTenant();
    const src = await newSource(key, bodyFor("first-secret-AAAA"));
    const res = await call("PATCH", `/v1/sources/${src.id}`, { key, body: { verification: bodyFor("second-secret-BBBB").verification } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.verification.secretLast4).toBe("BBBB");
    expect((await send(src.path, "{}", { headers: { "x-key": "first-secret-AAAA" } })).status).toBe(401);
    expectAccepted(await send(src.path, "{}", { headers: { "x-key": "second-secret-BBBB" } }));
  });

  it("another scheme needs its secret (422); null removes verification", async () => {
    const { key } = await sourceTenant();
    const src = await newSource(key, bodyFor("first-secret-AAAA"));
    const noSecret = await call("PATCH", `/v1/sources/${src.id}`, { key, body: { verification: { scheme: "github" } } });
    expectProblem(noSecret, 422, "validation_failed");
    expect(fieldError(noSecret, "verification.secret")).toBeDefined();
    // Unchanged: the old key still works, a request signed with an empty GitHub secret does not.
    expectAccepted(await send(src.path, "{}", { headers: { "x-key": "first-secret-AAAA" } }));
    const cleared = await call("PATCH", `/v1/sources/${src.id}`, { key, body: { verification: null } });
    expect(cleared.status, cleared.text).toBe(200);
    expect(cleared.body.verification).toBeNull();
    expectAccepted(await send(src.path, "{}"));
  });

  it("meta: a new app secret alone keeps the stored verify token", async () => {
    const { key } = await sourceTenant();
    const src = await newSource(key, {
      eventType: "order.created",
      verification: { scheme: "meta", secret: "app-1", verifyToken: "vt-1" },
    });
    const res = await call("PATCH", `/v1/sources/${src.id}`, { key, body: { verification: { scheme: "meta", secret: "app-2" } } });
    expect(res.status, res.text).toBe(200);
    const handshake = (token: string) =>
      send(src.path, null, { method: "GET", contentType: null, query: `?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=c1` });
    const ok = await handshake("vt-1");
    expect(ok.status, ok.text).toBe(200);
    expect(ok.text).toBe("c1");
    expectProblem(await handshake(""), 401, "invalid_signature");
  });

  it("isEnabled: false makes the URL answer 404; true brings it back", async () => {
    const { key } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created" });
    expect((await call("PATCH", `/v1/sources/${src.id}`, { key, body: { isEnabled: false } })).body.isEnabled).toBe(false);
    expectProblem(await send(src.path, "{}"), 404, "not_found");
    expect((await call("PATCH", `/v1/sources/${src.id}`, { key, body: { isEnabled: true } })).status).toBe(200);
    expectAccepted(await send(src.path, "{}"));
  });
});

describe("DELETE /v1/sources/:id", () => {
  it("204; the source is gone from reads and its URL answers 404", async () => {
    const { key } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created" });
    expectAccepted(await send(src.path, "{}"));
    expect((await call("DELETE", `/v1/sources/${src.id}`, { key })).status).toBe(204);
    expectProblem(await call("GET", `/v1/sources/${src.id}`, { key }), 404, "not_found");
    expect((await call("GET", "/v1/sources", { key })).body.data).toEqual([]);
    expectProblem(await send(src.path, "{}"), 404, "not_found");
    expectProblem(await call("DELETE", `/v1/sources/${src.id}`, { key }), 404, "not_found");
  });
});

describe("access", () => {
  it("sources:read lists and reads but cannot create, change or delete (403 requiredScope sources:write)", async () => {
    const { key } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created" });
    const { key: reader } = await newKey(key, { scopes: ["sources:read"] });
    expect((await call("GET", "/v1/sources", { key: reader })).body.data.map((s: any) => s.id)).toEqual([src.id]);
    expect((await call("GET", `/v1/sources/${src.id}`, { key: reader })).status).toBe(200);
    expect((await call("GET", `/v1/sources/${src.id}/requests`, { key: reader })).status).toBe(200);
    const writes = [
      call("POST", "/v1/sources", { key: reader, body: { name: "x", eventType: "order.created" } }),
      call("PATCH", `/v1/sources/${src.id}`, { key: reader, body: { name: "x" } }),
      call("DELETE", `/v1/sources/${src.id}`, { key: reader }),
      call("POST", `/v1/sources/${src.id}/rotate-token`, { key: reader, body: {} }),
    ];
    for (const res of await Promise.all(writes)) {
      expectProblem(res, 403, "insufficient_scope");
      expect(res.body.requiredScope).toBe("sources:write");
    }
    const { key: writerOnly } = await newKey(key, { scopes: ["events:read"] });
    const list = await call("GET", "/v1/sources", { key: writerOnly });
    expectProblem(list, 403, "insufficient_scope");
    expect(list.body.requiredScope).toBe("sources:read");
    expectProblem(await call("GET", "/v1/sources"), 401, "unauthorized");
  });

  it("another tenant's source id is 404 on every by-id route", async () => {
    const owner = await sourceTenant();
    const src = await newSource(owner.key, { eventType: "order.created" });
    expectAccepted(await send(src.path, "{}"));
    const [logged] = (await call("GET", `/v1/sources/${src.id}/requests`, { key: owner.key })).body.data;
    const { key } = await newTenant();
    const routes: [string, string, unknown?][] = [
      ["GET", `/v1/sources/${src.id}`],
      ["PATCH", `/v1/sources/${src.id}`, { name: "mine" }],
      ["DELETE", `/v1/sources/${src.id}`],
      ["POST", `/v1/sources/${src.id}/rotate-token`, {}],
      ["GET", `/v1/sources/${src.id}/requests`],
      ["GET", `/v1/sources/${src.id}/requests/${logged.id}`],
      ["POST", `/v1/sources/${src.id}/requests/${logged.id}/replay`],
    ];
    for (const [method, path, body] of routes) {
      expectProblem(await call(method, path, { key, ...(body !== undefined && { body }) }), 404, "not_found");
    }
    // Untouched: still the owner's, still live.
    expect((await call("GET", `/v1/sources/${src.id}`, { key: owner.key })).body.name).toBe(src.body.name);
    expectAccepted(await send(src.path, "{}"));
  });
});

describe("audit", () => {
  it("source.created / updated / token_rotated / deleted name the source and the credential", async () => {
    const { key, keyId } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created", verification: { scheme: "github", secret: "gh-secret-1234" } });
    expect((await call("PATCH", `/v1/sources/${src.id}`, { key, body: { rateLimit: 10 } })).status).toBe(200);
    expect((await call("POST", `/v1/sources/${src.id}/rotate-token`, { key, body: { graceSeconds: 60 } })).status).toBe(200);
    expect((await call("DELETE", `/v1/sources/${src.id}`, { key })).status).toBe(204);
    const res = await call("GET", "/v1/audit-log?limit=100", { key });
    expect(res.status, res.text).toBe(200);
    const mine = (res.body.data as any[]).filter((e) => e.target === src.id);
    expect(mine.map((e) => e.action).sort()).toEqual(["source.created", "source.deleted", "source.token_rotated", "source.updated"]);
    for (const e of mine) expect(e).toMatchObject({ actor: keyId, target: src.id, at: expect.stringMatching(ISO) });
    expect(res.text).not.toContain("gh-secret-1234");
    expect(res.text).not.toContain(src.token);
  });
});

describe("OpenAPI", () => {
  it("/openapi.json documents /v1/sources and the receiving URL (post and get)", async () => {
    const res = await call("GET", "/openapi.json");
    expect(res.status).toBe(200);
    const paths = res.body.paths as Record<string, Record<string, any>>;
    expect(Object.keys(paths["/v1/sources"]!).sort()).toEqual(["get", "post"]);
    expect(Object.keys(paths["/v1/sources/{id}"]!).sort()).toEqual(["delete", "get", "patch"]);
    expect(paths["/v1/sources/{id}/rotate-token"]).toHaveProperty("post");
    expect(paths["/v1/sources/{id}/requests"]).toHaveProperty("get");
    expect(paths["/v1/sources/{id}/requests/{reqId}"]).toHaveProperty("get");
    expect(paths["/v1/sources/{id}/requests/{reqId}/replay"]).toHaveProperty("post");
    const intake = paths["/in/{source}/{token}"]!;
    expect(Object.keys(intake).sort()).toEqual(["get", "post"]);
    expect(intake.post.security).toEqual([]);
    expect(Object.keys(intake.post.responses)).toEqual(expect.arrayContaining(["202", "401", "404", "413", "415", "422", "429"]));
    expect(res.body.components.schemas).toHaveProperty("CreateSource");
  });
});
