import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import pkg from "../../package.json";
import { BASE, call, expectProblem, fieldError, newTenant, unique } from "./helpers";

const GENERATED_ID = /^req_[0-9A-Za-z]{22}$/;
const KIB = 1024;

/** A JSON body of exactly `bytes` bytes: {"name":"xxxx..."} */
function jsonOfSize(bytes: number): string {
  const overhead = '{"name":""}'.length;
  return `{"name":"${"x".repeat(bytes - overhead)}"}`;
}

function streamOf(text: string, chunk = 16 * KIB): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
}

describe("X-Request-Id", () => {
  it("is generated when none is sent", async () => {
    const a = await call("GET", "/health");
    const b = await call("GET", "/health");
    expect(a.headers.get("x-request-id")).toMatch(GENERATED_ID);
    expect(b.headers.get("x-request-id")).toMatch(GENERATED_ID);
    expect(a.headers.get("x-request-id")).not.toBe(b.headers.get("x-request-id"));
  });

  it.each(["abc-123", "req_Client.Trace-42", "a", "x".repeat(128), "0af7651916cd43dd8448eb211c80319c", "trace.42_A-z"])(
    "echoes a sane inbound id %j",
    async (id) => {
      const res = await call("GET", "/health", { headers: { "x-request-id": id } });
      expect(res.headers.get("x-request-id")).toBe(id);
    },
  );

  it.each([
    ["spaces", "has spaces in it"],
    ["300 chars", "x".repeat(300)],
    ["129 chars", "x".repeat(129)],
    ["angle brackets", "<script>alert(1)</script>"],
    ["quotes", 'a"b'],
    ["slash", "a/b"],
    ["a tab", "a\tb"],
    ["a comma list", "a,b"],
    ["a colon", "svc:req-1"],
    ["a semicolon", "a;b"],
    ["non-ASCII", "r\u00e9q-1"],
    ["empty", ""],
  ])("replaces an insane inbound id (%s)", async (_label, id) => {
    const res = await call("GET", "/health", { headers: { "x-request-id": id } });
    expect(res.headers.get("x-request-id")).toMatch(GENERATED_ID);
  });

  it("is on errors too, and the problem body carries the same id", async () => {
    const res = await call("GET", "/v1/keys", { headers: { "x-request-id": "trace-401" } });
    expectProblem(res, 401, "unauthorized");
    expect(res.headers.get("x-request-id")).toBe("trace-401");
    expect(res.body.requestId).toBe("trace-401");
  });

  it("is on 404, /openapi.json, /docs, admin and tenant responses", async () => {
    const { key } = await newTenant();
    const responses = await Promise.all([
      call("GET", "/nope"),
      call("GET", "/openapi.json"),
      call("GET", "/docs"),
      call("GET", "/admin/tenants", { admin: true }),
      call("GET", "/v1/keys", { key }),
      call("POST", "/v1/keys", { key, rawBody: "{", headers: { "content-type": "application/json" } }),
    ]);
    for (const res of responses) expect(res.headers.get("x-request-id")).toMatch(GENERATED_ID);
  });
});

describe("unknown routes", () => {
  it.each([
    ["GET", "/nope"],
    ["POST", "/nope"],
    ["GET", "/v2/keys"],
    ["GET", "/v1/nothing-here"],
  ])("%s %s → 404 problem+json", async (method, path) => {
    const res = await call(method, path);
    expectProblem(res, 404, "not_found");
    expect(res.body.status).toBe(404);
    expect(res.body.title).toBe("Not Found");
    expect(res.body.type).toBe("https://hookgate.dev/problems/not-found");
  });

  it("an authenticated request to an unknown /v1/keys subpath is a 404", async () => {
    const { key } = await newTenant();
    const res = await call("GET", "/v1/keys/key_x/not-a-thing", { key });
    expectProblem(res, 404, "not_found");
  });
});

