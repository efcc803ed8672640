import { exports } from "cloudflare:workers";
import { vi } from "vitest";
import { TEST_SECRETS } from "../test-secrets";
import { call, type Result } from "./helpers";

/** The operator's API in these tests; outbound fetch to it is faked. */
export const ORIGIN = "https://origin.example.com";

export type OriginCall = { url: string; method: string; headers: Headers; body: Uint8Array | null };

/**
 * Fakes the origin: every outbound fetch is recorded (its body read in
 * full, as a streaming origin would) and answered by `answer`.
 */
export function stubOrigin(answer: (req: OriginCall) => Response | Promise<Response> = () => new Response("from origin", { status: 200 })) {
  const calls: OriginCall[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const body = init?.body ? new Uint8Array(await new Response(init.body).arrayBuffer()) : null;
    const recorded: OriginCall = { url, method: init?.method ?? "GET", headers: new Headers(init?.headers), body };
    calls.push(recorded);
    return answer(recorded);
  });
  return { calls, spy };
}

export async function putScopes(scopes: { name: string; description?: string }[]): Promise<Result> {
  return call("PUT", "/admin/scopes", { admin: true, body: { scopes } });
}

export async function putGateway(body: Record<string, unknown>): Promise<Result> {
  const res = await call("PUT", "/admin/gateway", { admin: true, body: { origin: ORIGIN, ...body } });
  return res;
}

/** A request to any URL (another host than the tests' default), as a customer would send it. */
export async function callUrl(
  method: string,
  url: string,
  opts: { key?: string; headers?: Record<string, string>; body?: BodyInit; ip?: string } = {},
) {
  const headers = new Headers(opts.headers);
  if (opts.key) headers.set("authorization", `Bearer ${opts.key}`);
  if (opts.ip) headers.set("cf-connecting-ip", opts.ip);
  const res = await exports.default.fetch(new Request(url, { method, headers, body: opts.body, redirect: "manual" }));
  const text = await res.text();
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, body, text };
}

async function hmacHex(message: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(TEST_SECRETS.GATEWAY_SECRET),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The v1 signature: HMAC-SHA256(GATEWAY_SECRET, t.METHOD.target.tenant.credential.request). */
export async function expectedSignature(
  t: string,
  method: string,
  target: string,
  tenantId: string,
  credentialId: string,
  requestId: string,
) {
  return hmacHex(`${t}.${method}.${target}.${tenantId}.${credentialId}.${requestId}`);
}

/** The v2 signature the origin checks: HMAC-SHA256(GATEWAY_SECRET) over the lines v2, t, METHOD, target, tenant, credential, request, scopes, mode. */
export async function expectedSignatureV2(f: {
  t: string;
  method: string;
  target: string;
  tenantId: string;
  credentialId: string;
  requestId: string;
  scopes: string;
  mode: string;
}) {
  return hmacHex(["v2", f.t, f.method, f.target, f.tenantId, f.credentialId, f.requestId, f.scopes, f.mode].join("\n"));
}

/** `t=<unix>,v1=<hex>,v2=<hex>` taken apart; throws on any other shape. */
export function parseSignature(header: string | null): { t: string; v1: string; v2: string } {
  const [, t, v1, v2] = /^t=(\d+),v1=([0-9a-f]{64}),v2=([0-9a-f]{64})$/.exec(header ?? "") ?? [];
  if (!t || !v1 || !v2) throw new Error(`not a gateway signature: ${header}`);
  return { t, v1, v2 };
}
