import type { TenantOp } from "../auth/caller";
import type { Mode } from "../common/enums";
import { bucketStartOf } from "../common/usage";
import type { RequestErrorQuery, StatusFilter, StoredRequestError } from "../data/request-log-sql";
import { bucketOf } from "../data/shard-map";
import { daysWithRequestErrors } from "../db/usage-counts";
import { NotFoundError } from "../lib/errors";
import { requestLogFor } from "../objects";
import { recorder } from "./recorder";

/**
 * The request-error log's reads. A tenant's errors live in one object per
 * UTC day (src/data/request-log.ts); a list walks the days that hold any
 * (the day's usage counts say which) newest first, a few at a time, and a
 * lookup by request id asks them the same way, stopping at the first that
 * holds it.
 */

type LogCtx = Pick<TenantOp, "env" | "config" | "tenant" | "caller">;
// Days asked at once.
const DAYS_PER_ROUND = 7;

export type RequestErrorFilter = { status?: StatusFilter; credentialId?: string; since?: Date; until?: Date };
export type RequestErrorPage = { rows: StoredRequestError[]; next: { at: number; seq: number } | null; dropped: number };

const STATUS_FILTER = /^(?:([45])xx|([1-5]\d\d)|([a-z][a-z0-9_]{0,63}))$/;
export const STATUS_FILTER_HELP = "must be 4xx, 5xx, an HTTP status such as 429, or an error code such as rate_limited";

/** `4xx`/`5xx`, one status (`429`, `403`) or one error `code` (`insufficient_scope`); null when it is none of these. */
export function parseStatusFilter(raw: string): StatusFilter | null {
  const m = STATUS_FILTER.exec(raw);
  if (!m) return null;
  if (m[1]) return { class: Number(m[1]) as 4 | 5 };
  if (m[2]) return { status: Number(m[2]) };
  return { code: m[3]! };
}

const modeOf = (ctx: LogCtx): Mode | null => ("principal" in ctx.caller ? ctx.caller.principal.mode : null);

/**
 * The days that may hold the tenant's errors within the retention horizon and `[since, until]`,
 * newest first: those whose usage counted an error, so a read asks no empty day's object.
 */
async function daysWithErrors(ctx: LogCtx, since?: number, until?: number): Promise<number[]> {
  const now = Date.now();
  const from = Math.max(
    bucketStartOf("day", now - ctx.config.eventRetentionDays * 86_400_000),
    since === undefined ? 0 : bucketStartOf("day", since),
  );
  const starts = await daysWithRequestErrors(ctx.env.DB, ctx.tenant.id, modeOf(ctx), from, until ?? now);
  return starts.map(bucketOf);
}

async function ownErrorsWritten(ctx: LogCtx): Promise<void> {
  await recorder.flush(ctx.env, ctx.config.eventRetentionDays).catch(() => {});
}

/** A page of the tenant's request errors, newest first; `dropped`: errors the days looked at could not keep (a flood). */
export async function listRequestErrors(
  ctx: LogCtx,
  filter: RequestErrorFilter,
  limit: number,
  before: { at: number; seq: number } | null,
): Promise<RequestErrorPage> {
  await ownErrorsWritten(ctx);
  const until = before ? Math.min(before.at, filter.until?.getTime() ?? before.at) : filter.until?.getTime();
  const days = await daysWithErrors(ctx, filter.since?.getTime(), until);
  const query: RequestErrorQuery = {
    mode: modeOf(ctx),
    status: filter.status,
    credentialId: filter.credentialId,
    since: filter.since?.getTime(),
    until: filter.until?.getTime(),
    before,
    limit: limit + 1,
  };
  const rows: StoredRequestError[] = [];
  let dropped = 0;
  for (let i = 0; i < days.length && rows.length <= limit; i += DAYS_PER_ROUND) {
    const round = days.slice(i, i + DAYS_PER_ROUND);
    const answers = await Promise.all(round.map((day) => requestLogFor(ctx.env, ctx.tenant.id, day).list(query)));
    for (const a of answers) {
      if (rows.length <= limit) rows.push(...a.rows.slice(0, limit + 1 - rows.length));
      dropped += a.dropped;
    }
  }
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { rows: page, next: rows.length > limit && last ? { at: last.at, seq: last.seq } : null, dropped };
}

/** The answer kept under a request id the caller got in X-Request-Id; 404 for a success or an unknown id. */
export async function findRequestError(ctx: LogCtx, requestId: string): Promise<StoredRequestError> {
  await ownErrorsWritten(ctx);
  const days = await daysWithErrors(ctx);
  for (let i = 0; i < days.length; i += DAYS_PER_ROUND) {
    const round = days.slice(i, i + DAYS_PER_ROUND);
    const found = await Promise.all(round.map((day) => requestLogFor(ctx.env, ctx.tenant.id, day).find(requestId, modeOf(ctx))));
    const hit = found.find((r) => r !== null);
    if (hit) return hit;
  }
  throw new NotFoundError("Request error");
}
