import { createRoute, type RouteConfig, type z } from "@hono/zod-openapi";
import type { TenantOp } from "../auth/caller";
import { requireCredential } from "../http/authenticate";
import { tenantOp } from "../http/context";
import { createRouter, errorResponses, jsonResponse, type RouteText, tenantSecurity } from "../http/openapi";
import { decodeCursor, encodeCursor, pageQuery } from "../http/pagination";
import {
  RequestErrorListSchema,
  RequestErrorQuery,
  RequestErrorSchema,
  RequestIdParam,
  serializeRequestError,
} from "../http/usage-schemas";
import { ValidationError } from "../lib/errors";
import { findRequestError, listRequestErrors, parseStatusFilter } from "../monitoring/request-errors";

const tags = ["Requests"];

/** The request-error log's two routes, for a tenant's credentials or (moved under a tenant) the operator. */
export function requestErrorRoutes(security: RouteConfig["security"], routeTags: string[], text: { list: RouteText; get: RouteText }) {
  return {
    list: createRoute({
      method: "get",
      path: "/",
      tags: routeTags,
      ...text.list,
      security,
      request: { query: pageQuery.extend(RequestErrorQuery.shape) },
      responses: { 200: jsonResponse(RequestErrorListSchema, "Request errors, newest first"), ...errorResponses },
    }),
    get: createRoute({
      method: "get",
      path: "/{requestId}",
      tags: routeTags,
      ...text.get,
      security,
      request: { params: RequestIdParam },
      responses: { 200: jsonResponse(RequestErrorSchema, "What the request was answered"), ...errorResponses },
    }),
  };
}

type ListQuery = z.infer<typeof pageQuery> & z.infer<typeof RequestErrorQuery>;

/** A list request's answer: `{data, nextCursor, dropped}`. */
export async function requestErrorPage(ctx: TenantOp, q: ListQuery) {
  const cursor = decodeCursor(q.cursor);
  const seq = cursor ? Number(cursor.id) : 0;
  if (cursor && !Number.isSafeInteger(seq))
    throw new ValidationError([{ path: "cursor", message: "is not a valid cursor" }], "invalid_query");
  const page = await listRequestErrors(
    ctx,
    {
      ...(q.status !== undefined && { status: parseStatusFilter(q.status) ?? undefined }),
      ...(q.credentialId && { credentialId: q.credentialId }),
      ...(q.since && { since: q.since }),
      ...(q.until && { until: q.until }),
    },
    q.limit,
    cursor ? { at: cursor.t, seq } : null,
  );
  return {
    data: page.rows.map(serializeRequestError),
    nextCursor: page.next ? encodeCursor({ t: page.next.at, id: String(page.next.seq) }) : null,
    dropped: page.dropped,
  };
}

export const requestErrorOf = async (ctx: TenantOp, requestId: string) => serializeRequestError(await findRequestError(ctx, requestId));

/** `/v1/requests`: the non-2xx answers the tenant's credentials got (`audit:read`). */
export function requestsRoutes() {
  const app = createRouter();
  app.use("*", requireCredential("audit"));
  const routes = requestErrorRoutes(tenantSecurity, tags, {
    list: {
      summary: "Request errors: every non-2xx answer to your credentials, newest first",
      description: `Kept for the event retention period. \`status\`: \`4xx\`, \`5xx\`, one status or one error \`code\`.`,
    },
    get: {
      summary: "One request error, by the X-Request-Id the caller got",
      description: "404 for a request that succeeded, or an unknown id.",
    },
  });
  app.openapi(routes.list, async (c) => c.json(await requestErrorPage(tenantOp(c), c.req.valid("query")), 200));
  app.openapi(routes.get, async (c) => c.json(await requestErrorOf(tenantOp(c), c.req.valid("param").requestId), 200));
  return app;
}
