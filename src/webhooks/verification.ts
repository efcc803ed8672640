import type { TenantOp } from "../auth/caller";
import { currentBrand, deliveryBrand } from "../branding/brand";
import type { WebhookFormat } from "../db/schema";
import type { EndpointSettings } from "../delivery/http/request";
import { type CustomHeaders, openWebhookHeaders, signingSecrets } from "../delivery/http/secrets";
import type { SendResult } from "../delivery/http/send";
import { generateWebhookSecret } from "../delivery/http/sign";
import { sendVerification } from "../delivery/http/verification";
import { assertDeliverableUrl, assertOwnHeaders } from "./validate";
import { findWebhook } from "./webhooks";

export type VerifyInput = {
  url: string;
  format?: WebhookFormat;
  headers?: CustomHeaders | null;
  customFields?: Record<string, string | number | boolean> | null;
  secret?: string;
  /** An existing subscription being edited: signed with its live secrets; its stored headers unless `headers` is given. */
  webhookId?: string;
};

/**
 * The "Verify" button of the endpoint form: sends the signed verification request an endpoint
 * with these settings would get, and returns its answer whatever it is (nothing is stored). A new
 * endpoint without its own secret is signed with a throwaway one.
 */
export async function verifyEndpointSettings(op: TenantOp, input: VerifyInput): Promise<SendResult> {
  const url = assertDeliverableUrl(input.url, op.config.allowInsecureUrls);
  const brand = await currentBrand(op.env.DB);
  if (input.headers) assertOwnHeaders(input.headers, brand.headerPrefix);
  const existing = input.webhookId ? await findWebhook(op, input.webhookId) : null;
  const secrets = existing ? await signingSecrets(op.config, existing) : [input.secret ?? generateWebhookSecret()];
  const headers = input.headers !== undefined ? input.headers : existing ? await openWebhookHeaders(op.config, existing) : null;
  const endpoint: EndpointSettings = {
    format: input.format ?? existing?.format ?? "json",
    headers,
    customFields: input.customFields !== undefined ? input.customFields : (existing?.customFields ?? null),
  };
  return sendVerification({
    url,
    endpoint,
    secrets,
    timeoutMs: op.config.deliveryTimeoutMs,
    webhookId: existing?.id ?? null,
    brand: deliveryBrand(brand),
    productName: brand.productName,
  });
}
