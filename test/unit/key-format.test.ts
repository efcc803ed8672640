import { describe, expect, it } from "vitest";
import { CHECKSUM_LENGTH, checksum, crc32, generateApiKey, parseApiKey, SECRET_LENGTH } from "../../src/auth/key-format";
import { toBase62 } from "../../src/lib/crypto";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const TENANT_ID = "ten_8Jd02kLmQpZx4RtYvB1c";
const KEY_RE = /^hg_live_8Jd02kLmQpZx4RtYvB1c_[0-9A-Za-z]{32}[0-9A-Za-z]{6}$/;

/** A key built by hand from a known secret, independent of the generator. */
function handMade(secret: string, prefix = "hg", tenant = "8Jd02kLmQpZx4RtYvB1c", mode = "live"): string {
  return `${prefix}_${mode}_${tenant}_${secret}${checksum(secret)}`;
}

/** Replaces the character at `i` with a different base62 character. */
function typo(s: string, i: number, offset = 1): string {
  const at = BASE62.indexOf(s[i]!);
  const other = BASE62[(at + offset) % 62]!;
  return s.slice(0, i) + other + s.slice(i + 1);
}

describe("crc32", () => {
  it("matches the standard check value for 123456789", () => {
    expect(crc32("123456789")).toBe(0xcbf43926);
  });

  it("is 0 for the empty string", () => {
    expect(crc32("")).toBe(0);
  });

  it("matches further zlib vectors", () => {
    expect(crc32("a")).toBe(0xe8b7be43);
    expect(crc32("abc")).toBe(0x352441c2);
    expect(crc32("The quick brown fox jumps over the lazy dog")).toBe(0x414fa339);
  });

  it("hashes the UTF-8 bytes", () => {
    // "é" is C3 A9 in UTF-8 (zlib.crc32(Buffer.from("é")) = 0x0e048d3e), not the Latin-1 byte E9.
    expect(crc32("\u00e9")).toBe(0x0e048d3e);
  });

  it("always returns an unsigned 32-bit integer", () => {
    for (const s of ["", "x", "hello", "\u0000\u00ff", "z".repeat(1000)]) {
      const v = crc32(s);
      expect(Number.isInteger(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(0xffffffff);
    }
  });
});

describe("checksum", () => {
  it("is the CRC32 as 6 base62 characters, zero padded", () => {
    expect(checksum("123456789")).toBe(toBase62(0xcbf43926, 6));
    expect(checksum("123456789")).toHaveLength(CHECKSUM_LENGTH);
    expect(checksum("")).toBe("000000");
  });

  it("encodes the largest CRC in 6 characters (62^6 > 2^32)", () => {
    expect(toBase62(0xffffffff, 6)).toHaveLength(6);
    expect(toBase62(0xffffffff, 6)).toBe("4gfFC3");
  });
});

describe("generateApiKey", () => {
  it("lays out <prefix>_live_<tenant>_<32 base62><6 base62 CRC32>", () => {
    const key = generateApiKey("hg", TENANT_ID);
    expect(key).toMatch(KEY_RE);
    const body = key.split("_")[3]!;
    expect(body).toHaveLength(SECRET_LENGTH + CHECKSUM_LENGTH);
    expect(body.slice(SECRET_LENGTH)).toBe(checksum(body.slice(0, SECRET_LENGTH)));
  });

  it("strips ten_ from the tenant id and uses the given prefix", () => {
    const key = generateApiKey("acme2", TENANT_ID);
    expect(key.startsWith("acme2_live_8Jd02kLmQpZx4RtYvB1c_")).toBe(true);
    expect(key).not.toContain("ten_");
  });

  it("is random: 200 keys are all different", () => {
    const keys = new Set(Array.from({ length: 200 }, () => generateApiKey("hg", TENANT_ID)));
    expect(keys.size).toBe(200);
  });

  it("round-trips through parseApiKey", () => {
    for (let i = 0; i < 50; i++) {
      const key = generateApiKey("hg", TENANT_ID);
      const parsed = parseApiKey("hg", key);
      expect(parsed).toEqual({ tenantId: TENANT_ID, mode: "live", secret: key.split("_")[3]!.slice(0, SECRET_LENGTH) });
    }
  });

  it("makes test keys as <prefix>_test_<tenant>_<secret><checksum>, parsed back as test", () => {
    for (let i = 0; i < 50; i++) {
      const key = generateApiKey("hg", TENANT_ID, "test");
      expect(key).toMatch(/^hg_test_8Jd02kLmQpZx4RtYvB1c_[0-9A-Za-z]{38}$/);
      const body = key.split("_")[3]!;
      expect(body.slice(SECRET_LENGTH)).toBe(checksum(body.slice(0, SECRET_LENGTH)));
      expect(parseApiKey("hg", key)).toEqual({ tenantId: TENANT_ID, mode: "test", secret: body.slice(0, SECRET_LENGTH) });
    }
  });
});

describe("parseApiKey", () => {
  const secret = "AbCdEfGhIjKlMnOpQrStUvWxYz012345";
  const key = handMade(secret);

  it("accepts a hand-built key and returns tenant id and secret", () => {
    expect(parseApiKey("hg", key)).toEqual({ tenantId: TENANT_ID, mode: "live", secret });
  });

  it("accepts a hand-built test key with the same checksum rules", () => {
    const testKey = handMade(secret, "hg", "8Jd02kLmQpZx4RtYvB1c", "test");
    expect(parseApiKey("hg", testKey)).toEqual({ tenantId: TENANT_ID, mode: "test", secret });
    expect(parseApiKey("hg", typo(testKey, testKey.length - 1))).toBeNull();
    expect(parseApiKey("hg", typo(testKey, testKey.length - 10))).toBeNull();
  });

  it("rejects every one-character typo in the secret or checksum", () => {
    const start = key.lastIndexOf("_") + 1;
    let tried = 0;
    for (let i = start; i < key.length; i++) {
      for (let offset = 1; offset < 62; offset++) {
        const bad = typo(key, i, offset);
        expect(bad).not.toBe(key);
        if (parseApiKey("hg", bad) !== null) throw new Error(`typo accepted at ${i}: ${bad}`);
        tried++;
      }
    }
    expect(tried).toBe((SECRET_LENGTH + CHECKSUM_LENGTH) * 61);
  });

  it("rejects swapped adjacent characters in the secret", () => {
    const start = key.lastIndexOf("_") + 1;
    for (let i = start; i < start + SECRET_LENGTH - 1; i++) {
      if (key[i] === key[i + 1]) continue;
      const bad = key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2);
      expect(parseApiKey("hg", bad), bad).toBeNull();
    }
  });

  it("rejects a different prefix", () => {
    expect(parseApiKey("hg", handMade(secret, "gh"))).toBeNull();
    expect(parseApiKey("hg", handMade(secret, "HG"))).toBeNull();
    expect(parseApiKey("acme", key)).toBeNull();
    expect(parseApiKey("acme", handMade(secret, "acme"))).toEqual({ tenantId: TENANT_ID, mode: "live", secret });
  });

  it("rejects a mode other than live or test", () => {
    for (const env of ["TEST", "LIVE", "", "live2", "prod", "sandbox"]) {
      expect(parseApiKey("hg", key.replace("_live_", `_${env}_`)), env).toBeNull();
    }
  });

  it("rejects a wrong number of parts", () => {
    expect(parseApiKey("hg", `hg_live_${secret}${checksum(secret)}`)).toBeNull();
    expect(parseApiKey("hg", `${key}_x`)).toBeNull();
    expect(parseApiKey("hg", `x_${key}`)).toBeNull();
    expect(parseApiKey("hg", "")).toBeNull();
    expect(parseApiKey("hg", "___")).toBeNull();
  });

  it("rejects an empty or non-base62 tenant", () => {
    expect(parseApiKey("hg", handMade(secret, "hg", ""))).toBeNull();
    expect(parseApiKey("hg", handMade(secret, "hg", "abc-def"))).toBeNull();
    expect(parseApiKey("hg", handMade(secret, "hg", "ab cd"))).toBeNull();
  });

  it("rejects a body one character short or long", () => {
    expect(parseApiKey("hg", key.slice(0, -1))).toBeNull();
    expect(parseApiKey("hg", `${key}0`)).toBeNull();
    const short = secret.slice(0, 31);
    expect(parseApiKey("hg", handMade(short))).toBeNull();
    const long = `${secret}A`;
    expect(parseApiKey("hg", handMade(long))).toBeNull();
  });

  it("rejects non-base62 characters even with a matching checksum", () => {
    for (const ch of ["-", "+", "/", "=", " ", "é", "."]) {
      const s = `${ch}${secret.slice(1)}`;
      expect(parseApiKey("hg", handMade(s)), JSON.stringify(ch)).toBeNull();
    }
  });

  it("rejects surrounding whitespace", () => {
    expect(parseApiKey("hg", ` ${key}`)).toBeNull();
    expect(parseApiKey("hg", `${key}\n`)).toBeNull();
  });
});
