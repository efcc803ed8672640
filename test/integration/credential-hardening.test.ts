import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, eventually, expectProblem, fieldError, newClient, newKey, newTenant, type Result, sleep, tokenRequest } from "./helpers";

/**
 * Credentials hand on nothing they do not hold: rate limits are capped by
 * the tenant's, restrictions are inherited, a rotation chain keeps at most
 * one old key alive, and a dead credential hears that first.
 */

const inHours = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();

function expectLimit(res: Result, bucket: "read" | "write", limit: number, windowSeconds: number) {
  expect(res.headers.get("x-ratelimit-limit"), res.text).toBe(String(limit));
  expect(res.headers.get("ratelimit-policy")).toBe(`"${bucket}";q=${limit};w=${windowSeconds}`);
}

const rename = (key: string, id: string) => call("PATCH", `/v1/keys/${id}`, { key, body: { name: `n-${Math.random()}` } });

describe("tenant limits are a ceiling", () => {
  it.each([
    ["a higher limit", { write: { limit: 31, windowSeconds: 60 } }, "rateLimits.write", { limit: 30, windowSeconds: 60 }],
    ["a faster rate", { write: { limit: 30, windowSeconds: 30 } }, "rateLimits.write", { limit: 30, windowSeconds: 60 }],
    ["a bigger burst at a slower rate", { read: { limit: 100, windowSeconds: 600 } }, "rateLimits.read", { limit: 60, windowSeconds: 60 }],
  ])("a key with %s than the defaults → 422 naming the ceiling; nothing stored", async (_what, rateLimits, path, ceiling) => {
    const { key } = await newTenant();
    const res = await call("POST", "/v1/keys", { key, body: { name: "too fast", scopes: ["keys:read"], rateLimits } });
    expectProblem(res, 422, "validation_failed");
    const e = fieldError(res, path) as { message: string; ceiling?: unknown };
    expect(e.message).toContain(`${ceiling.limit} per ${ceiling.windowSeconds} s`);
    expect(e.ceiling).toEqual(ceiling);
    expect((await call("GET", "/v1/keys", { key })).body.data).toHaveLength(1);
  });

  it("the tenant's own limits are the ceiling named, and both buckets are checked", async () => {
    const { key } = await newTenant({ rateLimits: { read: { limit: 10, windowSeconds: 60 }, write: { limit: 5, windowSeconds: 60 } } });
    const res = await call("POST", "/v1/keys", {
      key,
      body: {
        name: "x",
        scopes: ["keys:read"],
        rateLimits: { read: { limit: 11, windowSeconds: 60 }, write: { limit: 6, windowSeconds: 60 } },
      },
    });
    expectProblem(res, 422, "validation_failed");
    expect(fieldError(res, "rateLimits.read")).toMatchObject({
      message: expect.stringContaining("10 per 60 s"),
      ceiling: { limit: 10, windowSeconds: 60 },
    });
    expect(fieldError(res, "rateLimits.write")).toMatchObject({ ceiling: { limit: 5, windowSeconds: 60 } });
    // At the ceiling exactly, or below it, is fine.
    const ok = await call("POST", "/v1/keys", {
      key,
      body: { name: "y", scopes: ["keys:read"], rateLimits: { read: { limit: 10, windowSeconds: 60 } } },
    });
    expect(ok.status, ok.text).toBe(201);
  });

  it("the effective limit never exceeds the tenant's, also after the operator lowers it", async () => {
    const { tenant, key } = await newTenant({ rateLimits: { write: { limit: 20, windowSeconds: 60 } } });
    const own = await newKey(key, { scopes: ["keys:read", "keys:write"], rateLimits: { write: { limit: 10, windowSeconds: 60 } } });
    expectLimit(await rename(own.key, own.id), "write", 10, 60);
    expectLimit(await rename(key, (await call("GET", "/v1/keys?limit=1", { key })).body.data[0].id), "write", 20, 60);

    const lowered = await call("PATCH", `/admin/tenants/${tenant.id}`, {
      admin: true,
      body: { rateLimits: { write: { limit: 3, windowSeconds: 60 } } },
    });
    expect(lowered.status, lowered.text).toBe(200);
    // The key's stored override (10) is now above the ceiling: the ceiling applies.
    const results = await Promise.all(Array.from({ length: 6 }, () => rename(own.key, own.id)));
    for (const r of results.filter((r) => r.status === 200)) expectLimit(r, "write", 3, 60);
    // Exactly the 3 the tenant now allows (a new window, so a fresh budget), not the key's 10.
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    expect(results.filter((r) => r.status === 429)[0]?.body.policy).toBe("write:3/1m");
    // Its rotation copies the stored override, and is capped the same way.
    const rotated = await call("POST", `/v1/keys/${own.id}/rotate`, { key, body: { graceSeconds: 0 } });
    expect(rotated.status, rotated.text).toBe(201);
    expectLimit(await call("GET", "/v1/keys", { key: rotated.body.key }), "read", 60, 60);
    expectLimit(await rename(rotated.body.key, rotated.body.id), "write", 3, 60);
    // A new key may no longer ask for what was allowed before.
    const refused = await call("POST", "/v1/keys", {
      key,
      body: { name: "z", scopes: ["keys:read"], rateLimits: { write: { limit: 10, windowSeconds: 60 } } },
    });
    expectProblem(refused, 422, "validation_failed");
    expect(fieldError(refused, "rateLimits.write").message).toContain("3 per 60 s");
  });
});

