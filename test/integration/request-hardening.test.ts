import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  BASE,
  type CallOptions,
  call,
  expectProblem,
  newOperatorEndpoint,
  newOperatorType,
  newRoomyTenant,
  stubDeliveryQueue,
} from "./helpers";
import { snapshot } from "./security-kit";

/**
 * Bodies are read only after authentication, with their size, media type
 * and nesting checked before anything is parsed or stored.
 */

afterEach(() => {
  vi.restoreAllMocks();
});

const json = (text: string, opts: CallOptions = {}) => ({
  ...opts,
  rawBody: text,
  headers: { "content-type": "application/json", ...opts.headers },
});
const nested = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;

describe("deep JSON → 400 too_deep before anything is stored", () => {
  it("64 levels are read; 65 are not (POST /v1/events)", async () => {
    const { key } = await newRoomyTenant();
    await stubDeliveryQueue();
    expect((await call("POST", "/v1/event-types", { key, body: { name: "deep.data" } })).status).toBe(201);
    // The body object is level 1: data holds 63 more, then 64.
    const at = await call("POST", "/v1/events", json(`{"type":"deep.data","data":${nested(63)}}`, { key }));
    expect(at.status, at.text).toBe(202);
    const over = await call("POST", "/v1/events", json(`{"type":"deep.data","data":${nested(64)}}`, { key }));
    expectProblem(over, 400, "too_deep");
    const events = await call("GET", "/v1/events?type=deep.data", { key });
    expect(events.body.data).toHaveLength(1);
  });

  it("brackets inside strings are not nesting, escaped quotes included", async () => {
    const { key } = await newRoomyTenant();
    // Were the escaped quote taken for the string's end, the 70 brackets after it would count.
    const description = `${"[".repeat(10)}\\"${"[".repeat(70)}`;
    const res = await call("POST", "/v1/event-types", json(`{"name":"str.brackets","description":"${description}"}`, { key }));
    expect(res.status, res.text).toBe(201);
    expect(res.body.description).toBe(`${"[".repeat(10)}"${"[".repeat(70)}`);
  });

  it("on events, keys, webhooks, event types and the operator's routes, in the fields that take objects; nothing stored", async () => {
    const { key, tenant, keyId } = await newRoomyTenant();
    const opType = await newOperatorType();
    const endpoint = await newOperatorEndpoint({ eventTypes: ["*"] });
    expect((await call("POST", "/v1/event-types", { key, body: { name: "deep.case" } })).status).toBe(201);
    const hook = await call("POST", "/v1/webhooks", { key, body: { url: "https://hooks.example.com/d", eventTypes: ["*"] } });
    const deepObject = `{"a":${'{"a":'.repeat(70)}1${"}".repeat(70)}}`;
    const cases: [string, string, string, CallOptions][] = [
      ["POST", "/v1/events", `{"type":"deep.case","data":${deepObject}}`, { key }],
      ["POST", "/v1/keys", `{"name":"k","scopes":["keys:read"],"rateLimits":${deepObject}}`, { key }],
      ["PATCH", `/v1/keys/${keyId}`, `{"name":${deepObject}}`, { key }],
      ["POST", "/v1/webhooks", `{"url":"https://hooks.example.com/x","eventTypes":["*"],"customFields":${deepObject}}`, { key }],
      ["PATCH", `/v1/webhooks/${hook.body.id}`, `{"headers":${deepObject}}`, { key }],
      ["POST", "/v1/event-types", `{"name":"deep.schema","schema":${deepObject}}`, { key }],
      ["PATCH", "/v1/event-types/deep.case", `{"schema":${deepObject}}`, { key }],
      ["POST", "/admin/tenants", `{"name":"deep-tenant","quotas":${deepObject}}`, { admin: true }],
      ["PATCH", `/admin/tenants/${tenant.id}`, `{"rateLimits":${deepObject}}`, { admin: true }],
      ["POST", `/admin/tenants/${tenant.id}/events`, `{"type":"${opType.name}","data":${deepObject}}`, { admin: true }],
      ["POST", "/admin/event-types", `{"name":"deep.op_schema","schema":${deepObject}}`, { admin: true }],
      ["PATCH", `/admin/event-types/${opType.name}`, `{"schema":${deepObject}}`, { admin: true }],
      ["POST", "/admin/webhooks", `{"url":"https://ops.example.com/d","eventTypes":["*"],"customFields":${deepObject}}`, { admin: true }],
      ["PATCH", `/admin/webhooks/${endpoint.id}`, `{"customFields":${deepObject}}`, { admin: true }],
      ["PUT", "/admin/scopes", `{"scopes":${nested(70)}}`, { admin: true }],
      ["PUT", "/admin/gateway", `{"origin":"https://api.example.com","routes":${nested(70)}}`, { admin: true }],
      ["POST", "/admin/verify", `{"credential":${deepObject}}`, { admin: true }],
    ];
    const before = await snapshot();
    for (const [method, path, body, opts] of cases) {
      const res = await call(method, path, json(body, opts));
      expect(res.status, `${method} ${path}: ${res.text}`).toBe(400);
      expectProblem(res, 400, "too_deep");
    }
    expect(await snapshot()).toEqual(before);
  });
});

