import { MODES, type Mode } from "../common/enums";
import { isBase62, randomBase62, toBase62 } from "../lib/crypto";

/**
 * Static API keys look like `<prefix>_<mode>_<tenant>_<secret><checksum>`
 * (`live` or `test`):
 * 32 base62 CSPRNG characters, then a 6-character base62 CRC32 of them, so a
 * typo or a made-up key is refused without touching storage (as GitHub's
 * token format does for secret scanners).
 */
export const SECRET_LENGTH = 32;
export const CHECKSUM_LENGTH = 6;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as zlib) of the UTF-8 bytes of `input`. */
export function crc32(input: string): number {
  let crc = 0xffffffff;
  for (const byte of new TextEncoder().encode(input)) {
    crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

export function checksum(secret: string): string {
  return toBase62(crc32(secret), CHECKSUM_LENGTH);
}

/** A new static key of `mode` for a tenant id (`ten_...`). */
export function generateApiKey(prefix: string, tenantId: string, mode: Mode = "live"): string {
  const secret = randomBase62(SECRET_LENGTH);
  return `${prefix}_${mode}_${tenantId.replace(/^ten_/, "")}_${secret}${checksum(secret)}`;
}

export type ParsedKey = { tenantId: string; mode: Mode; secret: string };

const isMode = (value: string): value is Mode => (MODES as readonly string[]).includes(value);

/** Parses and checksums a presented key; `null` when it cannot be one of ours. */
export function parseApiKey(prefix: string, key: string): ParsedKey | null {
  const parts = key.split("_");
  if (parts.length !== 4) return null;
  const [p, env, tenant, body] = parts as [string, string, string, string];
  if (p !== prefix || !isMode(env)) return null;
  if (!tenant || !isBase62(tenant)) return null;
  if (body.length !== SECRET_LENGTH + CHECKSUM_LENGTH || !isBase62(body)) return null;
  const secret = body.slice(0, SECRET_LENGTH);
  if (checksum(secret) !== body.slice(SECRET_LENGTH)) return null;
  return { tenantId: `ten_${tenant}`, mode: env, secret };
}
