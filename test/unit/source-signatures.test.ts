import { createHmac } from "node:crypto";
import { sign as githubSign } from "@octokit/webhooks-methods";
import { Webhook as StandardWebhook } from "standardwebhooks";
import Stripe from "stripe";
import { Webhook as SvixWebhook } from "svix";
import twilio from "twilio";
import { describe, expect, it } from "vitest";
import type { SourceVerification } from "../../src/db/schema";
import { type SignedRequest, verifySignature } from "../../src/sources/signatures";

/**
 * Every scheme with a request signed the way its sender signs: by the
 * provider's own library where one exists (Stripe, GitHub, Standard
 * Webhooks, Svix, Twilio), by the documented recipe otherwise (Shopify,
 * Slack, Meta, generic HMAC). Each gets a valid, a wrong-secret, a
 * tampered-body and (where timed) a stale request.
 */
const enc = new TextEncoder();
const URL_ = "https://hookgate.example.com/in/src_abc/tok123";
const BODY = JSON.stringify({ id: "evt_1", type: "invoice.paid", data: { amount: 42 } });
const now = Date.now();
const nowS = Math.floor(now / 1000);

function req(body: string, headers: Record<string, string>, url = URL_, form: [string, string][] | null = null): SignedRequest {
  return { body: enc.encode(body), headers: new Headers(headers), url, form };
}
const check = (v: SourceVerification, secret: string, r: SignedRequest, at = now) => verifySignature(v, { secret }, r, at);
const hmacHex = (alg: string, key: string, msg: string) => createHmac(alg, key).update(msg).digest("hex");
const hmacB64 = (alg: string, key: string, msg: string) => createHmac(alg, key).update(msg).digest("base64");

describe("stripe (Stripe's generateTestHeaderString)", () => {
  const stripe = new Stripe("sk_test_unused");
  const secret = "whsec_stripe_test_secret";
  const header = (payload: string, s = secret, timestamp = nowS) =>
    stripe.webhooks.generateTestHeaderString({ payload, secret: s, timestamp });
  const v: SourceVerification = { scheme: "stripe" };

  it("valid; any of several v1 signatures may match", async () => {
    expect(await check(v, secret, req(BODY, { "stripe-signature": header(BODY) }))).toBe("ok");
    const two = `${header(BODY, "whsec_other")},v1=${/v1=([0-9a-f]+)/.exec(header(BODY))![1]}`;
    expect(await check(v, secret, req(BODY, { "stripe-signature": two }))).toBe("ok");
  });
  it("wrong secret, tampered body, missing header → invalid_signature", async () => {
    expect(await check(v, secret, req(BODY, { "stripe-signature": header(BODY, "whsec_wrong") }))).toBe("invalid_signature");
    expect(await check(v, secret, req(`${BODY} `, { "stripe-signature": header(BODY) }))).toBe("invalid_signature");
    expect(await check(v, secret, req(BODY, {}))).toBe("invalid_signature");
  });
  it("a timestamp outside 300 s → stale_timestamp", async () => {
    expect(await check(v, secret, req(BODY, { "stripe-signature": header(BODY, secret, nowS - 301) }))).toBe("stale_timestamp");
    expect(await check(v, secret, req(BODY, { "stripe-signature": header(BODY, secret, nowS - 299) }))).toBe("ok");
  });
});

describe("github and meta (@octokit/webhooks-methods sign)", () => {
  for (const scheme of ["github", "meta"] as const) {
    it(`${scheme}: valid, wrong secret, tampered body`, async () => {
      const v: SourceVerification = { scheme };
      const signature = await githubSign("gh-secret", BODY);
      expect(await check(v, "gh-secret", req(BODY, { "x-hub-signature-256": signature }))).toBe("ok");
      expect(await check(v, "gh-secret", req(BODY, { "x-hub-signature-256": await githubSign("other", BODY) }))).toBe("invalid_signature");
      expect(await check(v, "gh-secret", req(`${BODY}x`, { "x-hub-signature-256": signature }))).toBe("invalid_signature");
      expect(await check(v, "gh-secret", req(BODY, { "x-hub-signature": signature }))).toBe("invalid_signature");
    });
  }
});