/** A body that sends one chunk and then never ends: reading it would hang. */
function endlessBody(): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent) return new Promise<void>(() => {});
      sent = true;
      controller.enqueue(new TextEncoder().encode('{"name":"'));
    },
  });
}

describe("authentication before the body", () => {
  const ROUTES: [string, string, boolean][] = [
    ["POST", "/v1/keys", false],
    ["PATCH", "/v1/keys/key_abcdefghijklmnopqrst", false],
    ["POST", "/v1/events", false],
    ["POST", "/v1/webhooks", false],
    ["POST", "/v1/webhooks/wh_abcdefghijklmnopqrst/test", false],
    ["POST", "/v1/event-types", false],
    ["POST", "/v1/oauth-clients", false],
    ["POST", "/admin/tenants", true],
    ["POST", "/admin/event-types", true],
    ["PUT", "/admin/gateway", true],
  ];
  const BODIES: [string, BodyInit, Record<string, string>][] = [
    ["oversized (1 MiB, no length given)", new Blob(["x".repeat(1024 * 1024)]).stream(), { "content-type": "application/json" }],
    ["oversized, declared", "{}", { "content-type": "application/json", "content-length": String(10 * 1024 * 1024) }],
    ["not JSON", "name=x&scopes=keys:read", { "content-type": "application/x-www-form-urlencoded" }],
    ["text/plain", "hello", { "content-type": "text/plain" }],
    ["deep", `{"a":${nested(500)}}`, { "content-type": "application/json" }],
    ["malformed", '{"name":', { "content-type": "application/json" }],
  ];

  it.each(ROUTES)("%s %s: anonymous or a bad credential → 401, whatever the body", async (method, path, admin) => {
    const { key } = await newRoomyTenant();
    const bad = admin
      ? [undefined, "Bearer wrong-admin-token-xxxxxxxx", `Bearer ${key}`]
      : [undefined, "Bearer hg_live_bogus", "Bearer eyJ.e30.x"];
    const before = await snapshot();
    for (const authorization of bad) {
      for (const [what, body, headers] of BODIES) {
        const payload = body instanceof ReadableStream ? new Blob(["x".repeat(1024 * 1024)]).stream() : body;
        const res = await call(method, path, { rawBody: payload, headers: { ...headers, ...(authorization && { authorization }) } });
        expect(res.status, `${what} with ${authorization ?? "nothing"}: ${res.text.slice(0, 200)}`).toBe(401);
        expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it("a body that never ends is not waited for: the 401 comes first", async () => {
    for (const [method, path] of [
      ["POST", "/v1/keys"],
      ["POST", "/admin/tenants"],
    ]) {
      const res = await exports.default.fetch(
        new Request(`${BASE}${path}`, { method, body: endlessBody(), headers: { "content-type": "application/json" } }),
      );
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe("unauthorized");
    }
  });
});

describe("415 stays 415", () => {
  it("POST /v1/keys with Content-Type: text/plain and an empty body → 415 unsupported_media_type", async () => {
    const { key } = await newRoomyTenant();
    const res = await call("POST", "/v1/keys", { key, rawBody: "", headers: { "content-type": "text/plain" } });
    expectProblem(res, 415, "unsupported_media_type");
    // Whereas an empty body as JSON, or with no type at all, is an empty object: the validator names what is missing.
    for (const headers of [{ "content-type": "application/json" }, {}] as Record<string, string>[]) {
      // Bytes, not a string: a string body would get text/plain from the Request itself.
      const empty = await call("POST", "/v1/keys", { key, rawBody: new Uint8Array(0), headers });
      expectProblem(empty, 422, "validation_failed");
    }
    expect((await call("GET", "/v1/keys", { key })).body.data).toHaveLength(1);
  });

  it("the same on PATCH and on the operator's routes", async () => {
    const { key, keyId } = await newRoomyTenant();
    for (const [method, path, opts] of [
      ["PATCH", `/v1/keys/${keyId}`, { key }],
      ["POST", "/admin/tenants", { admin: true }],
      ["PUT", "/admin/scopes", { admin: true }],
    ] as const) {
      const res = await call(method, path, { ...opts, rawBody: "", headers: { "content-type": "text/plain; charset=utf-8" } });
      expectProblem(res, 415, "unsupported_media_type");
    }
  });
});

describe("X-Content-Type-Options: nosniff and X-Request-Id on every response", () => {
  it("the API, its errors, the pages and their assets, the operator's routes, source URLs, and the gateway's answers", async () => {
    const { key } = await newRoomyTenant();
    const docs = await call("GET", "/docs");
    const asset = /src="(\/docs\/assets\/[^"]+)"/.exec(docs.text)![1]!;
    const responses: [string, { status: number; headers: Headers }][] = [
      ["/health", await call("GET", "/health")],
      ["HEAD /health", await call("HEAD", "/health")],
      ["an unknown route", await call("GET", "/nope")],
      ["a wrong method", await call("DELETE", "/health")],
      ["/openapi.json", await call("GET", "/openapi.json")],
      ["/docs", docs],
      ["an asset", await call("GET", asset)],
      ["/dashboard", await call("GET", "/dashboard")],
      ["a portal page", await call("GET", "/dashboard/portal/ten_nope")],
      ["a tenant's list", await call("GET", "/v1/keys", { key })],
      ["401", await call("GET", "/v1/keys")],
      ["400", await call("POST", "/v1/keys", json("{", { key }))],
      ["415", await call("POST", "/v1/keys", { key, rawBody: "x", headers: { "content-type": "text/plain" } })],
      ["422", await call("POST", "/v1/keys", json("{}", { key }))],
      [
        "the token endpoint's error",
        await call("POST", "/oauth/token", {
          rawBody: "grant_type=password",
          headers: { "content-type": "application/x-www-form-urlencoded" },
        }),
      ],
      ["the operator API", await call("GET", "/admin/tenants", { admin: true })],
      ["a refused listen upgrade", await call("GET", "/v1/listen", { key: "hg_live_bogus", headers: { upgrade: "websocket" } })],
      ["a source URL", await call("POST", "/in/src_nope/token", json("{}"))],
    ];
    for (const [what, res] of responses) {
      expect(res.headers.get("x-content-type-options"), what).toBe("nosniff");
      expect(res.headers.get("x-request-id"), what).toMatch(/^req_[0-9A-Za-z]{22}$/);
    }
  });

  it("a proxied answer of the operator's API too, whatever the origin sent", async () => {
    expect((await call("PUT", "/admin/scopes", { admin: true, body: { scopes: [{ name: "sniff:read" }] } })).status).toBe(200);
    const route = { path: "/sniff-probe/*", scope: "sniff:read" };
    const put = await call("PUT", "/admin/gateway", { admin: true, body: { origin: "https://origin.example.com", routes: [route] } });
    expect(put.status, put.text).toBe(200);
    try {
      const { key } = await newRoomyTenant();
      const reader = await call("POST", "/v1/keys", { key, body: { name: "sniffer", scopes: ["sniff:read"] } });
      // The origin claims HTML and asks for sniffing.
      vi.spyOn(globalThis, "fetch").mockImplementation(
        async () => new Response("<b>hi</b>", { headers: { "content-type": "text/html", "x-content-type-options": "sniff" } }),
      );
      const res = await call("GET", "/sniff-probe/1", { key: reader.body.key, headers: { "x-request-id": "trace-sniff-1" } });
      expect(res.status, res.text).toBe(200);
      expect(res.text).toBe("<b>hi</b>");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-request-id")).toBe("trace-sniff-1");
    } finally {
      vi.restoreAllMocks();
      await call("PUT", "/admin/gateway", { admin: true, body: { origin: "https://origin.example.com", routes: [] } });
    }
  });
});
