import { createRoute, z } from "@hono/zod-openapi";
import type { SourceRequestRecord } from "../data/records";
import { SOURCE_REQUEST_STATUSES } from "../db/schema";
import type { SourceRow } from "../db/sources";
import { requireCredential } from "../http/authenticate";
import { inlineRuntime, tenantOp } from "../http/context";
import { readBody } from "../http/middleware";
import { conflictResponse, createRouter, errorResponses, idParam, jsonBody, jsonResponse, listOf, tenantSecurity } from "../http/openapi";
import { decodeCursor, page, pageQuery } from "../http/pagination";
import { CreateSourceBody, NewSourceSchema, PatchSourceBody, SourceRequestSchema, SourceSchema } from "../http/source-schemas";
import { servedAnswerType } from "../sources/answer-type";
import { findSourceRequest, replaySourceRequest } from "../sources/replay";
import { listRequestLog } from "../sources/request-log";
import {
  changeSource,
  createSource,
  deleteSource,
  findSource,
  listTenantSources,
  MAX_TOKEN_GRACE_SECONDS,
  rotateSourceToken,
} from "../sources/sources";

export function serializeSource(s: SourceRow) {
  return {
    id: s.id,
    name: s.name,
    eventType: s.eventType,
    verification: s.verification ? { ...s.verification, secretLast4: s.secretLast4 } : null,
    mapping: s.mapping ?? null,
    orderingKey: s.orderingKey ?? null,
    dedupe: s.dedupe ?? null,
    // A source saved before answer types were restricted shows the type it is actually served with.
    response: s.response?.contentType ? { ...s.response, contentType: servedAnswerType(s.response.contentType) } : (s.response ?? null),
    rateLimit: s.rateLimit,
    isEnabled: s.isEnabled,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

export const serializeSourceRequest = (r: SourceRequestRecord) => ({
  id: r.id,
  receivedAt: r.receivedAt.toISOString(),
  status: r.status,
  rejection: r.rejection,
  eventId: r.eventId,
  ip: r.ip,
  method: r.method,
  query: r.query,
  headers: r.headers,
  body: r.body,
  bodyTruncated: r.bodyTruncated,
  responseStatus: r.responseStatus,
});

const tags = ["Sources"];
const SourceId = idParam("src");
const RequestParams = SourceId.extend({
  reqId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "reqId", in: "path" }, example: "req_8Hq..." }),
});

const createSourceRoute = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Create an incoming webhook URL",
  description: "Requests to `url` are verified, mapped and published as events. The URL (with its token) is shown once.",
  security: tenantSecurity,
  request: jsonBody(CreateSourceBody),
  responses: { 201: jsonResponse(NewSourceSchema, "Created"), ...errorResponses, ...conflictResponse },
});

const listSourcesRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List sources",
  security: tenantSecurity,
  request: { query: pageQuery },
  responses: { 200: jsonResponse(listOf(SourceSchema), "A page of sources"), ...errorResponses },
});

const getSourceRoute = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get a source (never its token or secret)",
  security: tenantSecurity,
  request: { params: SourceId },
  responses: { 200: jsonResponse(SourceSchema, "The source"), ...errorResponses },
});

const patchSourceRoute = createRoute({
  method: "patch",
  path: "/{id}",
  tags,
  summary: "Update a source (anything but its token)",
  description: "A new `verification` replaces the old one; sent without its secret and with the same scheme, it keeps the stored secret.",
  security: tenantSecurity,
  request: { params: SourceId, ...jsonBody(PatchSourceBody) },
  responses: { 200: jsonResponse(SourceSchema, "The updated source"), ...errorResponses, ...conflictResponse },
});

const deleteSourceRoute = createRoute({
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Delete a source; its URL stops answering",
  security: tenantSecurity,
  request: { params: SourceId },
  responses: { 204: { description: "Deleted" }, ...errorResponses },
});

