/**
 * Webhook signing. Every delivery carries two signature headers so
 * receivers can verify with whichever library they already use:
 *
 * - `X-Webhook-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]` — Stripe's scheme:
 *   HMAC-SHA256 over `<t>.<body>`, keyed with the whole secret string as UTF-8.
 * - `webhook-signature: v1,<base64>[ v1,<base64>...]` — Standard Webhooks:
 *   HMAC-SHA256 over `<id>.<t>.<body>`, keyed with the base64-decoded part of
 *   the secret after `whsec_`.
 *
 * During a rotation grace period there are several live secrets; each header
 * then carries one signature per secret, and verifiers accept any match.
 */
import { fromStrictBase64, toBase64, toHex } from "../../lib/crypto";

const SECRET_PREFIX = "whsec_";
const SECRET_BYTES = 32;
const encoder = new TextEncoder();

export type SignatureHeaders = {
  /** Value of `X-Webhook-Signature`. */
  stripe: string;
  /** Value of `webhook-signature`. */
  standard: string;
};

/** `whsec_` + standard padded base64 of 32 CSPRNG bytes. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

export async function signPayload(input: {
  secrets: string[];
  eventId: string;
  /** Unix seconds. */
  timestamp: number;
  body: string;
}): Promise<SignatureHeaders> {
  const { secrets, eventId, timestamp, body } = input;
  if (secrets.length === 0) throw new Error("signPayload needs at least one secret.");
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new Error("signPayload needs the timestamp in whole unix seconds.");
  }
  const stripeMessage = encoder.encode(`${timestamp}.${body}`);
  const standardMessage = encoder.encode(`${eventId}.${timestamp}.${body}`);
  const [stripeMacs, standardMacs] = await Promise.all([
    Promise.all(secrets.map(async (s) => hmac(await hmacKey("stripe", s), stripeMessage))),
    Promise.all(secrets.map(async (s) => hmac(await hmacKey("standard", s), standardMessage))),
  ]);
  return {
    stripe: [`t=${timestamp}`, ...stripeMacs.map((mac) => `v1=${toHex(mac)}`)].join(","),
    standard: standardMacs.map((mac) => `v1,${toBase64(mac)}`).join(" "),
  };
}

type Scheme = "stripe" | "standard";

/**
 * The HMAC key bytes a scheme uses for a secret. Stripe keys with the whole
 * secret string. Standard Webhooks keys with the bytes that the base64 after
 * `whsec_` encodes; a caller-chosen secret that lacks the prefix, or whose
 * remainder is not valid (non-empty, padded, standard) base64, is keyed with
 * the UTF-8 bytes of the whole secret instead, so any secret still signs.
 * (Receivers using a Standard Webhooks library must then pass those raw bytes,
 * e.g. `new Webhook(secret, { format: "raw" })`.)
 */
function keyBytes(scheme: Scheme, secret: string): Uint8Array {
  if (scheme === "standard" && secret.startsWith(SECRET_PREFIX)) {
    const decoded = fromStrictBase64(secret.slice(SECRET_PREFIX.length));
    if (decoded) return decoded;
  }
  return encoder.encode(secret);
}

// Imported HMAC keys, one per (scheme, secret), reused across deliveries.
// Bounded: past the cap the least recently used key is dropped.
const KEY_CACHE_LIMIT = 1000;
const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(scheme: Scheme, secret: string): Promise<CryptoKey> {
  const cacheKey = `${scheme}:${secret}`;
  let key = keyCache.get(cacheKey);
  if (key) {
    keyCache.delete(cacheKey); // re-insert: Map order is then recency order
  } else {
    key = crypto.subtle.importKey("raw", keyBytes(scheme, secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    key.catch(() => keyCache.delete(cacheKey));
    if (keyCache.size >= KEY_CACHE_LIMIT) {
      const oldest = keyCache.keys().next();
      if (!oldest.done) keyCache.delete(oldest.value);
    }
  }
  keyCache.set(cacheKey, key);
  return key;
}

/** Number of cached HMAC keys (for tests). */
export function signingKeyCacheSize(): number {
  return keyCache.size;
}

async function hmac(key: CryptoKey, message: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, message));
}