describe("rotation chains", () => {
  it("a chain of rotations with grace leaves at most one old key working; the ended one gets 401 at once", async () => {
    const { key: admin } = await newTenant();
    const first = await newKey(admin, { scopes: ["keys:read", "keys:write"] });
    const chain = [first];
    for (let i = 0; i < 3; i++) {
      const prev = chain.at(-1)!;
      // Warm the isolate's cache of the key about to lose its grace: the refusal must not wait for it.
      if (chain.length >= 2) expect((await call("GET", "/v1/keys", { key: chain.at(-2)!.key })).status).toBe(200);
      const res = await call("POST", `/v1/keys/${prev.id}/rotate`, { key: admin, body: { graceSeconds: 3600 } });
      expect(res.status, res.text).toBe(201);
      chain.push({ key: res.body.key, id: res.body.id, body: res.body });
      const working = [];
      for (const k of chain) if ((await call("GET", "/v1/keys", { key: k.key })).status === 200) working.push(k.id);
      // The newest key and the one it replaced; every older one is refused.
      expect(working).toEqual(chain.slice(-2).map((k) => k.id));
      for (const dead of chain.slice(0, -2)) {
        expectProblem(await call("GET", "/v1/keys", { key: dead.key }), 401, "credential_revoked");
      }
    }
    const audit = await call("GET", "/v1/audit-log?limit=100&action=key.revoked", { key: admin });
    const ended = audit.body.data.filter((e: any) => e.details?.reason === "rotation_chain").map((e: any) => e.target);
    expect(ended.sort()).toEqual(
      chain
        .slice(0, 2)
        .map((k) => k.id)
        .sort(),
    );
  });

  it("rotating with grace 0 in the middle of a chain: only the newest key works", async () => {
    const { key: admin } = await newTenant();
    const a = await newKey(admin, { scopes: ["keys:read"] });
    const b = (await call("POST", `/v1/keys/${a.id}/rotate`, { key: admin, body: { graceSeconds: 3600 } })).body;
    const c = (await call("POST", `/v1/keys/${b.id}/rotate`, { key: admin, body: { graceSeconds: 0 } })).body;
    expectProblem(await call("GET", "/v1/keys", { key: a.key }), 401, "credential_revoked");
    expectProblem(await call("GET", "/v1/keys", { key: b.key }), 401, "credential_revoked");
    expect((await call("GET", "/v1/keys", { key: c.key })).status).toBe(200);
  });
});

/** A caller limited to `range` until `expires`, and the address it calls from. */
async function restrictedCaller(kind: "api key" | "oauth token", admin: string) {
  const expiresAt = inHours(2);
  const ipAllowlist = ["203.0.113.0/24"];
  const scopes = ["keys:read", "keys:write"];
  const ip = "203.0.113.7";
  if (kind === "api key") {
    const k = await newKey(admin, { scopes, expiresAt, ipAllowlist });
    return { credential: k.key, ip, expiresAt, ipAllowlist };
  }
  const client = await newClient(admin, { scopes, expiresAt, ipAllowlist });
  const token = await tokenRequest(
    { grant_type: "client_credentials" },
    { basic: { id: client.clientId, secret: client.clientSecret }, ip },
  );
  expect(token.status, token.text).toBe(200);
  return { credential: token.body.access_token as string, ip, expiresAt, ipAllowlist };
}

