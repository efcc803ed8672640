import { describe, expect, it } from "vitest";
import { ACCESS_TOKEN_TTL_SECONDS, looksLikeJwt, signAccessToken, tokenMode, verifyAccessToken } from "../../src/auth/tokens";
import { TEST_SECRETS } from "../test-secrets";

const SECRET = TEST_SECRETS.TOKEN_SIGNING_KEY;
const input = { clientId: "cli_abc123", tenantId: "ten_xyz789", scopes: ["keys:read", "webhooks:write"] };

const enc = new TextEncoder();
const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64").replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
const b64urlJson = (value: unknown) => b64url(enc.encode(JSON.stringify(value)));
const decodePart = (part: string) => JSON.parse(Buffer.from(part, "base64url").toString("utf8"));

async function hs256(secret: string, data: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return b64url(new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(data))));
}

/** A correctly signed token with arbitrary header and claims. */
async function craft(header: unknown, claims: unknown, secret = SECRET): Promise<string> {
  const body = `${b64urlJson(header)}.${b64urlJson(claims)}`;
  return `${body}.${await hs256(secret, body)}`;
}

/** Replaces one character of `s` at `i` with a different base64url character. */
function flip(s: string, i: number): string {
  const c = s[i]!;
  const next = c === "A" ? "B" : "A";
  return s.slice(0, i) + next + s.slice(i + 1);
}

describe("signAccessToken", () => {
  it("issues a compact HS256 JWT with the documented claims", async () => {
    const now = Date.UTC(2030, 0, 1, 12, 0, 0);
    const { token, claims } = await signAccessToken(SECRET, { ...input, now });
    expect(looksLikeJwt(token)).toBe(true);
    const [h, p, s] = token.split(".");
    expect(decodePart(h!)).toEqual({ alg: "HS256", typ: "JWT" });
    expect(decodePart(p!)).toEqual(claims);
    expect(claims).toMatchObject({
      iss: "hookgate",
      aud: "hookgate-api",
      sub: "cli_abc123",
      ten: "ten_xyz789",
      scope: "keys:read webhooks:write",
      mode: "live",
      iat: now / 1000,
      exp: now / 1000 + 3600,
    });
    expect(ACCESS_TOKEN_TTL_SECONDS).toBe(3600);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    // The signature is the HMAC-SHA256 of header.payload under the secret.
    expect(s).toBe(await hs256(SECRET, `${h}.${p}`));
    expect(token).not.toMatch(/[+/=]/);
  });

  it("gives every token a fresh jti", async () => {
    const a = await signAccessToken(SECRET, input);
    const b = await signAccessToken(SECRET, input);
    expect(a.claims.jti).not.toBe(b.claims.jti);
    expect(a.token).not.toBe(b.token);
  });
});

describe("the token's mode", () => {
  it("carries the client's mode in the signed claims", async () => {
    const { token, claims } = await signAccessToken(SECRET, { ...input, mode: "test" });
    expect(decodePart(token.split(".")[1]!).mode).toBe("test");
    const check = await verifyAccessToken(SECRET, token);
    expect(check).toEqual({ ok: true, claims });
    expect(check.ok && tokenMode(check.claims)).toBe("test");
  });

  it("reads a token without a mode (minted before modes) as live", async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: "hookgate", aud: "hookgate-api", sub: "cli_a", ten: "ten_b", scope: "", iat: now, exp: now + 60, jti: "x" };
    const check = await verifyAccessToken(SECRET, await craft({ alg: "HS256", typ: "JWT" }, claims));
    expect(check.ok && tokenMode(check.claims)).toBe("live");
  });

  it("refuses a signed token whose mode is not live or test", async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const mode of ["prod", "TEST", 1, null]) {
      const claims = {
        iss: "hookgate",
        aud: "hookgate-api",
        sub: "cli_a",
        ten: "ten_b",
        scope: "",
        mode,
        iat: now,
        exp: now + 60,
        jti: "x",
      };
      expect(await verifyAccessToken(SECRET, await craft({ alg: "HS256", typ: "JWT" }, claims)), String(mode)).toEqual({
        ok: false,
        reason: "claims",
      });
    }
  });
});