describe("request bodies", () => {
  it("malformed JSON → 400 malformed_json", async () => {
    const { key } = await newTenant();
    for (const raw of ["{", '{"name": "a",}', "nul", "{'name': 'a'}", '{"name":"a"} trailing']) {
      const res = await call("POST", "/v1/keys", { key, rawBody: raw, headers: { "content-type": "application/json" } });
      expectProblem(res, 400, "malformed_json");
    }
  });

  it("malformed JSON on the operator API → 400 malformed_json", async () => {
    const res = await call("POST", "/admin/tenants", { admin: true, rawBody: "{nope", headers: { "content-type": "application/json" } });
    expectProblem(res, 400, "malformed_json");
  });

  it("text/plain with a body → 415", async () => {
    const { key } = await newTenant();
    const body = JSON.stringify({ name: "k", scopes: ["keys:read"] });
    const res = await call("POST", "/v1/keys", { key, rawBody: body, headers: { "content-type": "text/plain" } });
    expectProblem(res, 415, "unsupported_media_type");
    const form = await call("POST", "/admin/tenants", {
      admin: true,
      rawBody: "name=x",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expectProblem(form, 415, "unsupported_media_type");
  });

  it("a body with no content type → 415", async () => {
    const res = await call("POST", "/admin/tenants", { admin: true, rawBody: new TextEncoder().encode('{"name":"x"}') });
    expectProblem(res, 415, "unsupported_media_type");
  });

  it("accepts application/json with a charset parameter", async () => {
    const name = unique("charset");
    const res = await call("POST", "/admin/tenants", {
      admin: true,
      rawBody: JSON.stringify({ name }),
      headers: { "content-type": "application/json; charset=utf-8" },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.tenant.name).toBe(name);
  });

  it("a body of exactly 256 KiB is read (then validated), one byte more → 413", async () => {
    const { key } = await newTenant();
    const atLimit = await call("POST", "/v1/keys", {
      key,
      rawBody: jsonOfSize(256 * KIB),
      headers: { "content-type": "application/json" },
    });
    expectProblem(atLimit, 422, "validation_failed");
    const over = await call("POST", "/v1/keys", {
      key,
      rawBody: jsonOfSize(256 * KIB + 1),
      headers: { "content-type": "application/json" },
    });
    expectProblem(over, 413, "payload_too_large");
  });

  it("a large body → 413 payload_too_large on the operator API too", async () => {
    const res = await call("POST", "/admin/tenants", {
      admin: true,
      rawBody: jsonOfSize(1024 * KIB),
      headers: { "content-type": "application/json" },
    });
    expectProblem(res, 413, "payload_too_large");
  });

  it("a streamed body with no Content-Length over 256 KiB → 413", async () => {
    const { key } = await newTenant();
    const req = new Request(`${BASE}/v1/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: streamOf(jsonOfSize(300 * KIB)),
    });
    expect(req.headers.get("content-length")).toBeNull();
    const res = await exports.default.fetch(req);
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const body = (await res.json()) as { code: string; requestId: string };
    expect(body.code).toBe("payload_too_large");
    expect(body.requestId).toBe(res.headers.get("x-request-id"));
  });

  it("a streamed body under the limit is accepted", async () => {
    const { key } = await newTenant();
    const name = unique("streamed");
    const res = await exports.default.fetch(
      new Request(`${BASE}/v1/keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: streamOf(JSON.stringify({ name, scopes: ["keys:read"] }), 7),
      }),
    );
    expect(res.status).toBe(201);
    expect(((await res.json()) as { name: string }).name).toBe(name);
  });
});

describe("validation", () => {
  it("422 validation_failed names the field", async () => {
    const { key } = await newTenant();
    const res = await call("POST", "/v1/keys", { key, body: { scopes: ["keys:read"] } });
    expectProblem(res, 422, "validation_failed");
    expect(res.body.title).toBe("Unprocessable Content");
    expect(fieldError(res, "name").message).toEqual(expect.any(String));
    expect(res.body.detail).toContain("name");
  });

  it("an unknown enum value lists the allowed scopes", async () => {
    const { key } = await newTenant();
    const res = await call("POST", "/v1/keys", { key, body: { name: "x", scopes: ["keys:read", "keys:admin"] } });
    expectProblem(res, 422, "validation_failed");
    const err = fieldError(res, "scopes.1");
    expect([...(err.allowed ?? [])].sort()).toEqual(
      [
        "keys:read",
        "keys:write",
        "webhooks:read",
        "webhooks:write",
        "events:read",
        "events:write",
        "sources:read",
        "sources:write",
        "audit:read",
        "api:read",
        "api:write",
      ].sort(),
    );
    expect(err.message).toContain("keys:read");
  });

  it("unknown fields are refused by name", async () => {
    const { key } = await newTenant();
    const res = await call("POST", "/v1/keys", { key, body: { name: "x", scopes: ["keys:read"], admin: true } });
    expectProblem(res, 422, "validation_failed");
    expect(res.text).toContain("admin");
  });

  it("an empty body names the missing fields", async () => {
    const { key } = await newTenant();
    const res = await call("POST", "/v1/keys", { key, rawBody: "", headers: { "content-type": "application/json" } });
    expectProblem(res, 422, "validation_failed");
    fieldError(res, "name");
    fieldError(res, "scopes");
  });

  it.each([
    ["an array", [1, 2, 3]],
    ["null", null],
    ["a number", 42],
    ["a string", "hello"],
    ["true", true],
    ["an empty array", []],
  ])("a JSON body that is %s → 422, never 500", async (_label, body) => {
    const { key } = await newTenant();
    const keys = await call("POST", "/v1/keys", { key, rawBody: JSON.stringify(body), headers: { "content-type": "application/json" } });
    expectProblem(keys, 422, "validation_failed");
    const admin = await call("POST", "/admin/tenants", {
      admin: true,
      rawBody: JSON.stringify(body),
      headers: { "content-type": "application/json" },
    });
    expectProblem(admin, 422, "validation_failed");
  });

  it.each([
    ["a number as name", "name", { name: 12345, scopes: ["keys:read"] }],
    ["an object as name", "name", { name: { first: "a" }, scopes: ["keys:read"] }],
    ["a huge name", "name", { name: "n".repeat(100_000), scopes: ["keys:read"] }],
    ["a blank name", "name", { name: "   ", scopes: ["keys:read"] }],
    ["scopes as a string", "scopes", { name: "x", scopes: "keys:read" }],
    ["no scopes", "scopes", { name: "x", scopes: [] }],
    ["a number as scope", "scopes.0", { name: "x", scopes: [7] }],
    ["a huge scope", "scopes.0", { name: "x", scopes: ["s".repeat(50_000)] }],
    ["a non-date expiresAt", "expiresAt", { name: "x", scopes: ["keys:read"], expiresAt: "tomorrow" }],
    ["a numeric expiresAt", "expiresAt", { name: "x", scopes: ["keys:read"], expiresAt: 1e20 }],
    ["ipAllowlist as a string", "ipAllowlist", { name: "x", scopes: ["keys:read"], ipAllowlist: "1.2.3.4" }],
    ["a nested-array allowlist", "ipAllowlist.0", { name: "x", scopes: ["keys:read"], ipAllowlist: [["1.2.3.4"]] }],
    [
      "a negative rate limit",
      "rateLimits.read.limit",
      { name: "x", scopes: ["keys:read"], rateLimits: { read: { limit: -1, windowSeconds: 60 } } },
    ],
  ])("garbage input (%s) → 422 naming %s", async (_label, path, body) => {
    const { key } = await newTenant();
    const res = await call("POST", "/v1/keys", { key, body });
    expectProblem(res, 422, "validation_failed");
    fieldError(res, path);
  });

  it("garbage tenant settings → 422, never 500", async () => {
    for (const body of [
      { name: 5 },
      { name: "x".repeat(20_000) },
      { name: unique("g"), quotas: [] },
      { name: unique("g"), quotas: { apiKeys: "ten" } },
      { name: unique("g"), quotas: { apiKeys: -1 } },
      { name: unique("g"), apiAccess: "yes" },
      { name: unique("g"), retrySchedule: "60,120" },
      { name: unique("g"), breakerThreshold: 1.5 },
    ]) {
      const res = await call("POST", "/admin/tenants", { admin: true, body });
      expectProblem(res, 422, "validation_failed");
    }
  });
});

describe("query strings", () => {
  it.each([
    ["limit=0", "limit=0"],
    ["limit=abc", "limit=abc"],
    ["limit=101", "limit=101"],
    ["limit=-5", "limit=-5"],
    ["limit=1.5", "limit=1.5"],
    ["limit=", "limit="],
    ["cursor=not-a-cursor", "cursor=not-a-cursor"],
    ["a 300-char cursor", `cursor=${"a".repeat(300)}`],
  ])("GET /v1/keys?%s → 400 invalid_query", async (_label, qs) => {
    const { key } = await newTenant();
    const res = await call("GET", `/v1/keys?${qs}`, { key });
    expectProblem(res, 400, "invalid_query");
  });

  it("names the query field", async () => {
    const { key } = await newTenant();
    const res = await call("GET", "/v1/keys?limit=101", { key });
    expectProblem(res, 400, "invalid_query");
    expect(fieldError(res, "limit").message).toMatch(/100/);
    const cursor = await call("GET", "/v1/keys?cursor=%%%", { key });
    expectProblem(cursor, 400, "invalid_query");
  });

  it.each([
    ["an object", btoa('{"t":1}')],
    ["wrong types", btoa('["1",2]')],
    ["an infinite time", btoa('[1e999,"x"]')],
    ["a time outside the Date range", btoa('[1e20,"key_x"]')],
    ["a negative out-of-range time", btoa('[-1e20,"key_x"]')],
    ["not JSON", btoa("hello")],
  ])("a cursor holding %s → 400 invalid_query on every list", async (_label, cursor) => {
    const { key } = await newTenant();
    const c = encodeURIComponent(cursor.replace(/=+$/, ""));
    for (const [path, opts] of [
      [`/v1/keys?cursor=${c}`, { key }],
      [`/v1/audit-log?cursor=${c}`, { key }],
      [`/admin/tenants?cursor=${c}`, { admin: true }],
    ] as const) {
      const res = await call("GET", path, opts);
      expectProblem(res, 400, "invalid_query");
    }
  });

  it("limit bounds 1 and 100 are accepted", async () => {
    const { key } = await newTenant();
    for (const limit of [1, 100]) {
      const res = await call("GET", `/v1/keys?limit=${limit}`, { key });
      expect(res.status, res.text).toBe(200);
    }
  });

  it("bad queries on the operator API and audit log → 400 invalid_query", async () => {
    const { key } = await newTenant();
    expectProblem(await call("GET", "/admin/tenants?limit=0", { admin: true }), 400, "invalid_query");
    expectProblem(await call("GET", "/admin/tenants?limit=abc", { admin: true }), 400, "invalid_query");
    expectProblem(await call("GET", "/v1/audit-log?limit=101", { key }), 400, "invalid_query");
    expectProblem(await call("GET", "/v1/audit-log?action=DROP%20TABLE", { key }), 400, "invalid_query");
  });
});

describe("service endpoints", () => {
  it("GET /health → {ok: true, version} without auth", async () => {
    const res = await call("GET", "/health");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.body).toEqual({ ok: true, version: pkg.version });
  });

  it("GET /openapi.json is an OpenAPI 3.1 document of the API", async () => {
    const res = await call("GET", "/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const doc = res.body;
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.info.version).toBe(pkg.version);
    for (const path of ["/admin/tenants", "/admin/tenants/{id}", "/v1/keys", "/v1/keys/{id}", "/v1/keys/{id}/rotate", "/v1/audit-log"]) {
      expect(Object.keys(doc.paths), path).toContain(path);
    }
    expect(Object.keys(doc.paths["/v1/keys"]).sort()).toEqual(["get", "post"]);
    expect(Object.keys(doc.paths["/v1/keys/{id}"]).sort()).toEqual(["delete", "get", "patch"]);
    expect(Object.keys(doc.paths["/v1/keys/{id}/rotate"])).toEqual(["post"]);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.securitySchemes.apiKeyHeader).toMatchObject({ type: "apiKey", in: "header", name: "X-Api-Key" });
    expect(doc.components.securitySchemes.adminToken).toMatchObject({ type: "http", scheme: "bearer" });
    // Generated from the same zod schemas that validate requests. Scopes include the operator's
    // product scopes, which change at run time: the schema gives their form, GET /v1/scopes the list.
    const scopePattern = new RegExp(doc.components.schemas.Scope.pattern as string);
    expect(scopePattern.test("keys:write")).toBe(true);
    expect(scopePattern.test("tests:read")).toBe(true);
    expect(scopePattern.test("Keys")).toBe(false);
    expect(doc.paths["/v1/keys"].post.security).toEqual([{ bearerAuth: [] }, { apiKeyHeader: [] }]);
    expect(doc.paths["/admin/tenants"].post.security).toEqual([{ adminToken: [] }]);
  });

  it("GET /docs serves HTML pointing at /openapi.json", async () => {
    const res = await call("GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.text).toMatch(/<html/i);
    expect(res.text).toContain("/openapi.json");
  });
});
