import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import type { QueueBody, QueueMessage } from "../../src/data/outbox";
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
  let parsed: unknown;
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
  const ns = env.CREDENTIAL_GATE;
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
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}
// One patched env object per override set: the Worker caches its parsed config per env object.
const envOverrides = new Map<string, object>();

// ---- Delivery engine kit (delivery*, breaker, deliveries-api, webhook-actions tests) ----

/** Roomy limits for delivery tests, which publish and retry a lot. */
export const DELIVERY_RATE_LIMITS = { read: { limit: 10000, windowSeconds: 60 }, write: { limit: 10000, windowSeconds: 60 } };

/**
 * A tenant with event types and one webhook subscription, for delivery tests.
 * Returns the tenant's key, ids and the webhook's secret (shown once at creation).
 */
export async function deliverySetup(opts: { tenant?: Record<string, unknown>; webhook?: Record<string, unknown>; types?: string[] } = {}) {
  const { key, tenant } = await newTenant({ rateLimits: DELIVERY_RATE_LIMITS, ...opts.tenant });
  const types = opts.types ?? ["invoice.paid"];
  for (const name of types) {
    const r = await call("POST", "/v1/event-types", { key, body: { name } });
    if (r.status !== 201) throw new Error(`event type create failed: ${r.status} ${r.text}`);
  }
  const wh = await call("POST", "/v1/webhooks", {
    key,
    body: { url: "https://hooks.example.com/x", eventTypes: types, ...opts.webhook },
  });
  if (wh.status !== 201) throw new Error(`webhook create failed: ${wh.status} ${wh.text}`);
  return { key, tenantId: tenant.id as string, webhookId: wh.body.id as string, secret: wh.body.secret as string, webhook: wh.body, types };
}

/**
 * Spies on the delivery queue's producer so nothing is really enqueued (the
 * real consumer would race the test); `sent()` lists every message body sent.
 */
export async function stubDeliveryQueue() {
  const { env } = await import("cloudflare:workers");
  const { vi } = await import("vitest");
  const { noteDeliveryTenant } = await import("./data-plane");
  const bodies: { body: QueueMessage; delaySeconds?: number }[] = [];
  const sendBatch = vi.spyOn(env.DELIVERY_QUEUE as Queue<QueueMessage>, "sendBatch").mockImplementation(async (messages) => {
    for (const m of messages) {
      noteDeliveryTenant(m.body.deliveryId, m.body.tenantId);
      bodies.push({ body: m.body, ...(m.delaySeconds !== undefined && { delaySeconds: m.delaySeconds }) });
    }
    return undefined as never;
  });
  const send = vi.spyOn(env.DELIVERY_QUEUE as Queue<QueueMessage>, "send").mockImplementation(async (body, opts) => {
    noteDeliveryTenant(body.deliveryId, body.tenantId);
    bodies.push({ body, ...(opts?.delaySeconds !== undefined && { delaySeconds: opts.delaySeconds }) });
    return undefined as never;
  });
  return { sendBatch, send, sent: () => bodies.map((b) => b.body), messages: bodies };
}

export type FakeCall = { url: string; init: RequestInit; body: string; headers: Headers };

/**
 * Fakes every outbound fetch with `answer` (a Response, a factory, or a thrown
 * error); `calls` records each request's url, init, body text and headers.
 */
type FakeAnswer = Response | ((call: FakeCall, n: number) => Response | Promise<Response>);
type FakeReply = (call: FakeCall, n: number) => Response | Promise<Response>;

/**
 * A fixed Response is snapshotted here and rebuilt for every call, inside the
 * context that fetches (a Response made in the test's context cannot be read
 * from a request handler's).
 */
async function toReply(answer: FakeAnswer): Promise<FakeReply> {
  if (typeof answer === "function") return answer;
  const body = answer.body ? await answer.arrayBuffer() : null;
  const init = { status: answer.status, headers: [...answer.headers] };
  return () => new Response(body === null ? null : body.slice(0), init);
}