const rotateTokenRoute = createRoute({
  method: "post",
  path: "/{id}/rotate-token",
  tags,
  summary: "Replace a source's URL token",
  description: "The old URL keeps working for `graceSeconds` (0, the default: it stops now; at most 7 days).",
  security: tenantSecurity,
  request: {
    params: SourceId,
    ...jsonBody(
      z
        .strictObject({ graceSeconds: z.number().int().min(0).max(MAX_TOKEN_GRACE_SECONDS, "must be at most 604800 (7 days)").optional() })
        .openapi("RotateSourceToken"),
      false,
    ),
  },
  responses: { 200: jsonResponse(z.object({ url: z.string(), token: z.string() }), "The new URL, shown once"), ...errorResponses },
});

const listRequestsRoute = createRoute({
  method: "get",
  path: "/{id}/requests",
  tags,
  summary: "The request log of a source, newest first",
  security: tenantSecurity,
  request: { params: SourceId, query: pageQuery.extend({ status: z.enum(SOURCE_REQUEST_STATUSES).optional() }) },
  responses: { 200: jsonResponse(listOf(SourceRequestSchema), "A page of requests"), ...errorResponses },
});

const getRequestRoute = createRoute({
  method: "get",
  path: "/{id}/requests/{reqId}",
  tags,
  summary: "One logged request",
  security: tenantSecurity,
  request: { params: RequestParams },
  responses: { 200: jsonResponse(SourceRequestSchema, "The request"), ...errorResponses },
});

const replayRequestRoute = createRoute({
  method: "post",
  path: "/{id}/requests/{reqId}/replay",
  tags,
  summary: "Map and publish a logged request again (after fixing the mapping or the catalog)",
  description: "Only a request that passed verification can be replayed (409 not_verified otherwise).",
  security: tenantSecurity,
  request: { params: RequestParams },
  responses: { 202: jsonResponse(z.object({ eventId: z.string() }), "Published"), ...errorResponses, ...conflictResponse },
});

const originOf = (url: string) => new URL(url).origin;

export function sourcesRoutes() {
  const app = createRouter();
  app.use("*", requireCredential("sources"), readBody());

  app.openapi(createSourceRoute, async (c) => {
    const { row, token, url } = await createSource(tenantOp(c), originOf(c.req.url), c.req.valid("json"));
    return c.json({ ...serializeSource(row), url, token }, 201);
  });

  app.openapi(listSourcesRoute, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    return c.json(page(await listTenantSources(tenantOp(c), limit, decodeCursor(cursor)), serializeSource), 200);
  });

  app.openapi(getSourceRoute, async (c) => c.json(serializeSource(await findSource(tenantOp(c), c.req.valid("param").id)), 200));

  app.openapi(patchSourceRoute, async (c) => {
    const { token: _refused, ...patch } = c.req.valid("json");
    return c.json(serializeSource(await changeSource(tenantOp(c), c.req.valid("param").id, patch)), 200);
  });

  app.openapi(deleteSourceRoute, async (c) => {
    await deleteSource(tenantOp(c), c.req.valid("param").id);
    return c.body(null, 204);
  });

  app.openapi(rotateTokenRoute, async (c) => {
    const grace = c.req.valid("json").graceSeconds ?? 0;
    return c.json(await rotateSourceToken(tenantOp(c), originOf(c.req.url), c.req.valid("param").id, grace), 200);
  });

  app.openapi(listRequestsRoute, async (c) => {
    const { limit, cursor, status } = c.req.valid("query");
    const requests = await listRequestLog(tenantOp(c), c.req.valid("param").id, limit, status, decodeCursor(cursor));
    return c.json(page(requests, serializeSourceRequest), 200);
  });

  app.openapi(getRequestRoute, async (c) => {
    const { id, reqId } = c.req.valid("param");
    return c.json(serializeSourceRequest(await findSourceRequest(tenantOp(c), id, reqId)), 200);
  });

  app.openapi(replayRequestRoute, async (c) => {
    const { id, reqId } = c.req.valid("param");
    return c.json(await replaySourceRequest(tenantOp(c), id, reqId, inlineRuntime(c)), 202);
  });

  return app;
}
