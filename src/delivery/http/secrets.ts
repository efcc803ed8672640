import type { Config } from "../../config";
import type { WebhookRow } from "../../db/webhooks";
import { decryptSecret } from "../../lib/secret-box";
import { TtlCache } from "../../lib/ttl-cache";

/**
 * An endpoint's sealed secrets opened for its deliveries: the signing
 * secrets and its own headers (src/webhooks/secrets.ts seals them).
 * Opened boxes are kept by their ciphertext, so a busy endpoint's deliveries
 * do not each pay an AES-GCM decryption. A rotated secret or changed headers
 * are a new box, so nothing stale can be served; the plaintext only stays
 * in this isolate's memory, where a delivery needs it anyway.
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

/** The headers a delivery sends, decrypted (null when the endpoint has none). */
export async function openWebhookHeaders(config: Config, w: Pick<WebhookRow, "id" | "headersEnc">): Promise<CustomHeaders | null> {
  if (!w.headersEnc) return null;
  return JSON.parse(await open(config.secretsKey, w.headersEnc, headersAad(w.id))) as CustomHeaders;
}

/** The headers' box is bound to the webhook and to its purpose, so it cannot stand in for the secret's box of the same row. */
export const headersAad = (webhookId: string) => `${webhookId}:headers`;

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
