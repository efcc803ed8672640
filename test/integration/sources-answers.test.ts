import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { forgetSource } from "../../src/sources/source-cache";
import { call, expectProblem, fieldError, type Result } from "./helpers";
import { countRows, expectAccepted, newSource, type Source, send, slackHeaders, sourceTenant } from "./sources-kit";

// A source's answer is served on Hookgate's own origin, where the dashboard keeps its session: only JSON or
// plain text may be configured, a stored type of any other kind is served as plain text, and every answer
// under /in/ renders in a sandbox and is never sniffed.

beforeEach(() => {
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("ok", { status: 200 }));
});
afterEach(() => {
  vi.restoreAllMocks();
});

const CSP = "sandbox; default-src 'none'";
const SCRIPT = "<script>parent.stolen = sessionStorage.getItem('hookgate.session')</script>";

function expectInert(res: Result, what: string) {
  expect(res.headers.get("content-security-policy"), what).toBe(CSP);
  expect(res.headers.get("x-content-type-options"), what).toBe("nosniff");
  expect(res.headers.get("x-request-id"), what).toMatch(/^req_/);
}

const ACTIVE = [
  "text/html",
  "text/html; charset=utf-8",
  "TEXT/HTML",
  "image/svg+xml",
  "application/xhtml+xml",
  "text/xml",
  "application/xml",
  "application/javascript",
  "text/javascript",
  "application/json+html",
  "text/plain; charset=utf-8; x=1",
  "text/plain;charset=utf-8\r\nx-evil: 1",
  "text/plainx",
  "",
];

describe("response.contentType: application/json or text/plain, with an optional charset", () => {
  it.each(ACTIVE)("%j → 422 naming response.contentType, listing the two types; nothing stored", async (contentType) => {
    const { key, tenantId } = await sourceTenant();
    const body = { name: "a", eventType: "order.created", response: { status: 200, body: SCRIPT, contentType } };
    const res = await call("POST", "/v1/sources", { key, body });
    expectProblem(res, 422, "validation_failed");
    expect(fieldError(res, "response.contentType").allowed).toEqual(["application/json", "text/plain"]);
    expect(await countRows("sources", "tenant_id = ?", tenantId)).toBe(0);
  });

  it("PATCH: the same 422, and the stored answer is untouched", async () => {
    const { key } = await sourceTenant();
    const response = { status: 200, body: "thanks", contentType: "text/plain" };
    const src = await newSource(key, { eventType: "order.created", response });
    for (const contentType of ["text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/javascript"]) {
      const res = await call("PATCH", `/v1/sources/${src.id}`, { key, body: { response: { status: 200, body: SCRIPT, contentType } } });
      expectProblem(res, 422, "validation_failed");
      expect(fieldError(res, "response.contentType").message).toMatch(/application\/json or text\/plain/);
    }
    expect((await call("GET", `/v1/sources/${src.id}`, { key })).body.response).toEqual(response);
    const served = await send(src.path, "{}");
    expect([served.status, served.text, served.headers.get("content-type")]).toEqual([200, "thanks", "text/plain"]);
  });

  it.each([
    "application/json",
    "text/plain",
    "text/plain; charset=utf-8",
    "Text/Plain;charset=ISO-8859-1",
    'application/json; charset="utf-8"',
  ])("%j is accepted and served as set, with the sandbox", async (contentType) => {
    const { key } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created", response: { status: 200, body: SCRIPT, contentType } });
    const res = await send(src.path, "{}");
    expect(res.status).toBe(200);
    expect(res.text).toBe(SCRIPT);
    expect(res.headers.get("content-type")).toBe(contentType);
    expectInert(res, contentType);
  });
});

describe("a source stored before the types were restricted", () => {
  it("its text/html (or SVG) answer is served as plain text in the sandbox, and shown as such; the row is not rewritten", async () => {
    const { key } = await sourceTenant();
    for (const legacy of ["text/html; charset=utf-8", "image/svg+xml"]) {
      const src = await newSource(key, { eventType: "order.created", response: { status: 200, body: SCRIPT, contentType: "text/plain" } });
      const stored = JSON.stringify({ status: 200, body: SCRIPT, contentType: legacy });
      await env.DB.prepare("UPDATE sources SET response = ? WHERE id = ?").bind(stored, src.id).run();
      forgetSource(src.id);
      const res = await send(src.path, "{}");
      expect(res.status).toBe(200);
      expect(res.text).toBe(SCRIPT);
      expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      expectInert(res, legacy);
      const shown = (await call("GET", `/v1/sources/${src.id}`, { key })).body.response;
      expect(shown).toEqual({ status: 200, body: SCRIPT, contentType: "text/plain; charset=utf-8" });
      const row = await env.DB.prepare("SELECT response FROM sources WHERE id = ?").bind(src.id).first<{ response: string }>();
      expect(JSON.parse(row!.response).contentType).toBe(legacy);
    }
  });
});