export async function stubEndpoint(answer: FakeAnswer) {
  const { vi } = await import("vitest");
  const calls: FakeCall[] = [];
  let current = await toReply(answer);
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init = {}) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const call: FakeCall = {
      url,
      init,
      body: typeof init.body === "string" ? init.body : String(init.body),
      headers: new Headers(init.headers),
    };
    calls.push(call);
    return current(call, calls.length);
  });
  /** Changes what the endpoint answers from now on (calls keep being recorded). */
  const answerWith = async (next: FakeAnswer) => {
    current = await toReply(next);
  };
  return { spy, calls, answerWith };
}

/** Publishes an event (queue stubbed by the caller) and returns its id and delivery ids. */
export async function publishEvent(key: string, type: string, data: unknown = { amount: 4200 }) {
  const r = await call("POST", "/v1/events", { key, body: { type, data } });
  if (r.status !== 202) throw new Error(`publish failed: ${r.status} ${r.text}`);
  return { eventId: r.body.id as string, deliveryIds: (r.body.deliveries as { id: string }[]).map((d) => d.id), body: r.body };
}

let deliveryMessageCounter = 0;

/**
 * Runs the Worker's queue handler on one batch, as the Queues runtime would,
 * and returns what it acked and retried (with delays).
 */
export async function runDeliveryConsumer(
  bodies: ({ deliveryId: string; tenantId?: string; manual?: boolean } | string)[],
  queue = "hookgate-deliveries",
  /** `due` (default): the deliveries' retry time has come, as when the queue redelivers a delayed message. */
  opts: { due?: boolean } = {},
) {
  const { env } = await import("cloudflare:workers");
  const { findTenantOfDelivery, noteDeliveryTenant, shardSql } = await import("./data-plane");
  const full = await Promise.all(
    bodies.map(async (b) => {
      const body = typeof b === "string" ? { deliveryId: b } : b;
      // A delivery no shard holds (unknown, or not one of our ids) still gets a message: the consumer must ack it.
      const tenantId = body.tenantId ?? (await findTenantOfDelivery(body.deliveryId)) ?? "ten_unknown";
      noteDeliveryTenant(body.deliveryId, tenantId);
      return { ...body, tenantId };
    }),
  );
  if (opts.due !== false) {
    // Time passes until the deliveries are due, as it would before the queue redelivers them.
    for (const b of full.filter((m) => m.tenantId !== "ten_unknown")) {
      await shardSql(
        b.tenantId,
        b.deliveryId,
        "UPDATE deliveries SET next_attempt_at = ? WHERE id = ? AND status = 'pending' AND next_attempt_at > ?",
        Date.now(),
        b.deliveryId,
        Date.now(),
      );
    }
  }
  const { createExecutionContext, createMessageBatch, getQueueResult } = await import("cloudflare:test");
  const worker = (await import("../../src/index")).default;
  const messages = full.map((body) => ({
    id: `msg-${++deliveryMessageCounter}`,
    timestamp: new Date(),
    attempts: 1,
    body,
  }));
  const batch = createMessageBatch<QueueBody>(queue, messages);
  // getQueueResult does not report delays: record each retry's options on the way through.
  const delays = new Map<string, number | undefined>();
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    Object.defineProperty(message, "retry", {
      value: (options?: QueueRetryOptions) => {
        delays.set(message.id, options?.delaySeconds);
        return retry(options);
      },
    });
  }
  const ctx = createExecutionContext();
  await (worker.queue as ExportedHandlerQueueHandler<typeof env, QueueBody>)(batch, env, ctx);
  const result = await getQueueResult(batch, ctx);
  return {
    ...result,
    retryMessages: result.retryMessages.map((m) => ({ ...m, delaySeconds: delays.get(m.msgId) })),
    ids: messages.map((m) => m.id),
  };
}

