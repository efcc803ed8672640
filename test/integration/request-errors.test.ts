import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { bucketOf } from "../../src/data/shard-map";
import { MAX_ERRORS_PER_BATCH, RequestRecorder } from "../../src/monitoring/recorder";
import { call, expectProblem, newKey, newTenant } from "./helpers";

const list = (query: string, key: string) => call("GET", `/v1/requests${query}`, { key });

/** A tenant, a key that can only read keys, and a few answers of every kind made with it. */
async function withErrors() {
  const t = await newTenant();
  const k = await newKey(t.key, { scopes: ["keys:read"], rateLimits: { read: { limit: 3, windowSeconds: 60 } } });
  const ok = await call("GET", "/v1/keys", { key: k.key, headers: { "x-request-id": `ok-${k.id}` } });
  expect(ok.status).toBe(200);
  const forbidden = await call("POST", "/v1/keys", {
    key: k.key,
    body: { name: "x", scopes: [] },
    headers: { "x-request-id": `forbidden-${k.id}` },
  });
  expectProblem(forbidden, 403, "insufficient_scope");
  const missing = await call("GET", "/v1/keys/key_missing?secret=nope", { key: k.key, ip: "203.0.113.9" });
  expectProblem(missing, 404, "not_found");
  expect((await call("GET", "/v1/keys", { key: k.key })).status).toBe(200);
  const limited = await call("GET", "/v1/keys", { key: k.key });
  expectProblem(limited, 429, "rate_limited");
  return { ...t, k, ok, forbidden, missing, limited };
}

