import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { generateWebhookSecret, signPayload } from "../../src/delivery/http/sign";
import { verifyWebhook, WebhookVerificationError, type WebhookVerificationReason } from "../../src/tools/verify/index";

const stripe = new Stripe("sk_test_x");
const EVENT_ID = "evt_3kT9Qx7bLmNp2RsVwYz1";
const EVENT = { id: EVENT_ID, type: "invoice.paid", createdAt: "2025-06-15T12:00:00.000Z", data: { amount: 4200, customer: "Zoë ✓" } };
const BODY = JSON.stringify(EVENT);
const now = () => Math.floor(Date.now() / 1000);

/** The signature headers of a Hookgate delivery, made by Hookgate's own signer. */
async function hookgateHeaders(secrets: string[], { body = BODY, eventId = EVENT_ID, timestamp = now() } = {}) {
  const signatures = await signPayload({ secrets, eventId, timestamp, body });
  return {
    "content-type": "application/json",
    "x-webhook-signature": signatures.stripe,
    "webhook-id": eventId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signatures.standard,
  };
}

/** Only one scheme's headers, as a receiver behind a header-stripping proxy might see them. */
const stripeOnly = (h: Record<string, string>) => ({ "X-Webhook-Signature": h["x-webhook-signature"]! });
const standardOnly = (h: Record<string, string>) => ({
  "webhook-id": h["webhook-id"]!,
  "webhook-timestamp": h["webhook-timestamp"]!,
  "webhook-signature": h["webhook-signature"]!,
});

