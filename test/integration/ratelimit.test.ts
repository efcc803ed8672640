import { describe, expect, it } from "vitest";
import { generateApiKey } from "../../src/auth/key-format";
import { call, expectProblem, newKey, newTenant, type Result, sleep, unique } from "./helpers";

/** A cheap authenticated write: renames the caller's own key. */
const rename = (key: string, id: string) => call("PATCH", `/v1/keys/${id}`, { key, body: { name: unique("renamed") } });

function rateHeaders(res: Result) {
  const h = res.headers;
  return {
    limit: h.get("x-ratelimit-limit"),
    remaining: h.get("x-ratelimit-remaining"),
    reset: h.get("x-ratelimit-reset"),
    policy: h.get("ratelimit-policy"),
    ratelimit: h.get("ratelimit"),
  };
}

/** Parses `"read";r=12;t=30`. */
function parseRateLimit(value: string | null): { bucket: string; r: number; t: number } {
  const m = /^"(\w+)";r=(\d+);t=(\d+)$/.exec(value ?? "");
  if (!m) throw new Error(`bad RateLimit header: ${value}`);
  return { bucket: m[1]!, r: Number(m[2]), t: Number(m[3]) };
}

/** Every rate-limit header present and consistent with each other. */
function expectRateHeaders(res: Result, bucket: string, limit: number, windowSeconds: number) {
  const h = rateHeaders(res);
  expect(h.limit, `X-RateLimit-Limit on ${res.status}`).toBe(String(limit));
  expect(h.policy).toBe(`"${bucket}";q=${limit};w=${windowSeconds}`);
  expect(h.remaining).toMatch(/^\d+$/);
  expect(h.reset).toMatch(/^\d+$/);
  const rl = parseRateLimit(h.ratelimit);
  expect(rl.bucket).toBe(bucket);
  expect(rl.r).toBe(Number(h.remaining));
  expect(rl.t).toBeLessThanOrEqual(windowSeconds);
  expect(Number(h.reset)).toBeGreaterThanOrEqual(1);
  return { remaining: Number(h.remaining), reset: Number(h.reset), t: rl.t };
}

describe("write bucket under concurrency", () => {
  it("admits exactly 30 of 40 concurrent writes and refuses the rest with 429 problems", async () => {
    const { key, keyId } = await newTenant();
    const results = await Promise.all(Array.from({ length: 40 }, () => rename(key, keyId)));
    const ok = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.status === 429);
    expect(ok.length).toBe(30);
    expect(limited.length).toBe(10);

    // Every admitted response saw a distinct remaining count: 29 down to 0.
    const remaining = ok.map((r) => expectRateHeaders(r, "write", 30, 60).remaining).sort((a, b) => a - b);
    expect(remaining).toEqual(Array.from({ length: 30 }, (_, i) => i));

    for (const res of limited) {
      expectProblem(res, 429, "rate_limited");
      expect(res.body.policy).toBe("write:30/1m");
      expect(Number.isInteger(res.body.retryAfter)).toBe(true);
      expect(res.body.retryAfter).toBeGreaterThanOrEqual(1);
      // One slot frees every 2 s.
      expect(res.body.retryAfter).toBeLessThanOrEqual(2);
      expect(res.headers.get("retry-after")).toBe(String(res.body.retryAfter));
      const h = expectRateHeaders(res, "write", 30, 60);
      expect(h.remaining).toBe(0);
      expect(h.reset).toBe(res.body.retryAfter);
      expect(h.t).toBeGreaterThan(55);
    }
  });

  it("reports the first write's headers exactly", async () => {
    const { key, keyId } = await newTenant();
    const res = await rename(key, keyId);
    expect(res.status).toBe(200);
    expect(rateHeaders(res)).toEqual({
      limit: "30",
      remaining: "29",
      reset: "2",
      policy: '"write";q=30;w=60',
      ratelimit: '"write";r=29;t=2',
    });
  });

  it("reports the first read's headers exactly (read default 60/min)", async () => {
    const { key } = await newTenant();
    const res = await call("GET", "/v1/keys", { key });
    expect(res.status).toBe(200);
    expect(rateHeaders(res)).toEqual({
      limit: "60",
      remaining: "59",
      reset: "1",
      policy: '"read";q=60;w=60',
      ratelimit: '"read";r=59;t=1',
    });
  });

  it("refuses more reads than the read default of 60 (61 concurrent → one 429)", async () => {
    const { key } = await newTenant();
    const results = await Promise.all(Array.from({ length: 61 }, () => call("GET", "/v1/keys", { key })));
    expect(results.filter((r) => r.status === 200).length).toBe(60);
    const limited = results.filter((r) => r.status === 429);
    expect(limited.length).toBe(1);
    expectProblem(limited[0]!, 429, "rate_limited");
    expect(limited[0]!.body.policy).toBe("read:60/1m");
    expect(limited[0]!.headers.get("retry-after")).toBe("1");
  });
});

