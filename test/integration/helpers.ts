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

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Retries `check` until it returns a value other than undefined, or fails after `tries`. */
export async function eventually<T>(check: () => Promise<T | undefined>, tries = 20, everyMs = 100): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await sleep(everyMs);
  }
  throw new Error(`condition not met after ${tries} tries`);
}

/** Follows `nextCursor` through every page of a list endpoint. */
export async function allPages<T = any>(path: string, opts: CallOptions = {}, limit = 100): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const res: Result = await call("GET", `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, opts);
    if (res.status !== 200) throw new Error(`list ${path} failed: ${res.status} ${res.text}`);
    items.push(...(res.body.data as T[]));
    cursor = res.body.nextCursor;
    pages++;
    if (pages > 1000) throw new Error("pagination does not end");
  } while (cursor);
  return { items, pages };
}

/** SHA-256 hex of a string, as the API stores key hashes. */
export async function sha256Hex(input: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(input));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The error entry for `path` in a 422 problem, or a thrown error naming what was there. */
export function fieldError(res: Result, path: string): { path: string; message: string; allowed?: string[] } {
  const errors = (res.body?.errors ?? []) as { path: string; message: string; allowed?: string[] }[];
  const found = errors.find((e) => e.path === path);
  if (!found) throw new Error(`no error for ${JSON.stringify(path)} in ${res.text}`);
  return found;
}

/**
 * Runs the alarm of credential `id`'s Durable Object now, if one is scheduled:
 * usage and lastUsedAt reach D1 from that alarm (at most once a minute).
 */
export async function flushCredentialUsage(id: string): Promise<boolean> {
  const { env } = await import("cloudflare:workers");
  const { runDurableObjectAlarm } = await import("cloudflare:test");
  const ns = env.CREDENTIAL_LIMITER;
  if (!ns) return false;
  return runDurableObjectAlarm(ns.get(ns.idFromName(id)));
}

/** Rate limits high enough that a test making many writes never meets a 429. */
export const ROOMY_RATE_LIMITS = { write: { limit: 1000, windowSeconds: 60 }, read: { limit: 1000, windowSeconds: 60 } };

/** A tenant whose key can make many requests a minute (see ROOMY_RATE_LIMITS). */
export async function newRoomyTenant(extra: Record<string, unknown> = {}) {
  return newTenant({ rateLimits: ROOMY_RATE_LIMITS, ...extra });
}

/**
 * Like `call`, but runs the Worker's fetch handler in-process with `overrides`
 * layered over the test bindings (e.g. `{ALLOW_INSECURE_URLS: "false"}`), so a
 * test does not depend on what a developer's `.dev.vars` sets.
 */
export async function callWithEnv<T = any>(
  overrides: Record<string, string>,
  method: string,
  path: string,
  opts: CallOptions = {},
): Promise<Result<T>> {
  const { env } = await import("cloudflare:workers");
  const { createExecutionContext, waitOnExecutionContext } = await import("cloudflare:test");
  const worker = (await import("../../src/index")).default;
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
  const key = JSON.stringify(overrides);
  let patched = envOverrides.get(key);
  if (!patched) {
    patched = { ...env, ...overrides };
    envOverrides.set(key, patched);
  }
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`${BASE}${path}`, { method, headers, body }), patched as typeof env, ctx);
  await waitOnExecutionContext(ctx);
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}
// One patched env object per override set: the Worker caches its parsed config per env object.
const envOverrides = new Map<string, object>();
