import type { Config } from "../config";
import type { WebhookRow } from "../db/webhooks";
import { decryptSecret, encryptSecret } from "../lib/secret-box";
import { TtlCache } from "../lib/ttl-cache";

/**
 * Opened boxes, by their ciphertext, so a busy endpoint's deliveries do not
 * each pay an AES-GCM decryption. A rotated secret or changed headers are a
 * new box, so nothing stale can be served; the plaintext only stays in this
 * isolate's memory, where a delivery needs it anyway.
 */
const opened = new TtlCache<string>(5 * 60_000, 2_000);

async function open(secretsKey: string, box: string, aad: string): Promise<string> {
  const key = `${aad}\n${box}`;
  let plain = opened.get(key);
  if (plain === undefined) {
    plain = await decryptSecret(secretsKey, box, aad);
    opened.set(key, plain);
  }
  return plain;
}

/** The secret encrypted for storage, bound to the webhook's id. */
export async function sealWebhookSecret(config: Config, webhookId: string, secret: string) {
  return { secretEnc: await encryptSecret(config.secretsKey, secret, webhookId), secretLast4: secret.slice(-4) };
}

/**
 * The secrets that sign a delivery now: the current one, plus the previous
 * one while a rotation's grace period lasts.
 */
export async function signingSecrets(config: Config, w: WebhookRow, now = Date.now()): Promise<string[]> {
  const out = [await open(config.secretsKey, w.secretEnc, w.id)];
  if (w.previousSecretEnc && w.previousSecretExpiresAt && w.previousSecretExpiresAt.getTime() > now) {
    out.push(await open(config.secretsKey, w.previousSecretEnc, w.id));
  }
  return out;
}

export type CustomHeaders = Record<string, string>;

/**
 * What a read may show of a header value: its last 4 characters, or nothing
 * at all for a value of 4 characters or fewer (its last 4 would be all of it).
 */
export function headerHint(value: string): string {
  const chars = [...value];
  return chars.length > 4 ? chars.slice(-4).join("") : "";
}

/** A value as reads and the attempt log show it: `****` and the hint, so neither the value nor its length shows. */
export const maskHeaderValue = (hint: string) => `****${hint}`;

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

/** The headers a delivery sends, decrypted (null when the endpoint has none). */
export async function openWebhookHeaders(config: Config, w: Pick<WebhookRow, "id" | "headersEnc">): Promise<CustomHeaders | null> {
  if (!w.headersEnc) return null;
  return JSON.parse(await open(config.secretsKey, w.headersEnc, headersAad(w.id))) as CustomHeaders;
}

/** The headers' box is bound to the webhook and to its purpose, so it cannot stand in for the secret's box of the same row. */
const headersAad = (webhookId: string) => `${webhookId}:headers`;
