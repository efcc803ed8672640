import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { dataSnapshot } from "./data-plane";
import { type CallOptions, call, type Result } from "./helpers";

/**
 * One security suite over every route of the OpenAPI document (the way
 * Unkey runs one over every route): the operations are read from
 * GET /openapi.json, so a route added later is covered without a change here.
 */

export type Operation = {
  method: string;
  /** As documented: /v1/keys/{id}. */
  template: string;
  admin: boolean;
  /** Documents a JSON request body. */
  json: boolean;
  bodySchema: JsonSchema | null;
  label: string;
};

type JsonSchema = { type?: string | string[]; properties?: Record<string, JsonSchema>; $ref?: string; [k: string]: unknown };

/** Not JSON APIs: the token endpoint answers in RFC 6749's terms, and incoming webhooks take the sender's bodies. */
const NOT_JSON_API = [/^\/oauth\//, /^\/in\//];

export async function operations(): Promise<Operation[]> {
  const doc = (await call("GET", "/openapi.json")).body as {
    paths: Record<
      string,
      Record<string, { security?: Record<string, unknown>[]; requestBody?: { content: Record<string, { schema: JsonSchema }> } }>
    >;
    components: { schemas: Record<string, JsonSchema> };
  };
  const resolve = (s: JsonSchema | undefined): JsonSchema | null => {
    if (!s) return null;
    if (s.$ref) return resolve(doc.components.schemas[s.$ref.split("/").pop()!]);
    return s;
  };
  const out: Operation[] = [];
  for (const [template, ops] of Object.entries(doc.paths)) {
    if (NOT_JSON_API.some((re) => re.test(template))) continue;
    for (const [method, op] of Object.entries(ops)) {
      // Public (`security: []`): the credential is in the body, e.g. a portal link's token (dashboard tests cover it).
      if (op.security?.length === 0) continue;
      const json = op.requestBody?.content["application/json"];
      out.push({
        method: method.toUpperCase(),
        template,
        admin: (op.security ?? []).some((s) => "adminToken" in s),
        json: json !== undefined,
        bodySchema: resolve(json?.schema),
        label: `${method.toUpperCase()} ${template}`,
      });
    }
  }
  expect(out.length).toBeGreaterThan(40);
  return out;
}

const base62 = (n: number) =>
  Array.from({ length: n }, (_, i) => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[(i * 7 + 3) % 62]).join("");

/** Well-formed ids nobody holds, by the prefix each path's resource uses. */
export const MADE_UP_IDS: Record<string, string> = {
  tenants: `ten_${base62(20)}`,
  keys: `key_${base62(20)}`,
  "oauth-clients": `cli_${base62(20)}`,
  webhooks: `wh_${base62(20)}`,
  events: `evt_${base62(20)}`,
  deliveries: `dlv_${base62(20)}`,
  sources: `src_${base62(20)}`,
  "event-types": "nobody.holds_this",
  requests: `req_${base62(20)}`,
  replays: `rpl_${base62(20)}`,
};

/** The path with each {param} filled from `ids`, by the collection it follows (`/v1/keys/{id}` → ids.keys). */
export function fill(template: string, ids: Record<string, string>): string {
  const parts = template.split("/");
  return parts
    .map((part, i) => {
      if (!part.startsWith("{")) return part;
      const collection = parts[i - 1]!;
      const id = ids[collection];
      if (!id) throw new Error(`no id for ${collection} in ${template}`);
      return encodeURIComponent(id);
    })
    .join("/");
}

export const hasBody = (op: Operation) => op.method !== "GET" && op.method !== "HEAD" && op.method !== "DELETE";

/** JSON nested 80 levels deep (the limit is 64). */
export const DEEP_JSON = `{"name":"deep","data":${"[".repeat(80)}${"]".repeat(80)}}`;

/** Every documented property given a value of the wrong type. */
export function wrongTypes(schema: JsonSchema | null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(schema?.properties ?? {})) {
    const types = [prop.type ?? []].flat();
    if (types.length === 0) out[name] = { wrong: ["type"] };
    else if (types.includes("string")) out[name] = 12345;
    else out[name] = "not-the-right-type";
  }
  return Object.keys(out).length > 0 ? out : { body: 12345 };
}

/** Every documented property a huge string, the whole body still under the 256 KiB limit. */
export function hugeStrings(schema: JsonSchema | null): Record<string, unknown> {
  const names = Object.keys(schema?.properties ?? {});
  const each = Math.floor((200 * 1024) / Math.max(1, names.length));
  const huge = "x".repeat(each);
  return names.length > 0 ? Object.fromEntries(names.map((n) => [n, huge])) : { body: huge };
}

/** Fields no schema declares, `__proto__` among them (as JSON text: an object literal would set the prototype). */
export const UNKNOWN_FIELDS = '{"zzUnknownField":true,"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}';

/** The tables a request could write to. */
const TABLES = [
  "tenants",
  "api_keys",
  "oauth_clients",
  "event_types",
  "webhooks",
  "audit_log",
  "product_scopes",
  "gateway_config",
  "sources",
];

/** Every table's rows (D1's, and the data plane's objects), as one comparable text: counts alone would miss an update. */
export async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of TABLES) {
    const rows = await env.DB.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all();
    // A credential's last use is bookkeeping its gate writes on its own schedule (at once after a quiet
    // minute), not something a request stores: an admitted request that is then refused may move it.
    out[t] = JSON.stringify(rows.results.map(({ last_used_at: _used, ...row }) => row));
  }
  for (const [name, rows] of Object.entries(await dataSnapshot())) out[`data:${name}`] = rows;
  return out;
}

/** A 4xx RFC 9457 problem: content type, every member, the request id echoed; never a 5xx. */
export function expectClientProblem(res: Result, label: string, status?: number, code?: string) {
  const where = `${label} → ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, where).toBeGreaterThanOrEqual(400);
  expect(res.status, where).toBeLessThan(500);
  if (status !== undefined) expect(res.status, where).toBe(status);
  expect(res.headers.get("content-type"), where).toMatch(/^application\/problem\+json/);
  for (const field of ["type", "title", "status", "detail", "code", "requestId"]) expect(res.body, where).toHaveProperty(field);
  expect(res.body.status, where).toBe(res.status);
  expect(res.body.requestId, where).toBe(res.headers.get("x-request-id"));
  if (code !== undefined) expect(res.body.code, where).toBe(code);
}

/** The request `op` makes with `body` (raw JSON text, or a value to serialise). */
export function send(op: Operation, path: string, opts: CallOptions & { json?: string | Record<string, unknown> } = {}) {
  const { json, ...rest } = opts;
  if (!hasBody(op) || json === undefined) return call(op.method, path, rest);
  const rawBody = typeof json === "string" ? json : JSON.stringify(json);
  return call(op.method, path, { ...rest, rawBody, headers: { "content-type": "application/json", ...rest.headers } });
}