describe("request errors", () => {
  it("keeps every non-2xx answer to a known credential, newest first, under the request id the caller got", async () => {
    const t = await withErrors();
    const res = await list("", t.key);
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.dropped).toBe(0);
    expect(res.body.data.map((r: { status: number }) => r.status)).toEqual([429, 404, 403]);
    const [limited, missing, forbidden] = res.body.data;
    expect(limited.requestId).toBe(t.limited.headers.get("x-request-id"));
    expect(missing).toEqual({
      requestId: t.missing.headers.get("x-request-id"),
      at: expect.any(String),
      credentialId: t.k.id,
      credentialName: t.k.body.name,
      method: "GET",
      path: "/v1/keys/key_missing",
      status: 404,
      code: "not_found",
      durationMs: expect.any(Number),
      ip: "203.0.113.9",
    });
    expect(forbidden).toMatchObject({ requestId: `forbidden-${t.k.id}`, method: "POST", status: 403, code: "insufficient_scope" });
    expect(Date.parse(limited.at)).toBeGreaterThanOrEqual(Date.parse(missing.at));

    const one = await call("GET", `/v1/requests/forbidden-${t.k.id}`, { key: t.key });
    expect(one.status).toBe(200);
    expect(one.body).toEqual(forbidden);
    // A request that succeeded, or an id nobody got: 404.
    expectProblem(await call("GET", `/v1/requests/ok-${t.k.id}`, { key: t.key }), 404, "not_found");
    expectProblem(await call("GET", "/v1/requests/req_neverIssued", { key: t.key }), 404, "not_found");
  });

  it("filters by status class, status, code, credential and time, and pages with a cursor", async () => {
    const t = await withErrors();
    const statuses = async (q: string) => (await list(q, t.key)).body.data.map((r: { status: number }) => r.status);
    expect(await statuses("?status=4xx")).toEqual([429, 404, 403]);
    expect(await statuses("?status=5xx")).toEqual([]);
    expect(await statuses("?status=429")).toEqual([429]);
    expect(await statuses("?status=403")).toEqual([403]);
    expect(await statuses("?status=not_found")).toEqual([404]);
    expect(await statuses(`?credentialId=${t.k.id}`)).toEqual([429, 404, 403]);
    expect(await statuses(`?credentialId=${t.keyId}`)).toEqual([]);
    const since = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
    expect(await statuses(`?since=${since}`)).toEqual([]);
    const until = encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString());
    expect(await statuses(`?until=${until}`)).toEqual([]);

    const first = await list("?limit=2", t.key);
    expect(first.body.data.map((r: { status: number }) => r.status)).toEqual([429, 404]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await list(`?limit=2&cursor=${first.body.nextCursor}`, t.key);
    expect(second.body.data.map((r: { status: number }) => r.status)).toEqual([403]);
    expect(second.body.nextCursor).toBeNull();

    const bad = await list("?status=6xx", t.key);
    expectProblem(bad, 400, "invalid_query");
    expect(bad.body.errors[0].path).toBe("status");
    expectProblem(await list("?cursor=zzz", t.key), 400, "invalid_query");
    expectProblem(await list("?since=yesterday", t.key), 400, "invalid_query");
  });

  it("is the tenant's own: another tenant sees none of it, and it needs audit:read", async () => {
    const a = await withErrors();
    const b = await newTenant();
    expect((await list("", b.key)).body.data).toEqual([]);
    expectProblem(await call("GET", `/v1/requests/forbidden-${a.k.id}`, { key: b.key }), 404, "not_found");
    const reader = await newKey(a.key, { scopes: ["keys:read"] });
    for (const path of ["/v1/requests", `/v1/requests/forbidden-${a.k.id}`]) {
      const res = await call("GET", path, { key: reader.key });
      expectProblem(res, 403, "insufficient_scope");
      expect(res.body.requiredScope).toBe("audit:read");
    }
    expectProblem(await call("GET", "/v1/requests"), 401, "unauthorized");
    // The refused reads above are request errors of the reader key in their turn.
    const mine = await list(`?credentialId=${reader.id}`, a.key);
    expect(mine.body.data.map((r: { code: string }) => r.code)).toEqual(["insufficient_scope", "insufficient_scope"]);
  });

  it("the operator reads a tenant's log and looks a request id up; an unknown tenant is a 404", async () => {
    const t = await withErrors();
    const res = await call("GET", `/admin/tenants/${t.tenant.id}/requests?status=429`, { admin: true });
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(1);
    const one = await call("GET", `/admin/tenants/${t.tenant.id}/requests/forbidden-${t.k.id}`, { admin: true });
    expect(one.body).toMatchObject({ status: 403, credentialId: t.k.id });
    const other = await newTenant();
    expectProblem(await call("GET", `/admin/tenants/${other.tenant.id}/requests/forbidden-${t.k.id}`, { admin: true }), 404, "not_found");
    expectProblem(await call("GET", "/admin/tenants/ten_unknown/requests", { admin: true }), 404, "not_found");
    expectProblem(await call("GET", `/admin/tenants/${t.tenant.id}/requests`, { key: t.key }), 401, "invalid_credential");
  });

  it("writes at most a bounded batch per tenant and counts what it drops; usage still counts every request", async () => {
    const t = await newTenant();
    const recorder = new RequestRecorder();
    const at = Date.now();
    const flood = MAX_ERRORS_PER_BATCH + 25;
    for (let i = 0; i < flood; i++) {
      recorder.record({
        requestId: `flood-${i}`,
        at: at + i,
        tenantId: t.tenant.id,
        credentialId: t.keyId,
        mode: "live",
        method: "GET",
        path: "/v1/keys",
        status: 403,
        code: "insufficient_scope",
        durationMs: 1,
        ip: null,
      });
    }
    expect(recorder.due(at)).toBe(false);
    expect(recorder.due(at + 10_000)).toBe(true);
    await recorder.flush(env, 30);
    expect(bucketOf(at)).toBeGreaterThan(0);

    const first = await list(`?status=403&limit=100&credentialId=${t.keyId}`, t.key);
    expect(first.body.data).toHaveLength(100);
    expect(first.body.dropped).toBe(25);
    // The batch kept the first of the flood, each once.
    expect(first.body.data[0].requestId).toBe(`flood-${MAX_ERRORS_PER_BATCH - 1}`);
    expect(first.body.nextCursor).toBeNull();
    const usage = await call("GET", `/v1/keys/${t.keyId}/usage?granularity=minute`, { key: t.key });
    const clientErrors = usage.body.data.reduce((n: number, p: { clientErrors: number }) => n + p.clientErrors, 0);
    expect(clientErrors).toBe(flood);
  });
});