describe.each(["api key", "oauth token"] as const)("restrictions are inherited: a restricted %s", (kind) => {
  const looser: [string, Record<string, unknown>, string][] = [
    ["no expiry", { ipAllowlist: ["203.0.113.0/25"] }, "expiresAt"],
    ["a later expiry", { expiresAt: inHours(3), ipAllowlist: ["203.0.113.0/25"] }, "expiresAt"],
    ["no allowlist", { expiresAt: inHours(1) }, "ipAllowlist"],
    ["a range outside its own", { expiresAt: inHours(1), ipAllowlist: ["198.51.100.0/24"] }, "ipAllowlist"],
    ["a wider range", { expiresAt: inHours(1), ipAllowlist: ["203.0.0.0/16"] }, "ipAllowlist"],
  ];

  it.each(looser)("cannot create a key with %s → 403 restriction_escalation", async (_what, body, field) => {
    const { key: admin } = await newTenant();
    const caller = await restrictedCaller(kind, admin);
    const res = await call("POST", "/v1/keys", {
      key: caller.credential,
      ip: caller.ip,
      body: { name: "looser", scopes: ["keys:read"], ...body },
    });
    expectProblem(res, 403, "restriction_escalation");
    expect(res.body.field).toBe(field);
    expect((await call("GET", "/v1/keys?limit=100", { key: admin })).body.data.map((k: any) => k.name)).not.toContain("looser");
  });

  it.each(looser)("cannot create an OAuth client with %s → 403 restriction_escalation", async (_what, body, field) => {
    const { key: admin } = await newTenant();
    const caller = await restrictedCaller(kind, admin);
    const res = await call("POST", "/v1/oauth-clients", {
      key: caller.credential,
      ip: caller.ip,
      body: { name: "looser", scopes: ["keys:read"], ...body },
    });
    expectProblem(res, 403, "restriction_escalation");
    expect(res.body.field).toBe(field);
  });

  it("can create a key and a client as tight as itself, or tighter", async () => {
    const { key: admin } = await newTenant();
    const caller = await restrictedCaller(kind, admin);
    for (const path of ["/v1/keys", "/v1/oauth-clients"]) {
      const same = { expiresAt: caller.expiresAt, ipAllowlist: caller.ipAllowlist };
      const tighter = { expiresAt: inHours(1), ipAllowlist: ["203.0.113.7/32"] };
      for (const body of [same, tighter]) {
        const res = await call("POST", path, {
          key: caller.credential,
          ip: caller.ip,
          body: { name: "ok", scopes: ["keys:read"], ...body },
        });
        expect(res.status, `${path} ${res.text}`).toBe(201);
      }
    }
  });

  it("cannot PATCH a key past its own restrictions; the key is left as it was", async () => {
    const { key: admin } = await newTenant();
    const caller = await restrictedCaller(kind, admin);
    const target = await newKey(admin, { scopes: ["keys:read"], expiresAt: inHours(1), ipAllowlist: ["203.0.113.0/26"] });
    for (const [patch, field] of [
      [{ expiresAt: null }, "expiresAt"],
      [{ expiresAt: inHours(5) }, "expiresAt"],
      [{ ipAllowlist: null }, "ipAllowlist"],
      [{ ipAllowlist: ["0.0.0.0/0"] }, "ipAllowlist"],
      [{ name: "renamed too", ipAllowlist: ["198.51.100.1/32"] }, "ipAllowlist"],
    ] as const) {
      const res = await call("PATCH", `/v1/keys/${target.id}`, { key: caller.credential, ip: caller.ip, body: patch });
      expectProblem(res, 403, "restriction_escalation");
      expect(res.body.field).toBe(field);
    }
    const got = await call("GET", `/v1/keys/${target.id}`, { key: admin });
    expect(got.body).toMatchObject({ name: target.body.name, expiresAt: target.body.expiresAt, ipAllowlist: ["203.0.113.0/26"] });
    const ok = await call("PATCH", `/v1/keys/${target.id}`, {
      key: caller.credential,
      ip: caller.ip,
      body: { expiresAt: inHours(1.5), ipAllowlist: ["203.0.113.0/24"] },
    });
    expect(ok.status, ok.text).toBe(200);
  });

  it("cannot PATCH or rotate a key holding a scope it lacks → 403 scope_escalation", async () => {
    const { key: admin } = await newTenant();
    const caller = await restrictedCaller(kind, admin);
    const stronger = await newKey(admin, {
      scopes: ["keys:read", "webhooks:write"],
      expiresAt: inHours(1),
      ipAllowlist: ["203.0.113.0/24"],
    });
    const patched = await call("PATCH", `/v1/keys/${stronger.id}`, { key: caller.credential, ip: caller.ip, body: { name: "mine now" } });
    expectProblem(patched, 403, "scope_escalation");
    expect(patched.body.requiredScope).toBe("webhooks:write");
    const rotated = await call("POST", `/v1/keys/${stronger.id}/rotate`, {
      key: caller.credential,
      ip: caller.ip,
      body: { graceSeconds: 0 },
    });
    expectProblem(rotated, 403, "scope_escalation");
    expect((await call("GET", `/v1/keys/${stronger.id}`, { key: admin })).body).toMatchObject({
      name: stronger.body.name,
      revokedAt: null,
    });
    expect((await call("GET", "/v1/keys", { key: stronger.key, ip: caller.ip })).status).toBe(200);
  });

  it("cannot rotate a looser key to obtain its secret → 403 restriction_escalation", async () => {
    const { key: admin } = await newTenant();
    const caller = await restrictedCaller(kind, admin);
    const unrestricted = await newKey(admin, { scopes: ["keys:read"] });
    const res = await call("POST", `/v1/keys/${unrestricted.id}/rotate`, {
      key: caller.credential,
      ip: caller.ip,
      body: { graceSeconds: 0 },
    });
    expectProblem(res, 403, "restriction_escalation");
    expect((await call("GET", "/v1/keys", { key: unrestricted.key })).status).toBe(200);
    const tight = await newKey(admin, { scopes: ["keys:read"], expiresAt: inHours(1), ipAllowlist: ["203.0.113.0/24"] });
    const ok = await call("POST", `/v1/keys/${tight.id}/rotate`, { key: caller.credential, ip: caller.ip, body: { graceSeconds: 0 } });
    expect(ok.status, ok.text).toBe(201);
  });
});