describe("standard-webhooks (standardwebhooks and svix Webhook.sign)", () => {
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const v: SourceVerification = { scheme: "standard-webhooks" };
  const headers = (signature: string, at = new Date(now), prefix = "webhook") => ({
    [`${prefix}-id`]: "msg_1",
    [`${prefix}-timestamp`]: String(Math.floor(at.getTime() / 1000)),
    [`${prefix}-signature`]: signature,
  });

  it("valid with either library, and in the svix- header spelling", async () => {
    const sw = new StandardWebhook(secret).sign("msg_1", new Date(now), BODY);
    const sv = new SvixWebhook(secret).sign("msg_1", new Date(now), BODY);
    expect(await check(v, secret, req(BODY, headers(sw)))).toBe("ok");
    expect(await check(v, secret, req(BODY, headers(sv, new Date(now), "svix")))).toBe("ok");
  });
  it("several signatures in one header: any may match", async () => {
    const good = new StandardWebhook(secret).sign("msg_1", new Date(now), BODY);
    const other = new StandardWebhook("whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldA==").sign("msg_1", new Date(now), BODY);
    expect(await check(v, secret, req(BODY, headers(`${other} ${good}`)))).toBe("ok");
  });
  it("wrong secret, tampered body, changed id → invalid_signature; old timestamp → stale_timestamp", async () => {
    const other = new StandardWebhook("whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldA==").sign("msg_1", new Date(now), BODY);
    expect(await check(v, secret, req(BODY, headers(other)))).toBe("invalid_signature");
    const good = new StandardWebhook(secret).sign("msg_1", new Date(now), BODY);
    expect(await check(v, secret, req("{}", headers(good)))).toBe("invalid_signature");
    expect(await check(v, secret, req(BODY, { ...headers(good), "webhook-id": "msg_2" }))).toBe("invalid_signature");
    const old = new Date(now - 400_000);
    expect(await check(v, secret, req(BODY, headers(new StandardWebhook(secret).sign("msg_1", old, BODY), old)))).toBe("stale_timestamp");
  });
});

describe("shopify, slack, generic hmac (documented recipes)", () => {
  it("shopify: X-Shopify-Hmac-Sha256 is base64 HMAC-SHA256 of the body", async () => {
    const v: SourceVerification = { scheme: "shopify" };
    const sig = hmacB64("sha256", "shp", BODY);
    expect(await check(v, "shp", req(BODY, { "x-shopify-hmac-sha256": sig }))).toBe("ok");
    expect(await check(v, "other", req(BODY, { "x-shopify-hmac-sha256": sig }))).toBe("invalid_signature");
    expect(await check(v, "shp", req(`${BODY} `, { "x-shopify-hmac-sha256": sig }))).toBe("invalid_signature");
  });

  it("slack: v0=<hex> over v0:<timestamp>:<body>, 300 s", async () => {
    const v: SourceVerification = { scheme: "slack" };
    const signed = (ts: number, key = "slk", body = BODY) => ({
      "x-slack-request-timestamp": String(ts),
      "x-slack-signature": `v0=${hmacHex("sha256", key, `v0:${ts}:${body}`)}`,
    });
    expect(await check(v, "slk", req(BODY, signed(nowS)))).toBe("ok");
    expect(await check(v, "slk", req(BODY, signed(nowS, "other")))).toBe("invalid_signature");
    expect(await check(v, "slk", req(`${BODY} `, signed(nowS)))).toBe("invalid_signature");
    expect(await check(v, "slk", req(BODY, signed(nowS - 600)))).toBe("stale_timestamp");
  });

  it.each([
    ["sha256", "hex", undefined],
    ["sha1", "hex", "sha1="],
    ["sha512", "base64", undefined],
    ["sha256", "base64", "v1="],
  ] as const)("hmac %s %s prefix %s", async (algorithm, encoding, prefix) => {
    const v: SourceVerification = { scheme: "hmac", header: "x-signature", algorithm, encoding, ...(prefix && { prefix }) };
    const mac = encoding === "hex" ? hmacHex(algorithm, "k", BODY) : hmacB64(algorithm, "k", BODY);
    expect(await check(v, "k", req(BODY, { "x-signature": `${prefix ?? ""}${mac}` }))).toBe("ok");
    expect(await check(v, "k2", req(BODY, { "x-signature": `${prefix ?? ""}${mac}` }))).toBe("invalid_signature");
    expect(await check(v, "k", req(`${BODY}!`, { "x-signature": `${prefix ?? ""}${mac}` }))).toBe("invalid_signature");
    expect(await check(v, "k", req(BODY, { "x-signature": mac.toUpperCase() === mac ? `x${mac}` : mac.toUpperCase() }))).toBe(
      "invalid_signature",
    );
  });
});