describe("buckets", () => {
  it("keeps read and write independent: with writes exhausted, reads still pass", async () => {
    const { key, keyId } = await newTenant();
    await Promise.all(Array.from({ length: 30 }, () => rename(key, keyId)));
    expectProblem(await rename(key, keyId), 429, "rate_limited");
    const read = await call("GET", "/v1/keys", { key });
    expect(read.status).toBe(200);
    expectRateHeaders(read, "read", 60, 60);
    expect(read.headers.get("x-ratelimit-remaining")).toBe("59");
    // DELETE is a write too.
    expectProblem(await call("DELETE", `/v1/keys/key_doesnotexist0000000`, { key }), 429, "rate_limited");
  });

  it("gives two keys of one tenant independent budgets", async () => {
    const { key, keyId } = await newTenant();
    const second = await newKey(key, { scopes: ["keys:read", "keys:write"] });
    await Promise.all(Array.from({ length: 30 }, () => rename(key, keyId)));
    expectProblem(await rename(key, keyId), 429, "rate_limited");
    const other = await rename(second.key, second.id);
    expect(other.status).toBe(200);
    expect(other.headers.get("x-ratelimit-remaining")).toBe("29");
  });

  it("gives keys of different tenants independent budgets", async () => {
    const a = await newTenant();
    const b = await newTenant();
    await Promise.all(Array.from({ length: 30 }, () => rename(a.key, a.keyId)));
    expectProblem(await rename(a.key, a.keyId), 429, "rate_limited");
    expect((await rename(b.key, b.keyId)).status).toBe(200);
  });
});

