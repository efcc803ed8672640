/**
 * Encryption at rest for webhook and source secrets (SECRETS_KEY).
 * AES-256-GCM with a fresh random 96-bit IV per call, boxed as
 * `v1.<base64url(iv)>.<base64url(ciphertext+tag)>`. The owning row's id is
 * bound as additional authenticated data, so a box copied into another row
 * does not decrypt there. The version tag leaves room for a future scheme.
 */

import { fromBase64Url, toBase64Url } from "./crypto";

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Thrown for a bad box or a failed decryption; never carries the key or plaintext. */
export class SecretBoxError extends Error {
  override name = "SecretBoxError";
}

// One import per key: in practice one entry (two during a key rotation).
// A failed import is removed so a corrected key is not stuck behind it.
const keys = new Map<string, Promise<CryptoKey>>();

function aesKey(keyBase64: string): Promise<CryptoKey> {
  let key = keys.get(keyBase64);
  if (!key) {
    key = importAesKey(keyBase64);
    keys.set(keyBase64, key);
    key.catch(() => keys.delete(keyBase64));
  }
  return key;
}

async function importAesKey(keyBase64: string): Promise<CryptoKey> {
  let raw: Uint8Array;
  try {
    raw = Uint8Array.from(atob(keyBase64), (ch) => ch.charCodeAt(0));
  } catch {
    throw new SecretBoxError("SECRETS_KEY is not valid base64.");
  }
  if (raw.length !== KEY_BYTES) throw new SecretBoxError(`SECRETS_KEY must be base64 of ${KEY_BYTES} bytes.`);
  return crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
}

export async function encryptSecret(keyBase64: string, plaintext: string, aad: string): Promise<string> {
  const key = await aesKey(keyBase64);
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(aad) }, key, encoder.encode(plaintext));
  return `${VERSION}.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(sealed))}`;
}

export async function decryptSecret(keyBase64: string, boxed: string, aad: string): Promise<string> {
  const parts = boxed.split(".");
  const iv = parts.length === 3 && parts[0] === VERSION ? fromBase64Url(parts[1]!) : null;
  const sealed = iv ? fromBase64Url(parts[2]!) : null;
  if (!iv || iv.length !== IV_BYTES || !sealed || sealed.length < TAG_BYTES) {
    throw new SecretBoxError("Encrypted secret is malformed.");
  }
  const key = await aesKey(keyBase64);
  let opened: ArrayBuffer;
  try {
    opened = await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(aad) }, key, sealed);
  } catch {
    // WebCrypto only says "operation failed"; name the likely causes instead.
    throw new SecretBoxError("Encrypted secret could not be decrypted (wrong key, wrong owner, or altered data).");
  }
  return decoder.decode(opened);
}