describe("verifyAccessToken", () => {
  it("accepts its own tokens and returns the claims", async () => {
    const { token, claims } = await signAccessToken(SECRET, input);
    expect(await verifyAccessToken(SECRET, token)).toEqual({ ok: true, claims });
  });

  it("refuses a token signed with another key", async () => {
    const { token } = await signAccessToken("another-signing-key-0123456789abcdef0123", input);
    expect(await verifyAccessToken(SECRET, token)).toEqual({ ok: false, reason: "signature" });
  });

  it("refuses any single flipped character in header, payload or signature", async () => {
    const { token } = await signAccessToken(SECRET, input);
    const [h, p, s] = token.split(".") as [string, string, string];
    const positions = [
      ...[0, 5, h.length - 1].map((i) => i),
      ...[0, 10, Math.floor(p.length / 2), p.length - 2].map((i) => h.length + 1 + i),
      ...[0, 7, Math.floor(s.length / 2), s.length - 2].map((i) => h.length + p.length + 2 + i),
    ];
    for (const i of positions) {
      const tampered = flip(token, i);
      const result = await verifyAccessToken(SECRET, tampered);
      expect(result.ok, `flipped char ${i}`).toBe(false);
    }
  });

  it("refuses a payload swapped for another one (claims edited, old signature)", async () => {
    const { token, claims } = await signAccessToken(SECRET, input);
    const [h, , s] = token.split(".");
    const forged = `${h}.${b64urlJson({ ...claims, scope: "api:read api:write" })}.${s}`;
    expect(await verifyAccessToken(SECRET, forged)).toEqual({ ok: false, reason: "signature" });
  });

  it("refuses alg none, with or without a signature", async () => {
    const { claims } = await signAccessToken(SECRET, input);
    const header = b64urlJson({ alg: "none", typ: "JWT" });
    const payload = b64urlJson(claims);
    expect((await verifyAccessToken(SECRET, `${header}.${payload}.`)).ok).toBe(false);
    expect((await verifyAccessToken(SECRET, `${header}.${payload}.${await hs256(SECRET, `${header}.${payload}`)}`)).ok).toBe(false);
    for (const alg of ["None", "NONE", "HS512", "RS256", undefined]) {
      const t = await craft({ alg, typ: "JWT" }, claims);
      expect(await verifyAccessToken(SECRET, t), String(alg)).toEqual({ ok: false, reason: "malformed" });
    }
  });

  it("refuses an expired token, and accepts it until the last second", async () => {
    const now = Date.now();
    const issued = now - 2 * 3600_000;
    const { token } = await signAccessToken(SECRET, { ...input, now: issued });
    expect(await verifyAccessToken(SECRET, token, now)).toEqual({ ok: false, reason: "expired" });
    const iat = Math.floor(issued / 1000);
    expect((await verifyAccessToken(SECRET, token, (iat + 3600) * 1000 - 1)).ok).toBe(true);
    expect(await verifyAccessToken(SECRET, token, (iat + 3600) * 1000)).toEqual({ ok: false, reason: "expired" });
  });

  it("refuses a token issued in the future (beyond a minute of clock skew)", async () => {
    const now = Date.now();
    const { token: skewed } = await signAccessToken(SECRET, { ...input, now: now + 30_000 });
    expect((await verifyAccessToken(SECRET, skewed, now)).ok).toBe(true);
    const { token: future } = await signAccessToken(SECRET, { ...input, now: now + 5 * 60_000 });
    expect(await verifyAccessToken(SECRET, future, now)).toEqual({ ok: false, reason: "claims" });
  });

  it("refuses correctly signed tokens whose claims are not ours", async () => {
    const { claims } = await signAccessToken(SECRET, input);
    const cases: Record<string, unknown> = {
      iss: { ...claims, iss: "someone-else" },
      aud: { ...claims, aud: "another-api" },
      sub: { ...claims, sub: "key_abc" },
      subType: { ...claims, sub: 42 },
      ten: { ...claims, ten: "abc" },
      scope: { ...claims, scope: ["keys:read"] },
      exp: { ...claims, exp: "never" },
      iat: { ...claims, iat: undefined },
    };
    for (const [name, c] of Object.entries(cases)) {
      expect(await verifyAccessToken(SECRET, await craft({ alg: "HS256", typ: "JWT" }, c)), name).toEqual({
        ok: false,
        reason: "claims",
      });
    }
  });

  it("refuses malformed input without throwing", async () => {
    const { token } = await signAccessToken(SECRET, input);
    const [h, p, s] = token.split(".");
    for (const bad of [
      "",
      "a.b",
      "..",
      `${h}.${p}.`,
      `${h}..${s}`,
      `.${p}.${s}`,
      `${h}.${p}.${s}.extra`,
      `${h}.${p}.${s}!`,
      `${h}.${p}+.${s}`,
      `${b64url(enc.encode("not json"))}.${p}.${s}`,
      `${h}.${b64url(enc.encode("not json"))}.${s}`,
      `${token}${"A".repeat(5000)}`,
    ]) {
      const result = await verifyAccessToken(SECRET, bad);
      expect(result.ok, JSON.stringify(bad.slice(0, 40))).toBe(false);
    }
  });

  it("payload that is valid JSON but not an object is refused", async () => {
    for (const payload of [null, 42, "x", []]) {
      const t = await craft({ alg: "HS256", typ: "JWT" }, payload);
      const result = await verifyAccessToken(SECRET, t);
      expect(result.ok, JSON.stringify(payload)).toBe(false);
    }
  });
});

describe("looksLikeJwt", () => {
  it("tells tokens from static keys", () => {
    expect(looksLikeJwt("a.b.c")).toBe(true);
    expect(looksLikeJwt("hg_live_abc_def")).toBe(false);
    expect(looksLikeJwt("a.b")).toBe(false);
    expect(looksLikeJwt("a.b.c.d")).toBe(false);
  });
});
