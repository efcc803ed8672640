import { afterEach, describe, expect, it, vi } from "vitest";
import { callUrl, putGateway, stubOrigin } from "./gateway-kit";
import { BASE, call, expectProblem, newClient, newKey, newTenant, type Result, tokenFor } from "./helpers";

afterEach(() => vi.restoreAllMocks());

type Point = { start: string; total: number; ok: number; clientErrors: number; rateLimited: number; serverErrors: number };

const usage = async (path: string, key: string, granularity?: string) => {
  const res = await call("GET", `${path}${granularity ? `?granularity=${granularity}` : ""}`, { key });
  expect(res.status).toBe(200);
  return res.body.data as Point[];
};

/** Every bucket added up (a test may cross a minute's edge: the mix is then split over two buckets). */
function sum(points: Point[]) {
  const out = { total: 0, ok: 0, clientErrors: 0, rateLimited: 0, serverErrors: 0 };
  for (const p of points) {
    expect(p.total).toBe(p.ok + p.clientErrors + p.rateLimited + p.serverErrors);
    for (const k of Object.keys(out) as (keyof typeof out)[]) out[k] += p[k];
  }
  return out;
}

function expectNewestFirst(points: Point[], stepMs: number) {
  for (let i = 1; i < points.length; i++) expect(Date.parse(points[i - 1]!.start)).toBeGreaterThan(Date.parse(points[i]!.start));
  for (const p of points) expect(Date.parse(p.start) % stepMs).toBe(0);
}