describe("every answer under /in/ is sandboxed and never sniffed", () => {
  async function sources(): Promise<{ key: string; plain: Source; meta: Source; slack: Source; limited: Source }> {
    const { key } = await sourceTenant();
    return {
      key,
      plain: await newSource(key, { eventType: "order.created" }),
      meta: await newSource(key, { eventType: "order.created", verification: { scheme: "meta", secret: "app-secret", verifyToken: "vt" } }),
      slack: await newSource(key, { eventType: "order.created", verification: { scheme: "slack", secret: "slack-secret" } }),
      limited: await newSource(key, { eventType: "order.created", rateLimit: 1 }),
    };
  }

  it("accepted, handshakes (Meta's challenge echo included), refusals, 404s and errors", async () => {
    const { plain, meta, slack, limited } = await sources();
    const challenge = encodeURIComponent(SCRIPT);
    const metaEcho = await send(meta.path, null, {
      method: "GET",
      contentType: null,
      query: `?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=${challenge}`,
    });
    expect(metaEcho.status).toBe(200);
    expect(metaEcho.text).toBe(SCRIPT);
    expect(metaEcho.headers.get("content-type")).toMatch(/^text\/plain/);
    const verification = JSON.stringify({ type: "url_verification", challenge: SCRIPT });
    const slackEcho = await send(slack.path, verification, { headers: await slackHeaders("slack-secret", verification) });
    expect(slackEcho.body).toEqual({ challenge: SCRIPT });
    expectAccepted(await send(limited.path, "{}"));
    const answers: [string, Result][] = [
      ["accepted", await send(plain.path, "{}")],
      ["Meta's challenge", metaEcho],
      ["Slack's challenge", slackEcho],
      [
        "a wrong verify token",
        await send(meta.path, null, { method: "GET", contentType: null, query: `?hub.mode=subscribe&hub.challenge=${challenge}` }),
      ],
      ["a GET to a source that is not Meta's", await send(plain.path, null, { method: "GET", contentType: null })],
      ["HEAD", await send(plain.path, null, { method: "HEAD", contentType: null })],
      ["a bad signature", await send(slack.path, "{}", { headers: { "x-slack-signature": "v0=00", "x-slack-request-timestamp": "1" } })],
      ["an unknown source", await send(`/in/src_${"Z".repeat(20)}/${plain.token}`, "{}")],
      ["a malformed id", await send(`/in/${encodeURIComponent(SCRIPT)}/x`, "{}")],
      ["a wrong token", await send(`/in/${plain.id}/nope`, "{}")],
      ["no token", await send(`/in/${plain.id}`, "{}")],
      ["415", await send(plain.path, SCRIPT, { contentType: "text/html" })],
      ["400", await send(plain.path, SCRIPT)],
      ["413", await send(plain.path, JSON.stringify({ pad: "x".repeat(300 * 1024) }))],
      ["429", await send(limited.path, "{}")],
    ];
    expect(answers.map(([what, res]) => [what, res.status])).toEqual([
      ["accepted", 202],
      ["Meta's challenge", 200],
      ["Slack's challenge", 200],
      ["a wrong verify token", 401],
      ["a GET to a source that is not Meta's", 405],
      ["HEAD", 405],
      ["a bad signature", 401],
      ["an unknown source", 404],
      ["a malformed id", 404],
      ["a wrong token", 404],
      ["no token", 404],
      ["415", 415],
      ["400", 400],
      ["413", 413],
      ["429", 429],
    ]);
    for (const [what, res] of answers) expectInert(res, what);
  });

  it("the API's own answers are not sandboxed (the dashboard keeps its own policy)", async () => {
    const { key } = await sourceTenant();
    const res = await call("GET", "/v1/sources", { key });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toBeNull();
    expect((await call("GET", "/dashboard")).headers.get("content-security-policy")).toMatch(/script-src 'self'/);
  });
});
