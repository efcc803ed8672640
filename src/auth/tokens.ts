import { MODES, type Mode } from "../common/enums";
import { fromBase64Url, toBase64Url } from "../lib/crypto";

/**
 * OAuth2 access tokens: compact HS256 JWTs signed and verified with WebCrypto,
 * so a token is checked at the edge without a D1 read. The client's Durable
 * Object still gates every request, so deleting the client kills its tokens.
 */
const ISSUER = "hookgate";
const AUDIENCE = "hookgate-api";
export const ACCESS_TOKEN_TTL_SECONDS = 3600;

export type AccessTokenClaims = {
  iss: string;
  aud: string;
  /** The OAuth client id (`cli_...`). */
  sub: string;
  /** The tenant id (`ten_...`). */
  ten: string;
  /** Space-delimited scopes. */
  scope: string;
  /** The client's mode; a token minted before modes existed has none and is live. */
  mode?: Mode;
  iat: number;
  exp: number;
  jti: string;
};

export type TokenCheck = { ok: true; claims: AccessTokenClaims } | { ok: false; reason: "malformed" | "signature" | "expired" | "claims" };

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

// Imported once per signing secret per isolate, not per request.
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keys.set(secret, key);
  }
  return key;
}

/** Decodes a JWT segment; a malformed one throws (the caller answers "malformed"). */
function fromB64url(s: string): Uint8Array {
  const bytes = fromBase64Url(s);
  if (!bytes) throw new Error("not base64url");
  return bytes;
}

const HEADER = toBase64Url(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));

export async function signAccessToken(
  secret: string,
  input: { clientId: string; tenantId: string; scopes: string[]; mode?: Mode; now?: number },
): Promise<{ token: string; claims: AccessTokenClaims }> {
  const iat = Math.floor((input.now ?? Date.now()) / 1000);
  const claims: AccessTokenClaims = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: input.clientId,
    ten: input.tenantId,
    scope: input.scopes.join(" "),
    mode: input.mode ?? "live",
    iat,
    exp: iat + ACCESS_TOKEN_TTL_SECONDS,
    jti: crypto.randomUUID(),
  };
  return { token: await signJwt(secret, claims), claims };
}

/** A compact HS256 JWT carrying `claims`: shared by access tokens and dashboard session tokens. */
export async function signJwt(secret: string, claims: object): Promise<string> {
  const body = `${HEADER}.${toBase64Url(encoder.encode(JSON.stringify(claims)))}`;
  const sig = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(body));
  return `${body}.${toBase64Url(new Uint8Array(sig))}`;
}

export type JwtCheck = { ok: true; payload: unknown } | { ok: false; reason: "malformed" | "signature" };

/** Checks an HS256 JWT's shape and signature and decodes its payload; the claims are the caller's to check. */
export async function verifyJwt(secret: string, token: string): Promise<JwtCheck> {
  const parts = token.split(".");
  const [header, payload, signature] = parts;
  if (parts.length !== 3 || !header || !payload || !signature || token.length > 4096) return { ok: false, reason: "malformed" };
  try {
    const h = JSON.parse(new TextDecoder().decode(fromB64url(header))) as { alg?: unknown };
    // Only HS256: refuses `none` and algorithm-confusion tricks outright.
    if (h.alg !== "HS256") return { ok: false, reason: "malformed" };
    const valid = await crypto.subtle.verify("HMAC", await hmacKey(secret), fromB64url(signature), encoder.encode(`${header}.${payload}`));
    if (!valid) return { ok: false, reason: "signature" };
    return { ok: true, payload: JSON.parse(new TextDecoder().decode(fromB64url(payload))) };
  } catch {
    return { ok: false, reason: "malformed" };
  }
}

/** The unverified `aud` claim of a JWT-shaped string (to pick its verifier), or null. */
export function peekAudience(token: string): string | null {
  try {
    const payload = JSON.parse(new TextDecoder().decode(fromB64url(token.split(".")[1] ?? ""))) as { aud?: unknown };
    return typeof payload?.aud === "string" ? payload.aud : null;
  } catch {
    return null;
  }
}

/** True when `s` has the shape of a JWT (and so is not a static key). */
export const looksLikeJwt = (s: string) => s.split(".").length === 3;

export async function verifyAccessToken(secret: string, token: string, now = Date.now()): Promise<TokenCheck> {
  const check = await verifyJwt(secret, token);
  if (!check.ok) return check;
  const claims = check.payload as AccessTokenClaims;
  if (
    typeof claims !== "object" ||
    claims === null ||
    claims.iss !== ISSUER ||
    claims.aud !== AUDIENCE ||
    typeof claims.sub !== "string" ||
    !claims.sub.startsWith("cli_") ||
    typeof claims.ten !== "string" ||
    !claims.ten.startsWith("ten_") ||
    typeof claims.scope !== "string" ||
    (claims.mode !== undefined && !MODES.includes(claims.mode)) ||
    typeof claims.exp !== "number" ||
    typeof claims.iat !== "number" ||
    claims.iat * 1000 > now + 60_000
  ) {
    return { ok: false, reason: "claims" };
  }
  if (claims.exp * 1000 <= now) return { ok: false, reason: "expired" };
  return { ok: true, claims };
}

/** The mode a verified token acts in. */
export const tokenMode = (claims: AccessTokenClaims): Mode => claims.mode ?? "live";