describe("usage by outcome", () => {
  it("counts an exact mix of outcomes (API and gateway) at minute, hour and day granularity", async () => {
    await putGateway({ routes: [{ path: "/usage-mix/*" }] });
    stubOrigin(() => new Response("down", { status: 503 }));
    const { key } = await newTenant();
    const k = await newKey(key, { scopes: ["keys:read"], rateLimits: { read: { limit: 4, windowSeconds: 60 } } });

    expect((await call("GET", "/v1/keys", { key: k.key })).status).toBe(200); // ok
    expect((await call("GET", "/v1/keys", { key: k.key })).status).toBe(200); // ok
    expectProblem(await call("GET", "/v1/keys/key_nope", { key: k.key }), 404, "not_found"); // clientErrors
    expectProblem(await call("POST", "/v1/keys", { key: k.key, body: { name: "x", scopes: ["keys:read"] } }), 403, "insufficient_scope");
    expect((await callUrl("GET", `${BASE}/usage-mix/a`, { key: k.key })).status).toBe(503); // serverErrors (the 4th read)
    expectProblem(await call("GET", "/v1/keys", { key: k.key }), 429, "rate_limited"); // rateLimited
    expectProblem(await call("GET", "/v1/keys", { key: k.key }), 429, "rate_limited");
    // Not a known credential: counted for nobody.
    expectProblem(await call("GET", "/v1/keys", { key: `${k.key.slice(0, -4)}AAAA` }), 401, "invalid_credential");

    const want = { total: 7, ok: 2, clientErrors: 2, rateLimited: 2, serverErrors: 1 };
    const minutes = await usage(`/v1/keys/${k.id}/usage`, key, "minute");
    expect(minutes.length).toBeGreaterThanOrEqual(1);
    expect(minutes.length).toBeLessThanOrEqual(2);
    expectNewestFirst(minutes, 60_000);
    expect(sum(minutes)).toEqual(want);
    const hours = await usage(`/v1/keys/${k.id}/usage`, key, "hour");
    expectNewestFirst(hours, 3_600_000);
    expect(sum(hours)).toEqual(want);
    const days = await usage(`/v1/keys/${k.id}/usage`, key); // day is the default
    expectNewestFirst(days, 86_400_000);
    expect(sum(days)).toEqual(want);
    expect(await usage(`/v1/keys/${k.id}/usage`, key, "day")).toEqual(days);
  });

  it("a new key has no buckets; a bad granularity is a 400 naming it", async () => {
    const { key } = await newTenant();
    const k = await newKey(key, { scopes: ["keys:read"] });
    expect(await usage(`/v1/keys/${k.id}/usage`, key)).toEqual([]);
    const bad = await call("GET", `/v1/keys/${k.id}/usage?granularity=week`, { key });
    expectProblem(bad, 400, "invalid_query");
    expect(bad.body.errors[0].path).toBe("granularity");
    expect(bad.body.errors[0].allowed).toEqual(["minute", "hour", "day"]);
  });

  it("counts an OAuth client's requests; the tenant's total adds up every credential and nothing of another tenant", async () => {
    const { key, keyId } = await newTenant();
    const other = await newTenant();
    const client = await newClient(key, { scopes: ["keys:read"] });
    const token = await tokenFor(client);
    expect((await call("GET", "/v1/keys", { key: token })).status).toBe(200);
    expectProblem(await call("POST", "/v1/keys", { key: token, body: { name: "x", scopes: [] } }), 403, "insufficient_scope");
    expect((await call("GET", "/v1/keys", { key: other.key })).status).toBe(200);

    expect(sum(await usage(`/v1/oauth-clients/${client.id}/usage`, key, "hour"))).toEqual({
      total: 2,
      ok: 1,
      clientErrors: 1,
      rateLimited: 0,
      serverErrors: 0,
    });
    // The tenant key's own earlier requests (creating the client) count too; the other tenant's do not.
    const mine = sum(await usage(`/v1/keys/${keyId}/usage`, key, "hour"));
    const total = sum(await usage("/v1/usage", key, "hour"));
    expect(total.total).toBe(mine.total + 2 + 1); // + the key-usage read just made
    const operator = await call("GET", `/admin/tenants/${other.tenant.id}/usage?granularity=minute`, { admin: true });
    expect(operator.status).toBe(200);
    expect(sum(operator.body.data).total).toBe(1);
  });

  it("another tenant's credential is a 404; usage needs keys:read", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const client = await newClient(a.key);
    expectProblem(await call("GET", `/v1/keys/${a.keyId}/usage`, { key: b.key }), 404, "not_found");
    expectProblem(await call("GET", `/v1/oauth-clients/${client.id}/usage`, { key: b.key }), 404, "not_found");
    const writer = await newKey(a.key, { scopes: ["webhooks:read"] });
    for (const path of ["/v1/usage", `/v1/keys/${a.keyId}/usage`, `/v1/oauth-clients/${client.id}/usage`]) {
      const res = await call("GET", path, { key: writer.key });
      expectProblem(res, 403, "insufficient_scope");
      expect(res.body.requiredScope).toBe("keys:read");
    }
    expectProblem(await call("GET", "/v1/usage"), 401, "unauthorized");
    expectProblem(await call("GET", "/admin/usage", { key: a.key }), 401, "invalid_credential");
    expectProblem(await call("GET", `/admin/tenants/ten_nope/usage`, { admin: true }), 404, "not_found");
  });

  it("the operator ranks tenants by requests", async () => {
    const busy = await newTenant();
    const quiet = await newTenant();
    for (let i = 0; i < 6; i++) await call("GET", "/v1/keys", { key: busy.key });
    await call("GET", "/v1/keys", { key: quiet.key });
    const all: { tenantId: string; name: string; total: number }[] = [];
    let cursor: string | null = null;
    do {
      const res: Result = await call("GET", `/admin/usage?granularity=minute&limit=2${cursor ? `&cursor=${cursor}` : ""}`, { admin: true });
      expect(res.status).toBe(200);
      all.push(...res.body.data);
      cursor = res.body.nextCursor;
    } while (cursor);
    for (let i = 1; i < all.length; i++) expect(all[i - 1]!.total).toBeGreaterThanOrEqual(all[i]!.total);
    const b = all.findIndex((t) => t.tenantId === busy.tenant.id);
    const q = all.findIndex((t) => t.tenantId === quiet.tenant.id);
    expect(all[b]).toMatchObject({ name: busy.tenant.name, total: 6, ok: 6 });
    expect(all[q]).toMatchObject({ name: quiet.tenant.name, total: 1 });
    expect(b).toBeLessThan(q);
  });
});