/** One delivery through the API (with its attempt log). */
export async function getDelivery(key: string, id: string) {
  const r = await call("GET", `/v1/deliveries/${id}`, { key });
  if (r.status !== 200) throw new Error(`get delivery failed: ${r.status} ${r.text}`);
  return r.body;
}

// ---- OAuth kit (oauth-clients, oauth-token tests) ----

export type Client = { id: string; clientId: string; clientSecret: string; body: any };

export async function newClient(key: string, body: Record<string, unknown> = {}): Promise<Client> {
  const res = await call("POST", "/v1/oauth-clients", {
    key,
    body: { name: unique("client"), scopes: ["keys:read", "keys:write"], ...body },
  });
  if (res.status !== 201) throw new Error(`client create failed: ${res.status} ${res.text}`);
  return { id: res.body.id, clientId: res.body.clientId, clientSecret: res.body.clientSecret, body: res.body };
}

export const basic = (id: string, secret: string) => `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;

export type TokenOptions = { basic?: { id: string; secret: string }; headers?: Record<string, string>; ip?: string };

/** POST /oauth/token with a form body (a string is sent as is). */
export function tokenRequest(form: Record<string, string> | string, opts: TokenOptions = {}): Promise<Result> {
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", ...opts.headers };
  if (opts.basic) headers.authorization = basic(opts.basic.id, opts.basic.secret);
  const rawBody = typeof form === "string" ? form : new URLSearchParams(form).toString();
  return call("POST", "/oauth/token", { rawBody, headers, ip: opts.ip });
}

export async function tokenFor(client: Client, scope?: string): Promise<string> {
  const res = await tokenRequest(
    { grant_type: "client_credentials", ...(scope !== undefined && { scope }) },
    { basic: { id: client.clientId, secret: client.clientSecret } },
  );
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${res.text}`);
  return res.body.access_token;
}

/** An RFC 6749 §5.2 error response. */
export function expectOAuthError(res: Result, status: number, error: string) {
  if (res.status !== status || res.body?.error !== error) {
    throw new Error(`expected ${status} ${error}, got ${res.status}: ${res.text}`);
  }
  expect(typeof res.body.error_description).toBe("string");
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  if (status === 401) expect(res.headers.get("www-authenticate")).toMatch(/^Basic /);
}

// ---- Operator kit (operator-* tests) ----

/**
 * A catalog name no other test of the file uses: the operator's types are in
 * every tenant's catalog, so names must not repeat across the tests of a file.
 */
export const uniqueTypeName = (prefix = "op") =>
  `${prefix}_${Date.now().toString(36)}${++counter}${Math.random().toString(36).slice(2, 6)}.done`;

/** Adds a type to the operator's catalog; returns its body. */
export async function newOperatorType(body: Record<string, unknown> = {}) {
  const res = await call("POST", "/admin/event-types", { admin: true, body: { name: uniqueTypeName(), ...body } });
  if (res.status !== 201) throw new Error(`operator type create failed: ${res.status} ${res.text}`);
  return res.body as { name: string; owner: string } & Record<string, unknown>;
}

/** Subscribes an operator endpoint; returns its id, secret and body. */
export async function newOperatorEndpoint(body: Record<string, unknown>) {
  const res = await call("POST", "/admin/webhooks", { admin: true, body: { url: "https://ops.example.com/hook", ...body } });
  if (res.status !== 201) throw new Error(`operator endpoint create failed: ${res.status} ${res.text}`);
  return { id: res.body.id as string, secret: res.body.secret as string, body: res.body };
}

/** The operator's audit log entries (newest first) with `action`, via the API. */
export async function operatorAudit(action: string): Promise<any[]> {
  const res = await call("GET", `/admin/audit-log?limit=100&action=${action}`, { admin: true });
  if (res.status !== 200) throw new Error(`operator audit failed: ${res.status} ${res.text}`);
  return res.body.data;
}
