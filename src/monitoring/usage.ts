import { findApiKey } from "../auth/api-keys";
import type { TenantOp } from "../auth/caller";
import { findOAuthClient } from "../auth/oauth-clients";
import type { Mode } from "../common/enums";
import type { UsageGranularity, UsagePoint } from "../common/usage";
import type { Config } from "../config";
import { credentialUsageRows, rankTenantsByUsage, type TenantUsageTotal, tenantUsageRows, type UsageRow } from "../db/usage-counts";
import { recorder } from "./recorder";

/**
 * Usage reads. Counts live in D1 (`usage_counts`), where a tenant's total and
 * the operator's ranking are one indexed query each; every isolate writes its
 * own deltas there at least every USAGE_FLUSH_SECONDS (10 s), and a read first writes the reading
 * isolate's, so what a caller just did in this isolate is already in it.
 */

type UsageCtx = Pick<TenantOp, "env" | "config" | "tenant" | "caller">;

const point = (r: UsageRow): UsagePoint => ({
  start: new Date(r.start).toISOString(),
  total: r.ok + r.clientErrors + r.rateLimited + r.serverErrors,
  ok: r.ok,
  clientErrors: r.clientErrors,
  rateLimited: r.rateLimited,
  serverErrors: r.serverErrors,
});

/** The isolate's own counts first; a failed write leaves them for the next flush and the read goes on. */
async function ownCountsWritten(env: Env, config: Config): Promise<void> {
  await recorder.flush(env, config.eventRetentionDays).catch(() => {});
}

/** One of the tenant's credentials (API key `key_…` or OAuth client `cli_…`) by outcome, newest bucket first. */
export async function credentialUsage(
  ctx: UsageCtx,
  kind: "api_key" | "oauth_client",
  id: string,
  granularity: UsageGranularity,
): Promise<UsagePoint[]> {
  const found = kind === "api_key" ? await findApiKey(ctx, id) : await findOAuthClient(ctx, id);
  await ownCountsWritten(ctx.env, ctx.config);
  return (await credentialUsageRows(ctx.env.DB, found.id, granularity)).map(point);
}

/** The tenant's requests (every credential of the caller's mode; the operator sees both modes), newest bucket first. */
export async function tenantUsage(ctx: UsageCtx, granularity: UsageGranularity): Promise<UsagePoint[]> {
  const mode: Mode | null = "principal" in ctx.caller ? ctx.caller.principal.mode : null;
  await ownCountsWritten(ctx.env, ctx.config);
  return (await tenantUsageRows(ctx.env.DB, ctx.tenant.id, mode, granularity)).map(point);
}

/** Every tenant's requests within the granularity's horizon, most first: a page of `limit` after `offset`. */
export async function usageRanking(
  env: Env,
  config: Config,
  granularity: UsageGranularity,
  limit: number,
  offset: number,
): Promise<{ rows: TenantUsageTotal[]; more: boolean }> {
  await ownCountsWritten(env, config);
  const rows = await rankTenantsByUsage(env.DB, granularity, limit + 1, offset);
  return { rows: rows.slice(0, limit), more: rows.length > limit };
}
