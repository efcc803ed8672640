import { exports } from "cloudflare:workers";
import { TEST_SECRETS } from "../test-secrets";

export const ADMIN_TOKEN = TEST_SECRETS.ADMIN_TOKEN;
export const BASE = "http://hookgate.test";

export type CallOptions = {
  /** Sent as `Authorization: Bearer`, unless `apiKeyHeader` is set. */
  key?: string;
  apiKeyHeader?: boolean;
  admin?: boolean;
  body?: unknown;
  rawBody?: BodyInit;
  headers?: Record<string, string>;
  ip?: string;
};

export type Result<T = any> = { status: number; headers: Headers; body: T; text: string };

/** One request to the Worker under test, as a customer would send it. */
export async function call<T = any>(method: string, path: string, opts: CallOptions = {}): Promise<Result<T>> {
  const headers = new Headers(opts.headers);
  if (opts.admin) headers.set("authorization", `Bearer ${ADMIN_TOKEN}`);
  if (opts.key !== undefined) {
    if (opts.apiKeyHeader) headers.set("x-api-key", opts.key);
    else headers.set("authorization", `Bearer ${opts.key}`);
  }
  if (opts.ip) headers.set("cf-connecting-ip", opts.ip);
  let body: BodyInit | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const res = await exports.default.fetch(new Request(`${BASE}${path}`, { method, headers, body }));
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

let counter = 0;
/** A unique name per call: tests in one file share storage. */
export const unique = (prefix = "t") => `${prefix}-${Date.now().toString(36)}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

/** Creates a tenant through the operator API; returns it and its all-scopes key. */
export async function newTenant(extra: Record<string, unknown> = {}) {
  const res = await call("POST", "/admin/tenants", { admin: true, body: { name: unique("tenant"), ...extra } });
  if (res.status !== 201) throw new Error(`tenant create failed: ${res.status} ${res.text}`);
  return { tenant: res.body.tenant, key: res.body.key.key as string, keyId: res.body.key.id as string };
}

/** Creates a key with `scopes` using `withKey`; returns the secret and id. */
export async function newKey(withKey: string, body: Record<string, unknown>) {
  const res = await call("POST", "/v1/keys", { key: withKey, body: { name: unique("key"), ...body } });
  if (res.status !== 201) throw new Error(`key create failed: ${res.status} ${res.text}`);
  return { key: res.body.key as string, id: res.body.id as string, body: res.body };
}

/** Asserts the shape every problem response shares. */
export function expectProblem(res: Result, status: number, code: string) {
  if (res.status !== status || res.body?.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${res.status}: ${res.text}`);
  }
  if (!res.headers.get("content-type")?.startsWith("application/problem+json")) {
    throw new Error(`problem without problem+json content type: ${res.headers.get("content-type")}`);
  }
  for (const field of ["type", "title", "status", "detail", "code", "requestId"]) {
    if (!(field in res.body)) throw new Error(`problem lacks ${field}: ${res.text}`);
  }
  if (res.body.requestId !== res.headers.get("x-request-id")) throw new Error("problem requestId differs from header");
}
