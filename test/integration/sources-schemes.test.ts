import { sign as githubSign } from "@octokit/webhooks-methods";
import { Webhook as StandardWebhook } from "standardwebhooks";
import Stripe from "stripe";
import { Webhook as SvixWebhook } from "svix";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { expectProblem, sha256Hex } from "./helpers";
import {
  b64,
  countEvents,
  expectAccepted,
  getEvent,
  hex,
  hmac,
  lastRequest,
  newSource,
  nowSeconds,
  type Source,
  send,
  shopifyHeaders,
  slackHeaders,
  sourceTenant,
  twilioSignature,
  workerUrl,
} from "./sources-kit";

// Every verification scheme end to end through /in/:source/:token, signed as each sender signs:
// with the sender's own library where it runs in workerd (Stripe, GitHub, Standard Webhooks, Svix),
// else with the documented recipe (Shopify, Slack, Meta, Twilio, generic HMAC). Twilio's own
// library needs Node; the unit test covers it against our verifier.

beforeEach(() => {
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("ok", { status: 200 }));
});
afterEach(() => {
  vi.restoreAllMocks();
});

const BODY = JSON.stringify({ id: "evt_sender_1", type: "thing.happened", data: { amount: 4200 } });
const TAMPERED = BODY.replace("4200", "1");

async function setup(verification: Record<string, unknown>) {
  const { key, tenantId } = await sourceTenant(["thing.happened"]);
  const src = await newSource(key, { eventType: "thing.happened", verification });
  return { key, tenantId, src };
}

/** Asserts a refused request: 401 with `code`, logged unverified with that reason, and nothing published. */
async function expectRefused(key: string, tenantId: string, src: Source, res: Awaited<ReturnType<typeof send>>, code: string) {
  expectProblem(res, 401, code);
  expect(await lastRequest(key, src.id)).toMatchObject({ status: "rejected", rejection: code, responseStatus: 401, eventId: null });
  expect(await countEvents(tenantId)).toBe(0);
}

describe("stripe (Stripe's SDK)", () => {
  const secret = "whsec_stripe_integration_secret";
  const stripe = new Stripe("sk_test_x");
  const header = (payload: string, s = secret, timestamp = nowSeconds()) =>
    stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: s, timestamp });

  it("valid 202; wrong secret, tampered body, no header 401 invalid_signature; stale 401 stale_timestamp", async () => {
    const { key, tenantId, src } = await setup({ scheme: "stripe", secret });
    await expectRefused(
      key,
      tenantId,
      src,
      await send(src.path, BODY, { headers: { "stripe-signature": await header(BODY, "whsec_wrong") } }),
      "invalid_signature",
    );
    await expectRefused(
      key,
      tenantId,
      src,
      await send(src.path, TAMPERED, { headers: { "stripe-signature": await header(BODY) } }),
      "invalid_signature",
    );
    await expectRefused(key, tenantId, src, await send(src.path, BODY), "invalid_signature");
    const stale = await header(BODY, secret, nowSeconds() - 301);
    await expectRefused(key, tenantId, src, await send(src.path, BODY, { headers: { "stripe-signature": stale } }), "stale_timestamp");
    const ok = expectAccepted(await send(src.path, BODY, { headers: { "Stripe-Signature": await header(BODY) } }));
    expect((await getEvent(key, ok)).data).toEqual(JSON.parse(BODY));
  });
});