describe("overrides", () => {
  it("applies a per-key override from POST /v1/keys", async () => {
    const { key } = await newTenant();
    const limited = await newKey(key, { scopes: ["keys:read", "keys:write"], rateLimits: { read: { limit: 3, windowSeconds: 3 } } });
    expect(limited.body.rateLimits).toEqual({ read: { limit: 3, windowSeconds: 3 } });
    for (let i = 0; i < 3; i++) {
      const res = await call("GET", "/v1/keys", { key: limited.key });
      expect(res.status, `read ${i + 1}`).toBe(200);
      expectRateHeaders(res, "read", 3, 3);
      expect(res.headers.get("x-ratelimit-remaining")).toBe(String(2 - i));
    }
    const refused = await call("GET", "/v1/keys", { key: limited.key });
    expectProblem(refused, 429, "rate_limited");
    expect(refused.body.policy).toBe("read:3/3s");
    expect(refused.body.retryAfter).toBe(1);
    expect(refused.headers.get("retry-after")).toBe("1");
    expectRateHeaders(refused, "read", 3, 3);
    // Writes keep the default.
    const write = await rename(limited.key, limited.id);
    expect(write.status).toBe(200);
    expectRateHeaders(write, "write", 30, 60);
    // The tenant's other key is unaffected.
    expectRateHeaders(await call("GET", "/v1/keys", { key }), "read", 60, 60);
  });

  it("applies a per-tenant override from PATCH /admin/tenants/:id; a key override can only go lower", async () => {
    const { tenant, key, keyId } = await newTenant();
    const keyOverride = await newKey(key, { scopes: ["keys:read", "keys:write"], rateLimits: { write: { limit: 1, windowSeconds: 120 } } });
    // Within the ceiling when created; above the tenant's new one once it is lowered.
    const keyAbove = await newKey(key, { scopes: ["keys:read", "keys:write"], rateLimits: { write: { limit: 4, windowSeconds: 60 } } });
    // Warm the isolate cache with the old tenant settings first.
    expect((await call("GET", "/v1/keys", { key })).status).toBe(200);
    const patched = await call("PATCH", `/admin/tenants/${tenant.id}`, {
      admin: true,
      body: { rateLimits: { write: { limit: 2, windowSeconds: 120 }, read: { limit: 5, windowSeconds: 60 } } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.rateLimits).toEqual({ write: { limit: 2, windowSeconds: 120 }, read: { limit: 5, windowSeconds: 60 } });

    for (let i = 0; i < 2; i++) {
      const res = await rename(key, keyId);
      expect(res.status).toBe(200);
      expectRateHeaders(res, "write", 2, 120);
    }
    const refused = await rename(key, keyId);
    expectProblem(refused, 429, "rate_limited");
    expect(refused.body.policy).toBe("write:2/2m");
    expect(refused.body.retryAfter).toBe(60);
    expect(refused.headers.get("retry-after")).toBe("60");

    const read = await call("GET", "/v1/keys", { key });
    expectRateHeaders(read, "read", 5, 60);

    // A key's own lower write override applies; its reads fall back to the tenant's.
    const results = await Promise.all(Array.from({ length: 6 }, () => rename(keyOverride.key, keyOverride.id)));
    expect(results.filter((r) => r.status === 200).length).toBe(1);
    expect(results.find((r) => r.status === 429)?.body.policy).toBe("write:1/2m");
    expectRateHeaders(await call("GET", "/v1/keys", { key: keyOverride.key }), "read", 5, 60);
    // An override above the tenant's limits is capped by them: the tenant's limits are a ceiling.
    const above = await Promise.all(Array.from({ length: 6 }, () => rename(keyAbove.key, keyAbove.id)));
    expect(above.filter((r) => r.status === 200).length).toBe(2);
    expect(above.find((r) => r.status === 429)?.body.policy).toBe("write:2/2m");

    // Clearing the tenant override restores the defaults.
    const cleared = await call("PATCH", `/admin/tenants/${tenant.id}`, { admin: true, body: { rateLimits: null } });
    expect(cleared.status).toBe(200);
    const after = await rename(key, keyId);
    expect(after.status).toBe(200);
    expectRateHeaders(after, "write", 30, 60);
  });

  it("refuses invalid overrides with 422", async () => {
    const { key } = await newTenant();
    for (const rateLimits of [
      { read: { limit: 0, windowSeconds: 60 } },
      { read: { limit: 10, windowSeconds: 0 } },
      { write: { limit: 1.5, windowSeconds: 60 } },
      { token: { limit: 10, windowSeconds: 60 } },
      { read: { limit: 10 } },
    ]) {
      const res = await call("POST", "/v1/keys", { key, body: { name: unique(), scopes: ["keys:read"], rateLimits } });
      expectProblem(res, 422, "validation_failed");
    }
  });
});

describe("sliding window", () => {
  it("frees one slot per window/limit, not the whole window at once", async () => {
    const { key } = await newTenant();
    const k = await newKey(key, { scopes: ["keys:read"], rateLimits: { read: { limit: 2, windowSeconds: 2 } } });
    expect((await call("GET", "/v1/keys", { key: k.key })).status).toBe(200);
    expect((await call("GET", "/v1/keys", { key: k.key })).status).toBe(200);
    const refused = await call("GET", "/v1/keys", { key: k.key });
    expectProblem(refused, 429, "rate_limited");
    expect(refused.body.policy).toBe("read:2/2s");
    expect(refused.body.retryAfter).toBe(1);

    await sleep(1_100);
    const again = await call("GET", "/v1/keys", { key: k.key });
    expect(again.status).toBe(200);
    expect(again.headers.get("x-ratelimit-remaining")).toBe("0");
    expectProblem(await call("GET", "/v1/keys", { key: k.key }), 429, "rate_limited");
  });

  it("admits again no earlier than Retry-After says, and by then", async () => {
    const { key } = await newTenant();
    const k = await newKey(key, { scopes: ["keys:read"], rateLimits: { read: { limit: 1, windowSeconds: 2 } } });
    expect((await call("GET", "/v1/keys", { key: k.key })).status).toBe(200);
    const refused = await call("GET", "/v1/keys", { key: k.key });
    expectProblem(refused, 429, "rate_limited");
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBe(2);
    await sleep(1_000);
    expectProblem(await call("GET", "/v1/keys", { key: k.key }), 429, "rate_limited");
    await sleep(retryAfter * 1000 - 1_000 + 50);
    expect((await call("GET", "/v1/keys", { key: k.key })).status).toBe(200);
  });
});

describe("refusals for other reasons do not spend the budget", () => {
  it("missing scope (403)", async () => {
    const { key } = await newTenant();
    const k = await newKey(key, { scopes: ["audit:read"], rateLimits: { read: { limit: 2, windowSeconds: 60 } } });
    for (let i = 0; i < 5; i++) {
      const res = await call("GET", "/v1/keys", { key: k.key });
      expectProblem(res, 403, "insufficient_scope");
      expect(res.body.requiredScope).toBe("keys:read");
    }
    expect((await call("GET", "/v1/audit-log", { key: k.key })).status).toBe(200);
    const second = await call("GET", "/v1/audit-log", { key: k.key });
    expect(second.status).toBe(200);
    expect(second.headers.get("x-ratelimit-remaining")).toBe("0");
    expectProblem(await call("GET", "/v1/audit-log", { key: k.key }), 429, "rate_limited");
  });

  it("IP not allowed (403)", async () => {
    const { key } = await newTenant();
    const k = await newKey(key, {
      scopes: ["keys:read"],
      ipAllowlist: ["203.0.113.0/24"],
      rateLimits: { read: { limit: 2, windowSeconds: 60 } },
    });
    for (let i = 0; i < 5; i++) expectProblem(await call("GET", "/v1/keys", { key: k.key, ip: "198.51.100.7" }), 403, "ip_not_allowed");
    expectProblem(await call("GET", "/v1/keys", { key: k.key }), 403, "ip_not_allowed");
    const first = await call("GET", "/v1/keys", { key: k.key, ip: "203.0.113.5" });
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-remaining")).toBe("1");
    expect((await call("GET", "/v1/keys", { key: k.key, ip: "203.0.113.200" })).status).toBe(200);
    expectProblem(await call("GET", "/v1/keys", { key: k.key, ip: "203.0.113.5" }), 429, "rate_limited");
  });

  it("bad checksum, unknown key and garbage (401)", async () => {
    const { tenant, key } = await newTenant();
    const k = await newKey(key, { scopes: ["keys:read"], rateLimits: { read: { limit: 2, windowSeconds: 60 } } });
    const last = k.key.at(-1)!;
    const typo = k.key.slice(0, -1) + (last === "a" ? "b" : "a");
    const unknown = generateApiKey("hg", tenant.id);
    for (const bad of [typo, unknown, `${k.key}x`, "garbage"]) {
      for (let i = 0; i < 3; i++) {
        const res = await call("GET", "/v1/keys", { key: bad });
        expectProblem(res, 401, "invalid_credential");
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
        // No budget is reported for a credential that was never identified.
        expect(res.headers.get("x-ratelimit-limit")).toBeNull();
      }
    }
    expect((await call("GET", "/v1/keys", { key: k.key })).headers.get("x-ratelimit-remaining")).toBe("1");
  });

  it("a 429 itself does not spend the budget (refused requests leave the state as it was)", async () => {
    const { key } = await newTenant();
    const k = await newKey(key, { scopes: ["keys:read"], rateLimits: { read: { limit: 2, windowSeconds: 2 } } });
    await call("GET", "/v1/keys", { key: k.key });
    await call("GET", "/v1/keys", { key: k.key });
    // Hammering while limited must not push the next free slot further out.
    for (let i = 0; i < 10; i++) expectProblem(await call("GET", "/v1/keys", { key: k.key }), 429, "rate_limited");
    await sleep(1_100);
    expect((await call("GET", "/v1/keys", { key: k.key })).status).toBe(200);
  });
});

describe("headers on every authenticated response", () => {
  it("are present on 200, 201, 204, 404, 409 and 422 responses alike", async () => {
    const { key, keyId } = await newTenant({ quotas: { apiKeys: 2 } });
    const responses: [string, Result, string][] = [];
    responses.push(["200", await call("GET", "/v1/keys", { key }), "read"]);
    responses.push(["200 get", await call("GET", `/v1/keys/${keyId}`, { key }), "read"]);
    const created = await call("POST", "/v1/keys", { key, body: { name: unique(), scopes: ["keys:read"] } });
    responses.push(["201", created, "write"]);
    responses.push(["409", await call("POST", "/v1/keys", { key, body: { name: unique(), scopes: ["keys:read"] } }), "write"]);
    responses.push(["404 get", await call("GET", "/v1/keys/key_doesnotexist0000000", { key }), "read"]);
    responses.push(["404 patch", await call("PATCH", "/v1/keys/key_doesnotexist0000000", { key, body: { name: "x" } }), "write"]);
    responses.push(["422", await call("PATCH", `/v1/keys/${keyId}`, { key, body: { scopes: ["keys:read"] } }), "write"]);
    responses.push(["204", await call("DELETE", `/v1/keys/${created.body.id}`, { key }), "write"]);
    responses.push(["X-Api-Key", await call("GET", "/v1/keys", { key, apiKeyHeader: true }), "read"]);

    const statuses = responses.map(([, r]) => r.status);
    expect(statuses).toEqual([200, 200, 201, 409, 404, 404, 422, 204, 200]);
    for (const [label, res, bucket] of responses) {
      const limit = bucket === "read" ? 60 : 30;
      expect(res.headers.get("x-ratelimit-limit"), label).toBe(String(limit));
      expectRateHeaders(res, bucket, limit, 60);
    }
    // And each of them was counted: 4 reads (incl. X-Api-Key) and 5 writes so far.
    const next = await call("GET", "/v1/keys", { key });
    expect(next.headers.get("x-ratelimit-remaining")).toBe(String(60 - 5));
    const nextWrite = await rename(key, keyId);
    expect(nextWrite.headers.get("x-ratelimit-remaining")).toBe(String(30 - 6));
  });

  it("HEAD is a read: it carries the read bucket's headers and spends from it", async () => {
    const { key } = await newTenant();
    const head = await call("HEAD", "/v1/keys", { key });
    expect(head.status).toBe(200);
    expect(head.text).toBe("");
    expectRateHeaders(head, "read", 60, 60);
    expect(head.headers.get("x-ratelimit-remaining")).toBe("59");
    expect((await call("GET", "/v1/keys", { key })).headers.get("x-ratelimit-remaining")).toBe("58");
  });

  it("are absent on unauthenticated routes", async () => {
    const health = await call("GET", "/health");
    expect(health.headers.get("x-ratelimit-limit")).toBeNull();
    expect(health.headers.get("ratelimit")).toBeNull();
  });
});
