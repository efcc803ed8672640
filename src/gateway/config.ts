import { ALL_SCOPES } from "../common/scopes";
import { type AuditActor, auditStatement } from "../db/audit";
import { createDb, runBatch } from "../db/client";
import { getGatewayConfig, putGatewayConfig } from "../db/gateway";
import type { GatewayRoute } from "../db/schema";
import { checkWebhookUrl } from "../delivery/http/url-guard";
import { type FieldError, ValidationError } from "../lib/errors";
import { type Background, RefreshAheadCache } from "../lib/refresh-ahead";
import { productScopeNames } from "../operator/scopes";
import { normalizeHost } from "./routes";

export type GatewayConfig = { origin: string; hosts: string[]; routes: GatewayRoute[]; updatedAt: Date };

/**
 * Every request needs the gateway's hosts and routes (to tell a gateway
 * request from one of Hookgate's own), so each isolate keeps the
 * configuration for at most GATEWAY_TTL_MS: one D1 read a second per
 * isolate, none per request, and with `background` (every request) read
 * again ahead of time, so no request waits for it under steady traffic. The
 * isolate that changes it drops its copy at once.
 */
export const GATEWAY_TTL_MS = 1_000;
const cache = new RefreshAheadCache<GatewayConfig | null>(GATEWAY_TTL_MS / 2, GATEWAY_TTL_MS, 1);

export async function gatewayConfig(d1: D1Database, background?: Background): Promise<GatewayConfig | null> {
  return cache.load(
    "config",
    async () => {
      const row = await getGatewayConfig(createDb(d1));
      return row ? { origin: row.origin, hosts: row.hosts.map(normalizeHost), routes: row.routes, updatedAt: row.updatedAt } : null;
    },
    background,
  );
}

export type GatewayInput = {
  origin: string;
  hosts?: string[];
  routes: { method?: string; path: string; scope?: string | null; cost?: number }[];
};

/**
 * Replaces the gateway's configuration. `origin` follows the webhook URL
 * rules (https, no credentials, no internal hosts; http and loopback too
 * where ALLOW_INSECURE_URLS is set) and may carry a base path; every route's
 * scope must be one a credential can hold.
 */
export async function setGatewayConfig(
  env: { DB: D1Database },
  allowInsecure: boolean,
  who: AuditActor,
  input: GatewayInput,
): Promise<GatewayConfig> {
  const errors: FieldError[] = [];
  const checked = checkWebhookUrl(input.origin, { allowInsecure });
  let origin = input.origin;
  if (!checked.ok) errors.push({ path: "origin", message: checked.reason });
  else if (checked.url.search || checked.url.hash) errors.push({ path: "origin", message: "must not have a query or fragment" });
  else origin = `${checked.url.origin}${checked.url.pathname.replace(/\/+$/, "")}`;

  const known = new Set<string>([...ALL_SCOPES, ...(await productScopeNames(env.DB))]);
  const routes: GatewayRoute[] = input.routes.map((r) => ({
    method: r.method ?? "*",
    path: r.path,
    scope: r.scope ?? null,
    cost: r.cost ?? 1,
  }));
  routes.forEach((r, i) => {
    if (r.scope !== null && !known.has(r.scope)) {
      errors.push({ path: `routes.${i}.scope`, message: `${r.scope} is not a scope`, allowed: [...known] });
    }
    if (routes.findIndex((o) => o.method === r.method && o.path === r.path) < i) {
      errors.push({ path: `routes.${i}`, message: `${r.method} ${r.path} is listed twice` });
    }
  });
  const hosts = [...new Set((input.hosts ?? []).map(normalizeHost))];
  if (errors.length > 0) throw new ValidationError(errors);

  const db = createDb(env.DB);
  const config: GatewayConfig = { origin, hosts, routes, updatedAt: new Date() };
  await runBatch(db, [
    putGatewayConfig(db, config),
    auditStatement(db, who, { action: "gateway.updated", target: "gateway", details: { origin, hosts, routes: routes.length } }),
  ]);
  cache.delete("config");
  return config;
}
