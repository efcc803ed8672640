import { afterEach, describe, expect, it, vi } from "vitest";
import { callUrl, putGateway, stubOrigin } from "./gateway-kit";
import { ADMIN_TOKEN, BASE, basic, call, newClient, newKey, newTenant, type Result, tokenRequest } from "./helpers";
import { newSource, send, sourceTenant } from "./sources-kit";

afterEach(() => vi.restoreAllMocks());

const FIELDS = ["requestId", "tenantId", "credentialId", "method", "route", "status", "code", "durationMs"];

/** Everything written to the console while `run` runs, each call as one string. */
async function captured(run: () => Promise<void>): Promise<string[]> {
  const out: string[] = [];
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      out.push(args.map((a) => (typeof a === "string" ? a : a instanceof Error ? `${a.message} ${a.stack}` : JSON.stringify(a))).join(" "));
    });
  }
  await run();
  vi.restoreAllMocks();
  return out;
}

describe("the request log lines", () => {
  it("one JSON line per request, its fields only; no key, token, secret, header value or body ever reaches the log", async () => {
    const secrets: string[] = [ADMIN_TOKEN];
    const answers: Result[] = [];
    const keep = (r: Result) => {
      answers.push(r);
      return r;
    };
    const lines = await captured(async () => {
      const { key, tenant } = await newTenant();
      secrets.push(key);
      const bodySecret = `body-${crypto.randomUUID()}`;
      const headerSecret = `header-${crypto.randomUUID()}`;
      secrets.push(bodySecret, headerSecret);
      // Succeeding and failing, with the key in either header, with bodies.
      keep(await call("GET", "/v1/keys", { key, headers: { "x-custom": headerSecret } }));
      keep(await call("GET", "/v1/keys", { key, apiKeyHeader: true }));
      const made = keep(await call("POST", "/v1/keys", { key, body: { name: bodySecret, scopes: ["keys:read"] } }));
      secrets.push(made.body.key);
      keep(await call("POST", "/v1/keys", { key, body: { name: "x", scopes: ["nope"], extra: bodySecret } }));
      keep(await call("POST", "/v1/keys", { key, rawBody: `{"name": "${bodySecret}"`, headers: { "content-type": "application/json" } }));
      keep(await call("GET", "/v1/keys", { key: `${key.slice(0, -4)}ABCD` }));
      keep(await call("GET", "/v1/keys", { key: `hg_live_${bodySecret}` }));
      keep(await call("GET", `/admin/tenants/${tenant.id}`, { headers: { authorization: `Bearer ${headerSecret}` } }));
      // OAuth: a client's secret, a token, a wrong secret.
      const client = await newClient(key, { scopes: ["keys:read"] });
      secrets.push(client.clientSecret);
      const token = keep(
        await tokenRequest({ grant_type: "client_credentials" }, { basic: { id: client.id, secret: client.clientSecret } }),
      );
      secrets.push(token.body.access_token);
      keep(await tokenRequest({ grant_type: "client_credentials" }, { headers: { authorization: basic(client.id, bodySecret) } }));
      keep(await call("GET", "/v1/keys", { key: token.body.access_token }));
      keep(await call("POST", "/v1/keys", { key: token.body.access_token, body: { name: bodySecret, scopes: [] } }));
      // A key for a scope it lacks, and a rotated key's new secret.
      const reader = await newKey(key, { scopes: ["keys:read"] });
      secrets.push(reader.key);
      keep(await call("POST", "/v1/webhooks", { key: reader.key, body: { url: "https://example.com/hook", secret: bodySecret } }));
      // The gateway: headers and bodies pass through to the origin, never to the log.
      await putGateway({ routes: [{ path: "/logtest/*", method: "POST" }] });
      stubOrigin(() => new Response(`origin says ${bodySecret}`, { status: 500, headers: { "x-origin": headerSecret } }));
      keep(
        (await callUrl("POST", `${BASE}/logtest/a?token=${bodySecret}`, {
          key,
          headers: { "x-custom": headerSecret },
          body: bodySecret,
        })) as Result,
      );
    });
    // Sources: the URL itself carries the token.
    vi.restoreAllMocks();
    const src = await (async () => {
      const t = await sourceTenant();
      secrets.push(t.key);
      return newSource(t.key, { eventType: "order.created" });
    })();
    secrets.push(src.token);
    const intake = await captured(async () => {
      keep(await send(src.path, JSON.stringify({ order: "a-secret-order" }), { headers: { "x-hub-signature": "sha256=abc" } }));
      keep(await send(`/in/${src.id}/${src.token.slice(0, -2)}xx`, "{}"));
    });
    secrets.push("a-secret-order", "sha256=abc");

    const all = [...lines, ...intake];
    for (const secret of secrets) {
      for (const line of all) expect(line.includes(secret), `a log line carries a secret: ${line}`).toBe(false);
    }
    const json = all.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const answer of answers) {
      const id = answer.headers.get("x-request-id");
      const mine = json.filter((l) => l.requestId === id);
      expect(mine, `one line for ${id}`).toHaveLength(1);
      expect(Object.keys(mine[0]!).sort()).toEqual([...FIELDS].sort());
      expect(mine[0]!.status).toBe(answer.status);
    }
    const intakeLine = json.find((l) => l.requestId === answers.at(-2)!.headers.get("x-request-id"));
    expect(intakeLine).toMatchObject({ route: "/in/:source/:token", tenantId: null, credentialId: null });
    const refused = json.find((l) => l.requestId === answers[3]!.headers.get("x-request-id"));
    expect(refused).toMatchObject({ method: "POST", route: "/v1/keys", status: 422, code: "validation_failed" });
    expect(typeof refused!.tenantId).toBe("string");
    expect(refused!.credentialId).toMatch(/^key_/);
    const proxied = json.find((l) => l.requestId === answers.at(-3)!.headers.get("x-request-id"));
    expect(proxied).toMatchObject({ route: "gateway POST /logtest/*", status: 500, code: null });
  });
});
