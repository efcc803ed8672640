import { describe, expect, it } from "vitest";
import { decryptSecret, encryptSecret, SecretBoxError } from "../../src/lib/secret-box";

/** base64 of 32 bytes 0..31, and of 32 bytes 32..63. */
const KEY = btoa(String.fromCharCode(...Array.from({ length: 32 }, (_, i) => i)));
const OTHER_KEY = btoa(String.fromCharCode(...Array.from({ length: 32 }, (_, i) => i + 32)));
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ROW = "wh_3kT9aaaaaaaaaaaaaaaa";

function b64urlDecode(s: string): Uint8Array {
  return Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
}
function b64urlEncode(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

describe("secret box", () => {
  it("round-trips, including non-ASCII and empty plaintexts", async () => {
    for (const plaintext of [SECRET, "", "päss wörd ✓ 🔑", "x".repeat(10_000)]) {
      const boxed = await encryptSecret(KEY, plaintext, ROW);
      expect(await decryptSecret(KEY, boxed, ROW)).toBe(plaintext);
    }
  });

  it("boxes as v1.<base64url iv (12 bytes)>.<base64url ciphertext+tag>", async () => {
    const boxed = await encryptSecret(KEY, SECRET, ROW);
    expect(boxed).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const [, iv, sealed] = boxed.split(".");
    expect(b64urlDecode(iv!)).toHaveLength(12);
    expect(b64urlDecode(sealed!)).toHaveLength(new TextEncoder().encode(SECRET).length + 16);
    expect(boxed).not.toContain(SECRET);
  });

  it("gives a different box (fresh IV) each time for the same plaintext", async () => {
    const a = await encryptSecret(KEY, SECRET, ROW);
    const b = await encryptSecret(KEY, SECRET, ROW);
    expect(a).not.toBe(b);
    expect(a.split(".")[1]).not.toBe(b.split(".")[1]);
  });

  it("fails for another row's id (aad)", async () => {
    const boxed = await encryptSecret(KEY, SECRET, ROW);
    await expect(decryptSecret(KEY, boxed, "wh_other")).rejects.toThrow(SecretBoxError);
  });

  it("fails under another key, without revealing the key or plaintext", async () => {
    const boxed = await encryptSecret(KEY, SECRET, ROW);
    const error = await decryptSecret(OTHER_KEY, boxed, ROW).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SecretBoxError);
    const message = (error as Error).message;
    expect(message).toMatch(/could not be decrypted/);
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain(KEY);
    expect(message).not.toContain(OTHER_KEY);
  });

  it("fails when the ciphertext, tag or IV is altered", async () => {
    const boxed = await encryptSecret(KEY, SECRET, ROW);
    const [version, iv, sealed] = boxed.split(".") as [string, string, string];
    const flip = (s: string, index: number) => {
      const bytes = b64urlDecode(s);
      bytes[index] = bytes[index]! ^ 0x01;
      return b64urlEncode(bytes);
    };
    const sealedLength = b64urlDecode(sealed).length;
    for (const tampered of [
      `${version}.${iv}.${flip(sealed, 0)}`,
      `${version}.${iv}.${flip(sealed, sealedLength - 1)}`,
      `${version}.${flip(iv, 0)}.${sealed}`,
      `${version}.${iv}.${b64urlEncode(b64urlDecode(sealed).slice(0, -1))}`,
    ]) {
      await expect(decryptSecret(KEY, tampered, ROW)).rejects.toThrow(/could not be decrypted/);
    }
  });

  it.each([
    "",
    "garbage",
    "v1",
    "v1..",
    "v1.AAAA",
    "v2.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
    "v1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.extra",
    "v1.AAAA.AAAAAAAAAAAAAAAAAAAAAA",
    "v1.AAAAAAAAAAAAAAAA.AAAA",
    "v1.AAAAAAAAAAAAAAA*.AAAAAAAAAAAAAAAAAAAAAA",
    "v1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA==",
    "v1.AAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
  ])("refuses the malformed box %j", async (boxed) => {
    await expect(decryptSecret(KEY, boxed, ROW)).rejects.toThrow(new SecretBoxError("Encrypted secret is malformed."));
  });

  it("refuses a well-formed box that was never sealed with this key", async () => {
    await expect(decryptSecret(KEY, "v1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA", ROW)).rejects.toThrow(/could not be decrypted/);
  });

  it("refuses a key that is not base64 of 32 bytes", async () => {
    await expect(encryptSecret(btoa("short"), SECRET, ROW)).rejects.toThrow(/32 bytes/);
    await expect(encryptSecret("not base64!", SECRET, ROW)).rejects.toThrow(/not valid base64/);
    // A later call with a good key still works (failed imports are not cached).
    const boxed = await encryptSecret(KEY, SECRET, ROW);
    expect(await decryptSecret(KEY, boxed, ROW)).toBe(SECRET);
  });
});