async function refusal(promise: Promise<unknown>): Promise<WebhookVerificationReason> {
  const err = await promise.then(
    () => {
      throw new Error("expected verifyWebhook to throw");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WebhookVerificationError);
  expect((err as Error).name).toBe("WebhookVerificationError");
  expect((err as Error).message).not.toBe("");
  return (err as WebhookVerificationError).reason;
}

describe("verifyWebhook: Hookgate's own signatures", () => {
  it("verifies a delivery by either scheme, or both, and returns the event", async () => {
    const secret = generateWebhookSecret();
    const headers = await hookgateHeaders([secret]);
    for (const h of [headers, stripeOnly(headers), standardOnly(headers)]) {
      await expect(verifyWebhook({ secret, headers: h, body: BODY })).resolves.toEqual(EVENT);
    }
  });

  it("takes headers as a Headers object or a plain object with any casing, and the body as a string, Buffer, Uint8Array or ArrayBuffer", async () => {
    const secret = generateWebhookSecret();
    const headers = await hookgateHeaders([secret]);
    const shouted = Object.fromEntries(Object.entries(standardOnly(headers)).map(([k, v]) => [k.toUpperCase(), v]));
    const bytes = new TextEncoder().encode(BODY);
    for (const h of [new Headers(headers), shouted, headers]) {
      for (const body of [BODY, Buffer.from(BODY), bytes, bytes.buffer.slice(0)]) {
        await expect(verifyWebhook({ secret, headers: h, body })).resolves.toEqual(EVENT);
      }
    }
  });

  it("verifies the raw bytes as sent, not a re-serialization of them", async () => {
    const secret = generateWebhookSecret();
    const raw = `{"id":"${EVENT_ID}", "type":"a.b",\n "createdAt":"2025-01-01T00:00:00.000Z","data":{"x":1.50}}`;
    const headers = await hookgateHeaders([secret], { body: raw });
    await expect(verifyWebhook({ secret, headers, body: Buffer.from(raw) })).resolves.toMatchObject({ type: "a.b", data: { x: 1.5 } });
    const reserialized = JSON.stringify(JSON.parse(raw));
    expect(await refusal(verifyWebhook({ secret, headers, body: reserialized }))).toBe("invalid_signature");
  });

  it("returns customFields and tenantId when the body has them", async () => {
    const secret = generateWebhookSecret();
    const body = JSON.stringify({ ...EVENT, tenantId: "ten_1", customFields: { plan: "pro", seats: 3 } });
    const headers = await hookgateHeaders([secret], { body });
    await expect(verifyWebhook({ secret, headers, body })).resolves.toEqual({
      ...EVENT,
      tenantId: "ten_1",
      customFields: { plan: "pro", seats: 3 },
    });
  });

  it("parses a form delivery (data as JSON text, custom fields as text)", async () => {
    const secret = generateWebhookSecret();
    const form = new URLSearchParams({ id: EVENT_ID, type: "invoice.paid", createdAt: EVENT.createdAt, data: JSON.stringify(EVENT.data) });
    form.append("plan", "pro");
    const body = form.toString();
    const headers = { ...(await hookgateHeaders([secret], { body })), "content-type": "application/x-www-form-urlencoded" };
    await expect(verifyWebhook({ secret, headers, body })).resolves.toEqual({ ...EVENT, customFields: { plan: "pro" } });
  });

  it("during a rotation (one signature per live secret) either secret verifies, by either scheme", async () => {
    const [oldSecret, newSecret] = [generateWebhookSecret(), generateWebhookSecret()];
    const headers = await hookgateHeaders([newSecret, oldSecret]);
    expect(headers["x-webhook-signature"].match(/v1=/g)).toHaveLength(2);
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    for (const secret of [oldSecret, newSecret]) {
      for (const h of [stripeOnly(headers), standardOnly(headers)]) {
        await expect(verifyWebhook({ secret, headers: h, body: BODY })).resolves.toEqual(EVENT);
      }
    }
    expect(await refusal(verifyWebhook({ secret: generateWebhookSecret(), headers, body: BODY }))).toBe("invalid_signature");
  });

  it("accepts several secrets of the receiver's own: any one verifies", async () => {
    const secret = generateWebhookSecret();
    const headers = await hookgateHeaders([secret]);
    await expect(verifyWebhook({ secret: [generateWebhookSecret(), secret], headers, body: BODY })).resolves.toEqual(EVENT);
  });

  it("accepts a repeated signature header (Node gives an array, or joins with a comma)", async () => {
    const [a, b] = [generateWebhookSecret(), generateWebhookSecret()];
    const ha = await hookgateHeaders([a]);
    const hb = await hookgateHeaders([b], { timestamp: Number(ha["webhook-timestamp"]) });
    const asArray = { ...standardOnly(ha), "webhook-signature": [ha["webhook-signature"], hb["webhook-signature"]] };
    const joined = { ...standardOnly(ha), "webhook-signature": `${ha["webhook-signature"]}, ${hb["webhook-signature"]}` };
    const stripeJoined = { "x-webhook-signature": `${ha["x-webhook-signature"]}, ${hb["x-webhook-signature"]}` };
    for (const headers of [asArray, joined, stripeJoined]) {
      await expect(verifyWebhook({ secret: b, headers, body: BODY })).resolves.toEqual(EVENT);
    }
  });

  it("a secret that is not whsec_ + base64 keys Standard Webhooks with its UTF-8 bytes, as Hookgate signs", async () => {
    for (const secret of ["my-own-secret-of-at-least-24-characters", "whsec_not*base64*at*all*but*long"]) {
      const headers = await hookgateHeaders([secret]);
      for (const h of [stripeOnly(headers), standardOnly(headers)]) {
        await expect(verifyWebhook({ secret, headers: h, body: BODY })).resolves.toEqual(EVENT);
      }
      // What a Standard Webhooks library needs for such a secret: the raw bytes.
      expect(new Webhook(secret, { format: "raw" }).verify(BODY, standardOnly(headers))).toEqual(EVENT);
    }
  });
});

describe("verifyWebhook: other libraries' signatures", () => {
  it("verifies Stripe's generateTestHeaderString", async () => {
    const secret = generateWebhookSecret();
    const header = stripe.webhooks.generateTestHeaderString({ payload: BODY, secret });
    await expect(verifyWebhook({ secret, headers: { "x-webhook-signature": header }, body: BODY })).resolves.toEqual(EVENT);
    const old = stripe.webhooks.generateTestHeaderString({ payload: BODY, secret, timestamp: now() - 301 });
    expect(await refusal(verifyWebhook({ secret, headers: { "x-webhook-signature": old }, body: BODY }))).toBe("stale_timestamp");
  });

  it("verifies standardwebhooks' Webhook#sign", async () => {
    const secret = generateWebhookSecret();
    const at = new Date();
    const signature = new Webhook(secret).sign(EVENT_ID, at, BODY);
    const headers = {
      "webhook-id": EVENT_ID,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": signature,
    };
    await expect(verifyWebhook({ secret, headers, body: BODY })).resolves.toEqual(EVENT);
  });

  it("what it accepts, Stripe's and the Standard Webhooks library accept too", async () => {
    const secret = generateWebhookSecret();
    const headers = await hookgateHeaders([secret]);
    expect(stripe.webhooks.constructEvent(BODY, headers["x-webhook-signature"], secret)).toEqual(EVENT);
    expect(new Webhook(secret).verify(BODY, standardOnly(headers))).toEqual(EVENT);
  });
});

describe("verifyWebhook: refusals", () => {
  it("a timestamp more than toleranceSeconds (300) away, in the past or the future, is stale", async () => {
    const secret = generateWebhookSecret();
    for (const timestamp of [now() - 301, now() + 301, now() - 86_400]) {
      const headers = await hookgateHeaders([secret], { timestamp });
      for (const h of [stripeOnly(headers), standardOnly(headers)]) {
        expect(await refusal(verifyWebhook({ secret, headers: h, body: BODY }))).toBe("stale_timestamp");
      }
    }
    const fine = await hookgateHeaders([secret], { timestamp: now() - 290 });
    await expect(verifyWebhook({ secret, headers: fine, body: BODY })).resolves.toEqual(EVENT);
  });

  it("honours a custom toleranceSeconds, and Infinity turns the check off", async () => {
    const secret = generateWebhookSecret();
    const headers = await hookgateHeaders([secret], { timestamp: now() - 100 });
    expect(await refusal(verifyWebhook({ secret, headers, body: BODY, toleranceSeconds: 60 }))).toBe("stale_timestamp");
    const ancient = await hookgateHeaders([secret], { timestamp: 1_000_000_000 });
    await expect(verifyWebhook({ secret, headers: ancient, body: BODY, toleranceSeconds: Number.POSITIVE_INFINITY })).resolves.toEqual(
      EVENT,
    );
  });

  it("a stale timestamp with a wrong signature is an invalid signature, not a stale one", async () => {
    const headers = await hookgateHeaders([generateWebhookSecret()], { timestamp: now() - 3600 });
    expect(await refusal(verifyWebhook({ secret: generateWebhookSecret(), headers, body: BODY }))).toBe("invalid_signature");
  });

  it("a tampered body, event id or timestamp, or a wrong secret, is an invalid signature", async () => {
    const secret = generateWebhookSecret();
    const headers = await hookgateHeaders([secret]);
    const tampered = BODY.replace("4200", "4201");
    for (const h of [headers, stripeOnly(headers), standardOnly(headers)]) {
      expect(await refusal(verifyWebhook({ secret, headers: h, body: tampered }))).toBe("invalid_signature");
      expect(await refusal(verifyWebhook({ secret: generateWebhookSecret(), headers: h, body: BODY }))).toBe("invalid_signature");
    }
    const otherId = { ...standardOnly(headers), "webhook-id": "evt_other" };
    expect(await refusal(verifyWebhook({ secret, headers: otherId, body: BODY }))).toBe("invalid_signature");
    const otherTime = { ...standardOnly(headers), "webhook-timestamp": String(Number(headers["webhook-timestamp"]) - 1) };
    expect(await refusal(verifyWebhook({ secret, headers: otherTime, body: BODY }))).toBe("invalid_signature");
    const stripeTime = { "x-webhook-signature": headers["x-webhook-signature"].replace(/^t=(\d+)/, (_, t) => `t=${Number(t) - 1}`) };
    expect(await refusal(verifyWebhook({ secret, headers: stripeTime, body: BODY }))).toBe("invalid_signature");
  });

  it("the Stripe-scheme secret is the whole string: the Standard key's bytes do not verify it", async () => {
    const secret = generateWebhookSecret();
    const headers = await hookgateHeaders([secret]);
    // A secret with the same decoded bytes but no prefix keys Stripe's scheme differently.
    expect(await refusal(verifyWebhook({ secret: secret.slice("whsec_".length), headers: stripeOnly(headers), body: BODY }))).toBe(
      "invalid_signature",
    );
  });

  it("no signature headers, or unusable ones, is a missing signature", async () => {
    const secret = generateWebhookSecret();
    const headers = await hookgateHeaders([secret]);
    const cases: Record<string, string | undefined>[] = [
      {},
      { "content-type": "application/json" },
      { "x-webhook-signature": "garbage" },
      { "x-webhook-signature": `t=${now()}` },
      { "x-webhook-signature": "v1=".padEnd(67, "a") },
      { "webhook-signature": headers["webhook-signature"] },
      { ...standardOnly(headers), "webhook-timestamp": "soon" },
      { ...standardOnly(headers), "webhook-signature": "v2,abc" },
      { "x-webhook-signature": undefined },
    ];
    for (const h of cases) expect(await refusal(verifyWebhook({ secret, headers: h, body: BODY }))).toBe("missing_signature");
    expect(await refusal(verifyWebhook({ secret, headers: new Headers(), body: BODY }))).toBe("missing_signature");
  });

  it("a well-signed body that is not a Hookgate event is a malformed body", async () => {
    const secret = generateWebhookSecret();
    for (const body of [
      "not json",
      "[1,2]",
      '{"id":"evt_1","type":"a.b","createdAt":"x"}',
      '{"id":1,"type":"a","createdAt":"x","data":{}}',
    ]) {
      const headers = await hookgateHeaders([secret], { body });
      expect(await refusal(verifyWebhook({ secret, headers, body }))).toBe("malformed_body");
    }
    // Bytes that are not UTF-8, signed over exactly those bytes (Stripe's scheme, by hand).
    const invalidUtf8 = Buffer.from([0x7b, 0xff, 0x7d]);
    const t = now();
    const mac = createHmac("sha256", secret)
      .update(Buffer.concat([Buffer.from(`${t}.`), invalidUtf8]))
      .digest("hex");
    const headers = { "x-webhook-signature": `t=${t},v1=${mac}` };
    expect(await refusal(verifyWebhook({ secret, headers, body: invalidUtf8 }))).toBe("malformed_body");
  });

  it("a missing secret or a parsed body is a programming error (TypeError), not a refusal", async () => {
    const headers = await hookgateHeaders([generateWebhookSecret()]);
    await expect(verifyWebhook({ secret: "", headers, body: BODY })).rejects.toBeInstanceOf(TypeError);
    await expect(verifyWebhook({ secret: [], headers, body: BODY })).rejects.toBeInstanceOf(TypeError);
    await expect(verifyWebhook({ secret: "x", headers, body: EVENT as never })).rejects.toBeInstanceOf(TypeError);
    await expect(verifyWebhook({ secret: "x", headers, body: BODY, toleranceSeconds: -1 })).rejects.toBeInstanceOf(TypeError);
  });
});
