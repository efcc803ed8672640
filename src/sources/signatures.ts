import type { SourceVerification } from "../db/schema";
import { bytesEqual, fromStrictBase64, toBase64, toHex } from "../lib/crypto";

/** The secret fields of a verification, sealed at rest. */
export type VerificationSecrets = { secret?: string; password?: string; verifyToken?: string };

/** What arrived: the exact bytes that were signed, the headers, and the URL the sender called. */
export type SignedRequest = { body: Uint8Array; headers: Headers; url: string; form: [string, string][] | null };

export type SignatureVerdict = "ok" | "invalid_signature" | "stale_timestamp";

/** Timestamped schemes accept a request this many seconds old or early, no more. */
export const TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();
type Hash = "SHA-1" | "SHA-256" | "SHA-512";

async function hmac(hash: Hash, key: Uint8Array | string, ...parts: (Uint8Array | string)[]): Promise<Uint8Array> {
  const raw = typeof key === "string" ? encoder.encode(key) : key;
  const k = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, concat(parts.map((p) => (typeof p === "string" ? encoder.encode(p) : p)))));
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Constant-time equality of two strings: both are hashed to 32 bytes first,
 * so neither where they differ nor their lengths show in the time taken.
 * WebCrypto's timingSafeEqual where the runtime has it (workerd), else the
 * same constant-time loop (Node, where the unit tests run).
 */
export async function safeEqual(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  const subtle = crypto.subtle as SubtleCrypto & { timingSafeEqual?: (a: ArrayBuffer, b: ArrayBuffer) => boolean };
  return subtle.timingSafeEqual ? subtle.timingSafeEqual(da, db) : bytesEqual(new Uint8Array(da), new Uint8Array(db));
}

/** True when any of `candidates` equals `expected`; every candidate is compared (no early exit). */
async function anyEqual(expected: string, candidates: string[]): Promise<boolean> {
  const results = await Promise.all(candidates.map((c) => safeEqual(expected, c)));
  return results.includes(true);
}

function fresh(timestamp: string | null, now: number): boolean {
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
  return Math.abs(now / 1000 - Number(timestamp)) <= TOLERANCE_SECONDS;
}

/**
 * Checks a request against its source's verification scheme. Each scheme
 * is the provider's documented one; every comparison is constant-time.
 */