describe("twilio (twilio's getExpectedTwilioSignature)", () => {
  const token = "twilio-auth-token";
  const v: SourceVerification = { scheme: "twilio" };
  it("form parameters sorted by name", async () => {
    const params = { To: "+15005550006", From: "+15005550001", Body: "hello world", AccountSid: "AC1" };
    const sig = twilio.getExpectedTwilioSignature(token, URL_, params);
    const form: [string, string][] = Object.entries(params);
    const body = new URLSearchParams(params).toString();
    expect(await check(v, token, req(body, { "x-twilio-signature": sig }, URL_, form))).toBe("ok");
    expect(await check(v, "other", req(body, { "x-twilio-signature": sig }, URL_, form))).toBe("invalid_signature");
    const tampered: [string, string][] = [...form.slice(0, 2), ["Body", "hello there"], form[3]!];
    expect(await check(v, token, req(body, { "x-twilio-signature": sig }, URL_, tampered))).toBe("invalid_signature");
  });
  it("a JSON body is covered by bodySHA256 in the signed URL", async () => {
    const hash = twilio.getExpectedBodyHash(BODY);
    const url = `${URL_}?bodySHA256=${hash}`;
    const sig = twilio.getExpectedTwilioSignature(token, url, {});
    expect(await check(v, token, req(BODY, { "x-twilio-signature": sig }, url))).toBe("ok");
    expect(await check(v, token, req(`${BODY} `, { "x-twilio-signature": sig }, url))).toBe("invalid_signature");
    expect(await check(v, "other", req(BODY, { "x-twilio-signature": sig }, url))).toBe("invalid_signature");
  });
  it("a JSON body signed over the URL alone (no bodySHA256) is refused: the signature says nothing of the body", async () => {
    const sig = twilio.getExpectedTwilioSignature(token, URL_, {});
    // Twilio's own URL-and-parameters check passes: what it signs is genuine, but the body is anyone's.
    expect(twilio.validateRequest(token, sig, URL_, {})).toBe(true);
    expect(await check(v, token, req(BODY, { "x-twilio-signature": sig }, URL_))).toBe("invalid_signature");
    const sha256 = twilio.getExpectedTwilioSignature(token, URL_, {}, "HMAC_SHA256");
    const settings = { "x-twilio-webhooks-signature-settings": "key=k1,algorithm=HMAC_SHA256" };
    expect(await check(v, token, req(BODY, { "x-twilio-signature": sha256, ...settings }, URL_))).toBe("invalid_signature");
  });
  it("with bodySHA256, the signature covers the full URL, that parameter included, and the hash must be the body's", async () => {
    const url = `${URL_}?bodySHA256=${twilio.getExpectedBodyHash(BODY)}`;
    const overBareUrl = twilio.getExpectedTwilioSignature(token, URL_, {});
    expect(twilio.validateRequestWithBody(token, overBareUrl, url, BODY)).toBe(false);
    expect(await check(v, token, req(BODY, { "x-twilio-signature": overBareUrl }, url))).toBe("invalid_signature");
    // A URL signed with another body's hash: the signature is right, the body is not the one it names.
    const otherUrl = `${URL_}?bodySHA256=${twilio.getExpectedBodyHash(`${BODY}x`)}`;
    const otherSig = twilio.getExpectedTwilioSignature(token, otherUrl, {});
    expect(twilio.validateRequestWithBody(token, otherSig, otherUrl, BODY)).toBe(false);
    expect(await check(v, token, req(BODY, { "x-twilio-signature": otherSig }, otherUrl))).toBe("invalid_signature");
    const sig = twilio.getExpectedTwilioSignature(token, url, {});
    expect(twilio.validateRequestWithBody(token, sig, url, BODY)).toBe(true);
    expect(await check(v, token, req(BODY, { "x-twilio-signature": sig }, url))).toBe("ok");
  });
});

describe("basic and api-key", () => {
  it("basic: the username and password, exactly", async () => {
    const v: SourceVerification = { scheme: "basic", username: "acme" };
    const auth = (u: string, p: string) => ({ authorization: `Basic ${btoa(`${u}:${p}`)}` });
    expect(await verifySignature(v, { password: "pw" }, req(BODY, auth("acme", "pw")))).toBe("ok");
    expect(await verifySignature(v, { password: "pw" }, req(BODY, auth("acme", "nope")))).toBe("invalid_signature");
    expect(await verifySignature(v, { password: "pw" }, req(BODY, auth("other", "pw")))).toBe("invalid_signature");
    expect(await verifySignature(v, { password: "pw" }, req(BODY, { authorization: "Basic !!!" }))).toBe("invalid_signature");
    expect(await verifySignature(v, { password: "pw" }, req(BODY, {}))).toBe("invalid_signature");
  });
  it("api-key: the configured header holds the secret, exactly", async () => {
    const v: SourceVerification = { scheme: "api-key", header: "x-api-token" };
    expect(await check(v, "s3cret", req(BODY, { "x-api-token": "s3cret" }))).toBe("ok");
    expect(await check(v, "s3cret", req(BODY, { "x-api-token": "s3cret2" }))).toBe("invalid_signature");
    expect(await check(v, "s3cret", req(BODY, { "x-other": "s3cret" }))).toBe("invalid_signature");
  });
});