describe("github and meta (@octokit/webhooks-methods)", () => {
  for (const scheme of ["github", "meta"] as const) {
    it(`${scheme}: valid 202; wrong secret, tampered body, no header 401 invalid_signature`, async () => {
      const secret = `${scheme}-app-secret`;
      const { key, tenantId, src } = await setup({ scheme, secret, ...(scheme === "meta" && { verifyToken: "vt" }) });
      const h = async (body: string, s = secret) => ({ "x-hub-signature-256": await githubSign(s, body) });
      await expectRefused(key, tenantId, src, await send(src.path, BODY, { headers: await h(BODY, "wrong") }), "invalid_signature");
      await expectRefused(key, tenantId, src, await send(src.path, TAMPERED, { headers: await h(BODY) }), "invalid_signature");
      await expectRefused(key, tenantId, src, await send(src.path, BODY), "invalid_signature");
      expectAccepted(await send(src.path, BODY, { headers: await h(BODY) }));
    });
  }

  it("meta's subscribe handshake: 200 text/plain challenge; a wrong verify token 401; no event", async () => {
    const { key, tenantId, src } = await setup({ scheme: "meta", secret: "meta-app-secret", verifyToken: "my-verify-token" });
    const get = (query: string) => send(src.path, null, { method: "GET", contentType: null, query });
    const ok = await get("?hub.mode=subscribe&hub.verify_token=my-verify-token&hub.challenge=1158201444");
    expect(ok.status, ok.text).toBe(200);
    expect(ok.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(ok.text).toBe("1158201444");
    expectProblem(await get("?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1"), 401, "invalid_signature");
    expectProblem(await get("?hub.mode=subscribe&hub.challenge=1"), 401, "invalid_signature");
    expectProblem(await get("?hub.mode=unsubscribe&hub.verify_token=my-verify-token&hub.challenge=1"), 401, "invalid_signature");
    expect(await countEvents(tenantId)).toBe(0);
    expect(await lastRequest(key, src.id)).toMatchObject({ method: "GET", status: "rejected", rejection: "invalid_signature" });
  });

  it("a GET to a source that is not Meta's: 405", async () => {
    const { src } = await setup({ scheme: "github", secret: "s" });
    const res = await send(src.path, null, { method: "GET", contentType: null, query: "?hub.mode=subscribe&hub.challenge=1" });
    expectProblem(res, 405, "method_not_allowed");
    const { key } = await sourceTenant();
    const bare = await newSource(key, { eventType: "order.created" });
    expectProblem(await send(bare.path, null, { method: "GET", contentType: null }), 405, "method_not_allowed");
    const head = await send(bare.path, null, { method: "HEAD", contentType: null });
    expect(head.status).toBe(405);
    expect(await lastRequest(key, bare.id)).toMatchObject({ method: "HEAD", status: "rejected", rejection: null, responseStatus: 405 });
  });
});

describe("standard-webhooks (standardwebhooks and svix)", () => {
  const secret = `whsec_${btoa("0123456789abcdef0123456789abcdef")}`;

  it("valid with either library (webhook- and svix- headers); wrong secret, tampered 401; stale 401 stale_timestamp", async () => {
    const { key, tenantId, src } = await setup({ scheme: "standard-webhooks", secret });
    const headers = (id: string, body: string, at = new Date(), s = secret) => ({
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new StandardWebhook(s).sign(id, at, body),
    });
    const other = `whsec_${btoa("ffffffffffffffffffffffffffffffff")}`;
    await expectRefused(
      key,
      tenantId,
      src,
      await send(src.path, BODY, { headers: headers("msg_1", BODY, new Date(), other) }),
      "invalid_signature",
    );
    await expectRefused(key, tenantId, src, await send(src.path, TAMPERED, { headers: headers("msg_1", BODY) }), "invalid_signature");
    const old = new Date(Date.now() - 10 * 60_000);
    await expectRefused(key, tenantId, src, await send(src.path, BODY, { headers: headers("msg_1", BODY, old) }), "stale_timestamp");
    expectAccepted(await send(src.path, BODY, { headers: headers("msg_1", BODY) }));

    const at = new Date();
    const svix = {
      "svix-id": "msg_2",
      "svix-timestamp": String(Math.floor(at.getTime() / 1000)),
      "svix-signature": new SvixWebhook(secret).sign("msg_2", at, BODY),
    };
    expectAccepted(await send(src.path, BODY, { headers: svix }));
    // A second, unrelated signature beside the right one (a secret rotation) is fine.
    const both = {
      ...svix,
      "svix-id": "msg_3",
      "svix-signature": `v1,${b64(new Uint8Array(32))} ${new SvixWebhook(secret).sign("msg_3", at, BODY)}`,
    };
    expectAccepted(await send(src.path, BODY, { headers: both }));
  });
});

describe("shopify, slack and generic hmac (documented recipes)", () => {
  it("shopify: X-Shopify-Hmac-Sha256 base64 of the body", async () => {
    const secret = "shpss_0123456789";
    const { key, tenantId, src } = await setup({ scheme: "shopify", secret });
    await expectRefused(
      key,
      tenantId,
      src,
      await send(src.path, BODY, { headers: await shopifyHeaders("wrong", BODY) }),
      "invalid_signature",
    );
    await expectRefused(
      key,
      tenantId,
      src,
      await send(src.path, TAMPERED, { headers: await shopifyHeaders(secret, BODY) }),
      "invalid_signature",
    );
    expectAccepted(await send(src.path, BODY, { headers: await shopifyHeaders(secret, BODY) }));
  });

  it("slack: v0 over v0:<timestamp>:<body>; wrong secret, tampered 401; stale 401 stale_timestamp", async () => {
    const secret = "8f742231b10e8888abcd99yyyzzz85a5";
    const { key, tenantId, src } = await setup({ scheme: "slack", secret });
    await expectRefused(
      key,
      tenantId,
      src,
      await send(src.path, BODY, { headers: await slackHeaders("wrong", BODY) }),
      "invalid_signature",
    );
    await expectRefused(
      key,
      tenantId,
      src,
      await send(src.path, TAMPERED, { headers: await slackHeaders(secret, BODY) }),
      "invalid_signature",
    );
    const stale = await slackHeaders(secret, BODY, nowSeconds() - 600);
    await expectRefused(key, tenantId, src, await send(src.path, BODY, { headers: stale }), "stale_timestamp");
    expectAccepted(await send(src.path, BODY, { headers: await slackHeaders(secret, BODY) }));
  });

  it("slack handshakes: url_verification after verification → 200 {challenge}; ssl_check → 200; no event", async () => {
    const secret = "slack-signing-secret";
    const { key, tenantId, src } = await setup({ scheme: "slack", secret });
    const challenge = JSON.stringify({
      token: "Jhj5dZrVaK7ZwHHjRyZWjbDl",
      challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
      type: "url_verification",
    });
    await expectRefused(key, tenantId, src, await send(src.path, challenge), "invalid_signature");
    const ok = await send(src.path, challenge, { headers: await slackHeaders(secret, challenge) });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toEqual({ challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" });
    expect(await lastRequest(key, src.id)).toMatchObject({ status: "accepted", eventId: null, responseStatus: 200 });

    const ssl = "ssl_check=1&token=Jhj5dZrVaK7ZwHHjRyZWjbDl";
    const sslRes = await send(src.path, ssl, {
      contentType: "application/x-www-form-urlencoded",
      headers: await slackHeaders(secret, ssl),
    });
    expect(sslRes.status, sslRes.text).toBe(200);
    expect(await countEvents(tenantId)).toBe(0);
  });

  it("a url_verification body to a non-Slack source is an ordinary event", async () => {
    const { key } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created" });
    const id = expectAccepted(await send(src.path, JSON.stringify({ type: "url_verification", challenge: "c" })));
    expect((await getEvent(key, id)).data).toEqual({ type: "url_verification", challenge: "c" });
  });

  it("hmac: the configured header, algorithm, encoding and prefix", async () => {
    const secret = "generic-secret";
    const { key, tenantId, src } = await setup({
      scheme: "hmac",
      secret,
      header: "X-Signature",
      algorithm: "sha1",
      encoding: "base64",
      prefix: "sha1=",
    });
    const sig = async (body: string, s = secret) => ({ "x-signature": `sha1=${b64(await hmac("SHA-1", s, body))}` });
    await expectRefused(key, tenantId, src, await send(src.path, BODY, { headers: await sig(BODY, "wrong") }), "invalid_signature");
    await expectRefused(key, tenantId, src, await send(src.path, TAMPERED, { headers: await sig(BODY) }), "invalid_signature");
    const noPrefix = { "x-signature": b64(await hmac("SHA-1", secret, BODY)) };
    await expectRefused(key, tenantId, src, await send(src.path, BODY, { headers: noPrefix }), "invalid_signature");
    expectAccepted(await send(src.path, BODY, { headers: await sig(BODY) }));

    const defaults = await newSource(key, { eventType: "thing.happened", verification: { scheme: "hmac", secret, header: "x-sig" } });
    expectAccepted(await send(defaults.path, BODY, { headers: { "x-sig": hex(await hmac("SHA-256", secret, BODY)) } }));
    const sha512 = await newSource(key, {
      eventType: "thing.happened",
      verification: { scheme: "hmac", secret, header: "x-sig", algorithm: "sha512" },
    });
    expectAccepted(await send(sha512.path, BODY, { headers: { "x-sig": hex(await hmac("SHA-512", secret, BODY)) } }));
  });
});

describe("twilio (the documented recipe over the URL the Worker sees)", () => {
  const authToken = "12345678901234567890123456789012";
  const params = { CallSid: "CA1234567890ABCDE", Caller: "+12349013030", Digits: "1234", From: "+12349013030", To: "+18005551212" };
  const form = new URLSearchParams(params).toString();
  const formType = "application/x-www-form-urlencoded";

  it("form: the URL and the parameters sorted by name; wrong token, tampered parameter 401", async () => {
    const { key, tenantId, src } = await setup({ scheme: "twilio", secret: authToken });
    const url = workerUrl(src.path);
    expect(url).toBe(`http://hookgate.test${src.path}`);
    const signature = await twilioSignature(authToken, url, params);
    const bad = await twilioSignature("wrong", url, params);
    await expectRefused(
      key,
      tenantId,
      src,
      await send(src.path, form, { contentType: formType, headers: { "x-twilio-signature": bad } }),
      "invalid_signature",
    );
    const tampered = form.replace("Digits=1234", "Digits=9999");
    await expectRefused(
      key,
      tenantId,
      src,
      await send(src.path, tampered, { contentType: formType, headers: { "x-twilio-signature": signature } }),
      "invalid_signature",
    );
    const otherUrl = await twilioSignature(authToken, "https://elsewhere.example.com/hook", params);
    await expectRefused(
      key,
      tenantId,
      src,
      await send(src.path, form, { contentType: formType, headers: { "x-twilio-signature": otherUrl } }),
      "invalid_signature",
    );
    const ok = expectAccepted(await send(src.path, form, { contentType: formType, headers: { "X-Twilio-Signature": signature } }));
    expect((await getEvent(key, ok)).data).toEqual(params);
  });

  it("JSON: bodySHA256 in the signed URL covers the body", async () => {
    const { key, tenantId, src } = await setup({ scheme: "twilio", secret: authToken });
    const query = `?bodySHA256=${await sha256Hex(BODY)}`;
    const signature = await twilioSignature(authToken, workerUrl(`${src.path}${query}`));
    await expectRefused(
      key,
      tenantId,
      src,
      await send(src.path, TAMPERED, { query, headers: { "x-twilio-signature": signature } }),
      "invalid_signature",
    );
    // Signed over the URL alone, without bodySHA256: the body is anyone's, so it is refused.
    const urlAlone = await twilioSignature(authToken, workerUrl(src.path));
    await expectRefused(
      key,
      tenantId,
      src,
      await send(src.path, BODY, { headers: { "x-twilio-signature": urlAlone } }),
      "invalid_signature",
    );
    expectAccepted(await send(src.path, BODY, { query, headers: { "x-twilio-signature": signature } }));
  });
});

describe("basic and api-key", () => {
  it("basic: exactly the username and password", async () => {
    const { key, tenantId, src } = await setup({ scheme: "basic", username: "hooks", password: "pa:ss word" });
    const basic = (u: string, p: string) => ({ authorization: `Basic ${btoa(`${u}:${p}`)}` });
    await expectRefused(key, tenantId, src, await send(src.path, BODY, { headers: basic("hooks", "wrong") }), "invalid_signature");
    await expectRefused(key, tenantId, src, await send(src.path, BODY, { headers: basic("other", "pa:ss word") }), "invalid_signature");
    await expectRefused(key, tenantId, src, await send(src.path, BODY, { headers: { authorization: "Basic !!!" } }), "invalid_signature");
    await expectRefused(key, tenantId, src, await send(src.path, BODY), "invalid_signature");
    expectAccepted(await send(src.path, BODY, { headers: basic("hooks", "pa:ss word") }));
  });

  it("basic: a non-ASCII password, sent as UTF-8 (RFC 7617)", async () => {
    const { key, tenantId, src } = await setup({ scheme: "basic", username: "jörg", password: "pässwörd-ü" });
    const utf8 = (text: string) => ({ authorization: `Basic ${b64(new TextEncoder().encode(text))}` });
    await expectRefused(key, tenantId, src, await send(src.path, BODY, { headers: utf8("jörg:passwörd-ü") }), "invalid_signature");
    expectAccepted(await send(src.path, BODY, { headers: utf8("jörg:pässwörd-ü") }));
  });

  it("api-key: the configured header holds exactly the secret", async () => {
    const { key, tenantId, src } = await setup({ scheme: "api-key", header: "X-Hook-Key", secret: "hk_live_abcdef" });
    await expectRefused(
      key,
      tenantId,
      src,
      await send(src.path, BODY, { headers: { "x-hook-key": "hk_live_abcde" } }),
      "invalid_signature",
    );
    await expectRefused(key, tenantId, src, await send(src.path, BODY, { headers: { "x-other": "hk_live_abcdef" } }), "invalid_signature");
    expectAccepted(await send(src.path, BODY, { headers: { "X-Hook-Key": "hk_live_abcdef" } }));
  });
});
