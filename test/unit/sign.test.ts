import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { generateWebhookSecret, signingKeyCacheSize, signPayload } from "../../src/delivery/http/sign";

const stripe = new Stripe("sk_test_x");
const EVENT_ID = "evt_3kT9Qx7bLmNp2RsVwYz1";
const BODY = JSON.stringify({
  id: EVENT_ID,
  type: "invoice.paid",
  createdAt: "2025-06-15T12:00:00.000Z",
  data: { amount: 4200, customer: "Zoë ✓" },
});
const now = () => Math.floor(Date.now() / 1000);

/** Both libraries' verification, throwing on a bad signature as they do. */
function verifyWithStripe(header: string, secret: string, body = BODY) {
  return stripe.webhooks.constructEvent(body, header, secret);
}
function verifyWithStandardWebhooks(signature: string, secret: string, t: number, body = BODY) {
  return new Webhook(secret).verify(body, {
    "webhook-id": EVENT_ID,
    "webhook-timestamp": String(t),
    "webhook-signature": signature,
  });
}

describe("generateWebhookSecret", () => {
  it("is whsec_ + padded standard base64 of 32 random bytes", () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    expect(new Set(Array.from({ length: 50 }, generateWebhookSecret)).size).toBe(50);
  });
});

describe("signPayload known answers", () => {
  it("matches HMAC-SHA256 computed with node:crypto for both schemes", async () => {
    const secret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const t = 1_750_000_000;
    const signed = await signPayload({ secrets: [secret], eventId: EVENT_ID, timestamp: t, body: BODY });

    const stripeHex = createHmac("sha256", Buffer.from(secret, "utf8")).update(`${t}.${BODY}`, "utf8").digest("hex");
    expect(signed.stripe).toBe(`t=1750000000,v1=${stripeHex}`);

    const keyBytes = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    const standardB64 = createHmac("sha256", keyBytes).update(`${EVENT_ID}.${t}.${BODY}`, "utf8").digest("base64");
    expect(signed.standard).toBe(`v1,${standardB64}`);
  });

  it("matches the Standard Webhooks specification's published example", async () => {
    const signed = await signPayload({
      secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
      eventId: "msg_p5jXN8AQM9LWM0D4loKWxJek",
      timestamp: 1614265330,
      body: '{"test": 2432232314}',
    });
    expect(signed.standard).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("keys Standard Webhooks with the whole secret's UTF-8 bytes when it is not whsec_<base64>", async () => {
    const t = 1_750_000_000;
    for (const secret of ["my-own-secret-of-at-least-24-chars", "whsec_not*base64*at*all!!", "whsec_", "whsec_QUJD"]) {
      const signed = await signPayload({ secrets: [secret], eventId: EVENT_ID, timestamp: t, body: BODY });
      const key = secret === "whsec_QUJD" ? Buffer.from("ABC") : Buffer.from(secret, "utf8");
      const expected = createHmac("sha256", key).update(`${EVENT_ID}.${t}.${BODY}`).digest("base64");
      expect(signed.standard).toBe(`v1,${expected}`);
      // The Stripe scheme always keys with the whole string.
      const stripeHex = createHmac("sha256", secret).update(`${t}.${BODY}`).digest("hex");
      expect(signed.stripe).toBe(`t=${t},v1=${stripeHex}`);
    }
  });

  it("lists one signature per secret, in the order given", async () => {
    const secrets = ["whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "whsec_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"];
    const both = await signPayload({ secrets, eventId: EVENT_ID, timestamp: 1, body: "{}" });
    const first = await signPayload({ secrets: [secrets[0]!], eventId: EVENT_ID, timestamp: 1, body: "{}" });
    const second = await signPayload({ secrets: [secrets[1]!], eventId: EVENT_ID, timestamp: 1, body: "{}" });
    expect(both.stripe).toBe(`${first.stripe},${second.stripe.replace("t=1,", "")}`);
    expect(both.standard).toBe(`${first.standard} ${second.standard}`);
    expect(both.stripe).toMatch(/^t=1,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(both.standard).toMatch(/^v1,[A-Za-z0-9+/]{43}= v1,[A-Za-z0-9+/]{43}=$/);
  });

  it("refuses no secrets or a non-integer timestamp", async () => {
    await expect(signPayload({ secrets: [], eventId: EVENT_ID, timestamp: 1, body: "{}" })).rejects.toThrow(/secret/);
    await expect(signPayload({ secrets: ["whsec_QUJD"], eventId: EVENT_ID, timestamp: Date.now() / 1000, body: "{}" })).rejects.toThrow(
      /unix seconds/,
    );
  });
});

describe("signPayload verified by Stripe's SDK and standardwebhooks", () => {
  it("verifies with a generated secret", async () => {
    const secret = generateWebhookSecret();
    const t = now();
    const signed = await signPayload({ secrets: [secret], eventId: EVENT_ID, timestamp: t, body: BODY });

    expect(verifyWithStripe(signed.stripe, secret)).toMatchObject({ id: EVENT_ID, type: "invoice.paid" });
    await expect(stripe.webhooks.constructEventAsync(BODY, signed.stripe, secret)).resolves.toMatchObject({ id: EVENT_ID });
    expect(verifyWithStandardWebhooks(signed.standard, secret, t)).toMatchObject({ id: EVENT_ID });
  });

  it("verifies a two-secret header (rotation grace) with either secret", async () => {
    const oldSecret = generateWebhookSecret();
    const newSecret = generateWebhookSecret();
    const t = now();
    const signed = await signPayload({ secrets: [oldSecret, newSecret], eventId: EVENT_ID, timestamp: t, body: BODY });

    for (const secret of [oldSecret, newSecret]) {
      expect(verifyWithStripe(signed.stripe, secret)).toMatchObject({ id: EVENT_ID });
      expect(verifyWithStandardWebhooks(signed.standard, secret, t)).toMatchObject({ id: EVENT_ID });
    }
  });

  it("is rejected by both libraries under a wrong secret", async () => {
    const secret = generateWebhookSecret();
    const wrong = generateWebhookSecret();
    const t = now();
    const signed = await signPayload({ secrets: [secret], eventId: EVENT_ID, timestamp: t, body: BODY });

    expect(() => verifyWithStripe(signed.stripe, wrong)).toThrow(/signature/i);
    expect(() => verifyWithStandardWebhooks(signed.standard, wrong, t)).toThrow(/signature/i);
  });

  it("is rejected by both libraries when the body, id or timestamp changes", async () => {
    const secret = generateWebhookSecret();
    const t = now();
    const signed = await signPayload({ secrets: [secret], eventId: EVENT_ID, timestamp: t, body: BODY });
    const altered = BODY.replace("4200", "4201");

    expect(() => verifyWithStripe(signed.stripe, secret, altered)).toThrow(/signature/i);
    expect(() => verifyWithStandardWebhooks(signed.standard, secret, t, altered)).toThrow(/signature/i);
    expect(() => verifyWithStandardWebhooks(signed.standard, secret, t - 1)).toThrow(/signature/i);
    expect(() =>
      new Webhook(secret).verify(BODY, {
        "webhook-id": "evt_other",
        "webhook-timestamp": String(t),
        "webhook-signature": signed.standard,
      }),
    ).toThrow(/signature/i);
  });

  it("verifies a caller-chosen secret without whsec_ (Standard Webhooks given the raw bytes)", async () => {
    const secret = "my-own-secret-of-at-least-24-chars";
    const t = now();
    const signed = await signPayload({ secrets: [secret], eventId: EVENT_ID, timestamp: t, body: BODY });

    expect(verifyWithStripe(signed.stripe, secret)).toMatchObject({ id: EVENT_ID });
    const verified = new Webhook(secret, { format: "raw" }).verify(BODY, {
      "webhook-id": EVENT_ID,
      "webhook-timestamp": String(t),
      "webhook-signature": signed.standard,
    });
    expect(verified).toMatchObject({ id: EVENT_ID });
  });
});

describe("HMAC key cache", () => {
  it("imports a key once per (secret, scheme) and stays bounded", async () => {
    const secret = generateWebhookSecret();
    await signPayload({ secrets: [secret], eventId: EVENT_ID, timestamp: 1, body: "{}" });
    const after = signingKeyCacheSize();
    for (let attempt = 0; attempt < 5; attempt++) {
      await signPayload({ secrets: [secret], eventId: EVENT_ID, timestamp: 1 + attempt, body: "{}" });
    }
    expect(signingKeyCacheSize()).toBe(after);

    for (let i = 0; i < 600; i++) {
      await signPayload({ secrets: [`whsec_secret-number-${i}`], eventId: EVENT_ID, timestamp: 1, body: "{}" });
    }
    expect(signingKeyCacheSize()).toBe(1000);

    // Evicted keys are simply imported again: signatures do not change.
    const again = await signPayload({ secrets: ["whsec_secret-number-0"], eventId: EVENT_ID, timestamp: 1, body: "{}" });
    const expected = createHmac("sha256", "whsec_secret-number-0").update("1.{}").digest("hex");
    expect(again.stripe).toBe(`t=1,v1=${expected}`);
  });
});
