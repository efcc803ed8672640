import type { Config } from "../config";
import type { WebhookRow } from "../db/webhooks";
import { type CustomHeaders, headerHint, headersAad, maskHeaderValue } from "../delivery/http/secrets";
import { encryptSecret } from "../lib/secret-box";

/** The secret encrypted for storage, bound to the webhook's id (a delivery opens it: src/delivery/http/secrets.ts). */
export async function sealWebhookSecret(config: Config, webhookId: string, secret: string) {
  return { secretEnc: await encryptSecret(config.secretsKey, secret, webhookId), secretLast4: secret.slice(-4) };
}

/** Each header with its value masked (`hints` as stored). */
export function maskedHeaders(hints: CustomHeaders | null): CustomHeaders {
  return Object.fromEntries(Object.entries(hints ?? {}).map(([name, hint]) => [name, maskHeaderValue(hint)]));
}

/**
 * An endpoint's own headers, sealed like its secret (their values are
 * secrets too, often an Authorization), with the hints reads show. No
 * headers, or an empty map, store nothing.
 */
export async function sealWebhookHeaders(
  config: Config,
  webhookId: string,
  headers: CustomHeaders | null | undefined,
): Promise<Pick<WebhookRow, "headersEnc" | "headerHints">> {
  if (!headers || Object.keys(headers).length === 0) return { headersEnc: null, headerHints: null };
  return {
    headersEnc: await encryptSecret(config.secretsKey, JSON.stringify(headers), headersAad(webhookId)),
    headerHints: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, headerHint(value)])),
  };
}