/** The key's rate-limit and usage state inside its Durable Object. */
async function gateState(id: string): Promise<unknown> {
  const stub = env.CREDENTIAL_GATE.get(env.CREDENTIAL_GATE.idFromName(id));
  return runInDurableObject(stub, (_instance, state) => JSON.stringify(state.storage.kv.get("state") ?? null));
}

describe("order of checks: a dead credential hears that first, and spends nothing", () => {
  it("a revoked key on a route outside its scopes, from a refused address → 401 credential_revoked", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, {
      scopes: ["audit:read"],
      ipAllowlist: ["203.0.113.0/24"],
      rateLimits: { read: { limit: 2, windowSeconds: 60 } },
    });
    expect((await call("GET", "/v1/audit-log", { key: k.key, ip: "203.0.113.1" })).status).toBe(200);
    expect((await call("DELETE", `/v1/keys/${k.id}`, { key: admin })).status).toBe(204);
    const before = await gateState(k.id);
    for (const [method, path, ip] of [
      ["GET", "/v1/keys", "203.0.113.1"],
      ["POST", "/v1/webhooks", "198.51.100.1"],
      ["GET", "/v1/audit-log", "198.51.100.1"],
      ["DELETE", `/v1/keys/${k.id}`, "203.0.113.1"],
    ] as const) {
      const res = await call(method, path, {
        key: k.key,
        ip,
        ...(method === "POST" && { body: { url: "https://x.example.com", eventTypes: ["*"] } }),
      });
      expectProblem(res, 401, "credential_revoked");
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    expect(await gateState(k.id)).toBe(before);
  });

  it("an expired key on a route outside its scopes → 401 credential_expired; its budget is untouched", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, {
      scopes: ["audit:read"],
      expiresAt: new Date(Date.now() + 1500).toISOString(),
      rateLimits: { read: { limit: 2, windowSeconds: 60 }, write: { limit: 2, windowSeconds: 60 } },
    });
    expect((await call("GET", "/v1/audit-log", { key: k.key })).headers.get("x-ratelimit-remaining")).toBe("1");
    // Out of its scopes: 403 (spending nothing) while it lives, 401 once it has expired.
    await eventually(async () => ((await call("GET", "/v1/keys", { key: k.key })).status === 401 ? true : undefined), 40, 100);
    const before = await gateState(k.id);
    for (let i = 0; i < 5; i++) {
      expectProblem(await call("GET", "/v1/keys", { key: k.key }), 401, "credential_expired");
      expectProblem(await call("POST", "/v1/keys", { key: k.key, body: { name: "x", scopes: ["keys:read"] } }), 401, "credential_expired");
      expectProblem(await call("GET", "/v1/audit-log", { key: k.key }), 401, "credential_expired");
    }
    expect(await gateState(k.id)).toBe(before);
    // Brought back, it still has the one read it had left: nothing was spent while it was dead.
    expect((await call("PATCH", `/v1/keys/${k.id}`, { key: admin, body: { expiresAt: null } })).status).toBe(200);
    const again = await call("GET", "/v1/audit-log", { key: k.key });
    expect(again.status, again.text).toBe(200);
    expect(again.headers.get("x-ratelimit-remaining")).toBe("0");
  });

  it("an expired key of a tenant whose API access is off → 401 credential_expired, not 403", async () => {
    const { tenant, key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["keys:read"], expiresAt: new Date(Date.now() + 1000).toISOString() });
    await sleep(1100);
    expect((await call("PATCH", `/admin/tenants/${tenant.id}`, { admin: true, body: { apiAccess: false } })).status).toBe(200);
    expectProblem(await call("GET", "/v1/keys", { key: k.key }), 401, "credential_expired");
    expectProblem(await call("GET", "/v1/keys", { key: admin }), 403, "api_access_disabled");
  });
});
