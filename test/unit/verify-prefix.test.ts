import { describe, expect, it } from "vitest";
import * as common from "../../src/common/branding";
import { buildDeliveryRequest } from "../../src/delivery/http/request";
import { generateWebhookSecret } from "../../src/delivery/http/sign";
import { DEFAULT_HEADER_PREFIX, HEADER_PREFIX_PATTERN, verifyWebhook, WebhookVerificationError } from "../../src/tools/verify/index";

/** hookgate/verify under an operator's header prefix, against requests built by the server's own builder. */

const endpoint = { format: "json" as const, headers: null, customFields: null };
const event = { id: "evt_3kT9Qx7bLmNp2RsVwYz1", type: "invoice.paid", createdAt: new Date(), data: { amount: 1 } };

async function branded(prefix: string) {
  const secret = generateWebhookSecret();
  const req = await buildDeliveryRequest({
    endpoint,
    event,
    attempt: 1,
    secrets: [secret],
    brand: { headerPrefix: prefix, userAgent: "Acme/1" },
  });
  return { secret, req };
}

/** Only the Stripe-scheme header, as a receiver behind a proxy that strips the Standard Webhooks ones might see it. */
const stripeOnly = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).filter(([n]) => !n.startsWith("webhook-")));

describe("hookgate/verify's headerPrefix", () => {
  it("keeps the server's default and rule (the package ships alone, with its own copy)", () => {
    expect(DEFAULT_HEADER_PREFIX).toBe(common.DEFAULT_HEADER_PREFIX);
    expect(HEADER_PREFIX_PATTERN.source).toBe(common.HEADER_PREFIX_PATTERN.source);
  });

  it("verifies X-<prefix>-Signature when told the prefix, the Standard Webhooks headers under any", async () => {
    const { secret, req } = await branded("Acme-Hooks");
    expect(req.headers["X-Acme-Hooks-Signature"]).toMatch(/^t=\d+,v1=/);
    expect(req.headers["User-Agent"]).toBe("Acme/1");
    expect(Object.keys(req.headers).filter((n) => n.startsWith("X-Webhook-"))).toEqual([]);
    const only = stripeOnly(req.headers);
    await expect(verifyWebhook({ secret, headers: only, body: req.body, headerPrefix: "Acme-Hooks" })).resolves.toMatchObject({
      id: event.id,
    });
    // Header names are case-insensitive.
    const lower = Object.fromEntries(Object.entries(only).map(([k, v]) => [k.toLowerCase(), v]));
    await expect(verifyWebhook({ secret, headers: new Headers(lower), body: req.body, headerPrefix: "Acme-Hooks" })).resolves.toBeTruthy();
    // The default prefix does not see X-Acme-Hooks-Signature...
    const refused = await verifyWebhook({ secret, headers: only, body: req.body }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WebhookVerificationError);
    expect((refused as WebhookVerificationError).reason).toBe("missing_signature");
    expect((refused as Error).message).toContain("X-Webhook-Signature");
    // ...but the Standard Webhooks headers verify whatever the prefix.
    await expect(verifyWebhook({ secret, headers: req.headers, body: req.body })).resolves.toMatchObject({ id: event.id });
  });

  it("a wrong secret is still refused under the prefix", async () => {
    const { req } = await branded("Acme");
    const refused = await verifyWebhook({
      secret: generateWebhookSecret(),
      headers: req.headers,
      body: req.body,
      headerPrefix: "Acme",
    }).catch((e: unknown) => e);
    expect((refused as WebhookVerificationError).reason).toBe("invalid_signature");
  });

  it("refuses a prefix that could not be a header name", async () => {
    const { secret, req } = await branded("Acme");
    for (const headerPrefix of ["", "Acme Hooks", "Acme-", "X:Y"]) {
      await expect(verifyWebhook({ secret, headers: req.headers, body: req.body, headerPrefix })).rejects.toThrow(TypeError);
    }
  });
});