export async function verifySignature(
  v: SourceVerification,
  secrets: VerificationSecrets,
  req: SignedRequest,
  now = Date.now(),
): Promise<SignatureVerdict> {
  const secret = secrets.secret ?? "";
  const h = (name: string) => req.headers.get(name);
  switch (v.scheme) {
    case "hmac": {
      const hash = ({ sha1: "SHA-1", sha256: "SHA-256", sha512: "SHA-512" } as const)[v.algorithm ?? "sha256"];
      const mac = await hmac(hash, secret, req.body);
      const encoded = (v.encoding ?? "hex") === "hex" ? toHex(mac) : toBase64(mac);
      return (await safeEqual(`${v.prefix ?? ""}${encoded}`, h(v.header ?? "") ?? "")) ? "ok" : "invalid_signature";
    }
    case "stripe": {
      // Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...] over "<t>.<body>".
      const parts = (h("stripe-signature") ?? "").split(",").map((p) => p.trim().split("="));
      const t = parts.find(([k]) => k === "t")?.[1] ?? null;
      const v1s = parts.filter(([k, val]) => k === "v1" && val).map(([, val]) => val!);
      if (!t || v1s.length === 0) return "invalid_signature";
      const expected = toHex(await hmac("SHA-256", secret, `${t}.`, req.body));
      if (!(await anyEqual(expected, v1s))) return "invalid_signature";
      return fresh(t, now) ? "ok" : "stale_timestamp";
    }
    case "github":
    case "meta": {
      const expected = `sha256=${toHex(await hmac("SHA-256", secret, req.body))}`;
      return (await safeEqual(expected, h("x-hub-signature-256") ?? "")) ? "ok" : "invalid_signature";
    }
    case "shopify": {
      const expected = toBase64(await hmac("SHA-256", secret, req.body));
      return (await safeEqual(expected, h("x-shopify-hmac-sha256") ?? "")) ? "ok" : "invalid_signature";
    }
    case "slack": {
      const ts = h("x-slack-request-timestamp");
      const expected = `v0=${toHex(await hmac("SHA-256", secret, `v0:${ts ?? ""}:`, req.body))}`;
      if (!ts || !(await safeEqual(expected, h("x-slack-signature") ?? ""))) return "invalid_signature";
      return fresh(ts, now) ? "ok" : "stale_timestamp";
    }
    case "standard-webhooks": {
      // The svix- spelling of the three headers is the same scheme.
      const id = h("webhook-id") ?? h("svix-id");
      const ts = h("webhook-timestamp") ?? h("svix-timestamp");
      const signatures = (h("webhook-signature") ?? h("svix-signature") ?? "")
        .split(" ")
        .filter((s) => s.startsWith("v1,"))
        .map((s) => s.slice(3));
      const key = secret.startsWith("whsec_") ? fromStrictBase64(secret.slice(6)) : null;
      if (!id || !ts || signatures.length === 0) return "invalid_signature";
      const expected = toBase64(await hmac("SHA-256", key ?? encoder.encode(secret), `${id}.${ts}.`, req.body));
      if (!(await anyEqual(expected, signatures))) return "invalid_signature";
      return fresh(ts, now) ? "ok" : "stale_timestamp";
    }
    case "twilio":
      return (await verifyTwilio(secret, req)) ? "ok" : "invalid_signature";
    case "basic": {
      const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h("authorization") ?? "");
      let given = "";
      try {
        // The credentials are UTF-8 bytes in base64 (RFC 7617), so a non-ASCII password compares as text.
        given = match ? new TextDecoder().decode(Uint8Array.from(atob(match[1]!), (c) => c.charCodeAt(0))) : "";
      } catch {
        given = "";
      }
      return (await safeEqual(`${v.username ?? ""}:${secrets.password ?? ""}`, given)) ? "ok" : "invalid_signature";
    }
    case "api-key":
      return (await safeEqual(secret, h(v.header ?? "") ?? "")) ? "ok" : "invalid_signature";
  }
}

/**
 * Twilio signs the URL it called (tried with and without the default port,
 * as Twilio's own library does), then, for a form body, each parameter's
 * name and value sorted by name; any other body is covered instead by the
 * `bodySHA256` query parameter (the body's SHA-256, hex) inside the signed
 * URL, and without one it is refused: a signature over the URL alone says
 * nothing about the body. HMAC-SHA1 with the auth token, or SHA-256 where
 * the request says so.
 */
async function verifyTwilio(authToken: string, req: SignedRequest): Promise<boolean> {
  const given = req.headers.get("x-twilio-signature") ?? "";
  const settings = req.headers.get("x-twilio-webhooks-signature-settings") ?? "";
  const hash: Hash = /(^|,)\s*algorithm\s*=\s*HMAC_SHA256\s*(,|$)/.test(settings) ? "SHA-256" : "SHA-1";
  const url = new URL(req.url);
  let params = "";
  const bodyHash = url.searchParams.get("bodySHA256");
  if (bodyHash !== null) {
    const digest = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", req.body)));
    if (!(await safeEqual(digest, bodyHash.toLowerCase()))) return false;
  } else if (!req.form) {
    return false;
  } else {
    const byName = new Map<string, Set<string>>();
    for (const [k, val] of req.form) byName.set(k, (byName.get(k) ?? new Set()).add(val));
    params = [...byName.keys()]
      .sort()
      .map((k) =>
        [...byName.get(k)!]
          .sort()
          .map((val) => k + val)
          .join(""),
      )
      .join("");
  }
  const withoutPort = `${url.protocol}//${url.hostname}${url.pathname}${url.search}`;
  const withPort = `${url.protocol}//${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}${url.pathname}${url.search}`;
  const candidates = await Promise.all([withoutPort, withPort].map(async (u) => toBase64(await hmac(hash, authToken, u + params))));
  return anyEqual(given, candidates);
}
