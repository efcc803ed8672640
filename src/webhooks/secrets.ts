import type { WebhookRow } from "../db/webhooks";
import type { Config } from "../env";
import { decryptSecret, encryptSecret } from "../lib/secret-box";

/** The secret encrypted for storage, bound to the webhook's id. */
export async function sealWebhookSecret(config: Config, webhookId: string, secret: string) {
  return { secretEnc: await encryptSecret(config.secretsKey, secret, webhookId), secretLast4: secret.slice(-4) };
}

/**
 * The secrets that sign a delivery now: the current one, plus the previous
 * one while a rotation's grace period lasts.
 */
export async function signingSecrets(config: Config, w: WebhookRow, now = Date.now()): Promise<string[]> {
  const out = [await decryptSecret(config.secretsKey, w.secretEnc, w.id)];
  if (w.previousSecretEnc && w.previousSecretExpiresAt && w.previousSecretExpiresAt.getTime() > now) {
    out.push(await decryptSecret(config.secretsKey, w.previousSecretEnc, w.id));
  }
  return out;
}
