import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { countDataRows } from "./data-plane";
import { BASE, call, newRoomyTenant, type Result, sleep } from "./helpers";

/**
 * Kit for the incoming-webhook (sources) tests: a tenant with a catalog, a
 * source created over the API, requests sent to its URL as a third party
 * sends them, and the signing recipes the senders document, made with
 * WebCrypto so they run inside workerd.
 */

export const SRC = /^src_[0-9A-Za-z]{20}$/;
export const REQ = /^req_[0-9A-Za-z]+$/;
export const EVT = /^evt_[0-9A-Za-z]+$/;
export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export type TypeSpec = string | { name: string; schema: Record<string, unknown> };

export async function createType(key: string, spec: TypeSpec) {
  const body = typeof spec === "string" ? { name: spec } : spec;
  const res = await call("POST", "/v1/event-types", { key, body });
  if (res.status !== 201) throw new Error(`event type create failed: ${res.status} ${res.text}`);
}

/** A tenant with roomy API rate limits, room for sources and webhooks, and `types` in its catalog. */
export async function sourceTenant(types: TypeSpec[] = ["order.created"], extra: Record<string, unknown> = {}) {
  const { key, tenant, keyId } = await newRoomyTenant({ quotas: { sources: 20, webhooks: 10 }, ...extra });
  for (const t of types) await createType(key, t);
  return { key, tenantId: tenant.id as string, keyId };
}

export type Source = { id: string; token: string; url: string; path: string; body: any };

/** POST /v1/sources; `path` is the URL's path, to send requests to. */
export async function newSource(key: string, body: Record<string, unknown>): Promise<Source> {
  const res = await call("POST", "/v1/sources", { key, body: { name: `src-${crypto.randomUUID().slice(0, 8)}`, ...body } });
  if (res.status !== 201) throw new Error(`source create failed: ${res.status} ${res.text}`);
  return { id: res.body.id, token: res.body.token, url: res.body.url, path: new URL(res.body.url).pathname, body: res.body };
}

export type Send = { method?: string; headers?: Record<string, string>; contentType?: string | null; query?: string };

/**
 * A request to a source URL, with no API credential: a string body is sent
 * byte for byte. It waits 2 ms after the answer, so each request of a test
 * is logged at a later millisecond than the one before (the log is newest first).
 */
export async function send(path: string, body: string | Uint8Array | ReadableStream | null, opts: Send = {}): Promise<Result> {
  const headers: Record<string, string> = { ...opts.headers };
  const contentType = opts.contentType === undefined ? "application/json" : opts.contentType;
  if (contentType !== null) headers["content-type"] = contentType;
  const res = await call(opts.method ?? "POST", `${path}${opts.query ?? ""}`, { rawBody: body ?? undefined, headers });
  await sleep(2);
  return res;
}

/** The exact URL the Worker sees for a source path (what Twilio signs). */
export const workerUrl = (path: string) => `${BASE}${path}`;

/** 202 {eventId} and nothing else; returns the id. */
export function expectAccepted(res: Result): string {
  expect(res.status, res.text).toBe(202);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(Object.keys(res.body)).toEqual(["eventId"]);
  expect(res.body.eventId).toMatch(EVT);
  return res.body.eventId;
}

/** GET /v1/events/:id (200 expected). */
export async function getEvent(key: string, id: string) {
  const res = await call("GET", `/v1/events/${id}`, { key });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** The source's request log, newest first (one page). */
export async function requestLog(key: string, sourceId: string, query = ""): Promise<any[]> {
  const res = await call("GET", `/v1/sources/${sourceId}/requests${query}`, { key });
  expect(res.status, res.text).toBe(200);
  return res.body.data;
}

/** The newest log entry of a source. */
export async function lastRequest(key: string, sourceId: string) {
  const [entry] = await requestLog(key, sourceId, "?limit=1");
  expect(entry, "a logged request").toBeDefined();
  return entry;
}

/** Subscribes a webhook to `eventTypes`; returns its id. */
export async function subscribe(key: string, eventTypes: string[]): Promise<string> {
  const res = await call("POST", "/v1/webhooks", { key, body: { url: "https://hooks.example.com/in", eventTypes } });
  if (res.status !== 201) throw new Error(`webhook create failed: ${res.status} ${res.text}`);
  return res.body.id;
}

/** Rows of a D1 table counted with `where` (the storage as it is). */
export async function countRows(table: string, where: string, ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`)
    .bind(...params)
    .first<{ n: number }>();
  return row!.n;
}

/** A tenant's stored events (its data shards, as they are). */
export const countEvents = (tenantId: string) => countDataRows(tenantId, "events");

/** A source's request-log entries (in its tenant's data shards). */
export async function countLoggedRequests(sourceId: string): Promise<number> {
  const source = await env.DB.prepare("SELECT tenant_id FROM sources WHERE id = ?").bind(sourceId).first<{ tenant_id: string }>();
  return source ? countDataRows(source.tenant_id, "source_requests", "source_id = ?", sourceId) : 0;
}

// ---- Senders' signing recipes (WebCrypto) ----

const enc = new TextEncoder();
type Hash = "SHA-1" | "SHA-256" | "SHA-512";

export async function hmac(hash: Hash, key: string | Uint8Array, message: string): Promise<Uint8Array> {
  const raw = typeof key === "string" ? enc.encode(key) : key;
  const k = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, enc.encode(message)));
}
export const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
export const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Shopify: X-Shopify-Hmac-Sha256 is the base64 HMAC-SHA256 of the raw body. */
export async function shopifyHeaders(secret: string, body: string) {
  return { "x-shopify-hmac-sha256": b64(await hmac("SHA-256", secret, body)) };
}

/** Slack: X-Slack-Signature v0=<hex> over `v0:<timestamp>:<body>`. */
export async function slackHeaders(secret: string, body: string, timestamp = nowSeconds()) {
  return {
    "x-slack-request-timestamp": String(timestamp),
    "x-slack-signature": `v0=${hex(await hmac("SHA-256", secret, `v0:${timestamp}:${body}`))}`,
  };
}

/**
 * Twilio: base64 HMAC-SHA1 of the URL followed by each form parameter's name
 * and value, sorted by name (for a JSON body, the URL alone, with bodySHA256
 * in its query).
 */
export async function twilioSignature(authToken: string, url: string, params: Record<string, string> = {}) {
  const data =
    url +
    Object.keys(params)
      .sort()
      .map((k) => k + params[k])
      .join("");
  return b64(await hmac("SHA-1", authToken, data));
}
