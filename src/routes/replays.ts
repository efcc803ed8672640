import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { TenantOp } from "../auth/caller";
import { REPLAY_STATES, REPLAYABLE_STATUSES } from "../db/schema";
import { requireCredential } from "../http/authenticate";
import { type AppEnv, tenantOp } from "../http/context";
import { readBody } from "../http/middleware";
import { createRouter, errorResponses, idParam, jsonBody, jsonResponse, listOf, tenantSecurity, toIso } from "../http/openapi";
import { decodeCursor, page, pageQuery } from "../http/pagination";
import { cancelReplay, findReplay, listOwnReplays, startReplay } from "../replays/replays";
import type { ReplayRow } from "../replays/store";

const isoTime = z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time" });

export const ReplayBody = z
  .strictObject({
    webhookId: z.string().min(1).max(64),
    since: isoTime.openapi({ description: "Deliveries created at or after this time" }),
    until: isoTime.optional().openapi({ description: "Deliveries created before this time (default: now)" }),
    status: z
      .array(z.enum(REPLAYABLE_STATUSES))
      .min(1, "must list at least one status")
      .max(REPLAYABLE_STATUSES.length * 2)
      .default(["failed"])
      .openapi({ description: "Which deliveries to replay, by their status now" }),
    eventTypes: z.array(z.string().min(1).max(100)).max(100).optional().openapi({ description: "Only deliveries of these event types" }),
    dryRun: z.boolean().default(false).openapi({ description: "Count the matching deliveries, send nothing" }),
  })
  .openapi("ReplayRequest");

export const ReplaySchema = z
  .object({
    id: z.string().openapi({ example: "rpl_3kT9xQ..." }),
    webhookId: z.string(),
    state: z.enum(REPLAY_STATES),
    status: z.array(z.enum(REPLAYABLE_STATUSES)),
    eventTypes: z.array(z.string()).nullable(),
    since: z.string(),
    until: z.string().nullable(),
    matched: z.number().int().openapi({ description: "Deliveries the replay picked" }),
    sent: z.number().int().openapi({ description: "Attempts the replay has made (finished or in flight)" }),
    succeeded: z.number().int(),
    failed: z.number().int(),
    createdAt: z.string(),
    finishedAt: z.string().nullable().openapi({ description: "When it left `running`" }),
  })
  .openapi("Replay");

export const DryRunSchema = z.object({ matched: z.number().int() }).openapi("ReplayDryRun");

export const ReplayListQuery = pageQuery.extend({ webhookId: z.string().max(64).optional() });

export const serializeReplay = (r: ReplayRow) => ({
  id: r.id,
  webhookId: r.webhookId,
  state: r.state,
  status: r.statuses,
  eventTypes: r.eventTypes,
  since: r.since.toISOString(),
  until: toIso(r.until),
  matched: r.matched,
  sent: r.sent,
  succeeded: r.succeeded,
  failed: r.failed,
  createdAt: r.createdAt.toISOString(),
  finishedAt: toIso(r.finishedAt),
});

/** The request body as the domain takes it. */
export const replayInput = (b: z.infer<typeof ReplayBody>) => ({
  webhookId: b.webhookId,
  since: new Date(b.since),
  ...(b.until && { until: new Date(b.until) }),
  statuses: b.status,
  ...(b.eventTypes && { eventTypes: b.eventTypes }),
  dryRun: b.dryRun,
});

const conflict = { 409: errorResponses[400] };

/** The four replay routes, for a tenant's endpoints or (the admin twin) the operator's. */
export function replayRoutes(security: Record<string, string[]>[], tags: string[]) {
  return {
    start: createRoute({
      method: "post",
      path: "/",
      tags,
      summary: "Replay an endpoint's deliveries: one more attempt each, paced, in its own lane",
      description:
        "Picks the endpoint's deliveries created in [since, until) whose status is one of `status` (default failed) and, unless `dryRun`, gives each one more attempt, as POST /deliveries/{id}/retry would, oldest first, within half the endpoint's flow control. One running replay per endpoint (409 `replay_running`).",
      security,
      request: { ...jsonBody(ReplayBody) },
      responses: {
        200: jsonResponse(DryRunSchema, "Dry run: how many deliveries match"),
        202: jsonResponse(ReplaySchema, "Started"),
        ...errorResponses,
        ...conflict,
      },
    }),
    list: createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "Replays, newest first",
      security,
      request: { query: ReplayListQuery },
      responses: { 200: jsonResponse(listOf(ReplaySchema), "A page of replays"), ...errorResponses },
    }),
    get: createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "A replay and its progress",
      security,
      request: { params: idParam("rpl") },
      responses: { 200: jsonResponse(ReplaySchema, "The replay"), ...errorResponses },
    }),
    cancel: createRoute({
      method: "post",
      path: "/{id}/cancel",
      tags,
      summary: "Stop what a running replay has not sent yet",
      description: "Attempts in flight finish and are counted. 409 once the replay is done or cancelled.",
      security,
      request: { params: idParam("rpl") },
      responses: { 200: jsonResponse(ReplaySchema, "Cancelled"), ...errorResponses, ...conflict },
    }),
  };
}

/** Mounts the replay routes on `app`, each operation run as `opOf(c)`. */
export function mountReplays(
  app: ReturnType<typeof createRouter>,
  routes: ReturnType<typeof replayRoutes>,
  op: (c: Context<AppEnv>) => TenantOp,
) {
  app.openapi(routes.start, async (c) => {
    const result = await startReplay(op(c), replayInput(c.req.valid("json")));
    return result.dryRun ? c.json({ matched: result.matched }, 200) : c.json(serializeReplay(result.replay), 202);
  });
  app.openapi(routes.list, async (c) => {
    const { limit, cursor, webhookId } = c.req.valid("query");
    const found = await listOwnReplays(op(c), limit, { ...(webhookId && { webhookId }), after: decodeCursor(cursor) });
    return c.json(page(found, serializeReplay), 200);
  });
  app.openapi(routes.get, async (c) => c.json(serializeReplay(await findReplay(op(c), c.req.valid("param").id)), 200));
  app.openapi(routes.cancel, async (c) => c.json(serializeReplay(await cancelReplay(op(c), c.req.valid("param").id)), 200));
}

/** `/v1/replays`: bulk replays of the tenant's endpoints (webhooks:read / webhooks:write). */
export function replaysRoutes() {
  const app = createRouter();
  app.use("*", requireCredential("webhooks"), readBody());
  mountReplays(app, replayRoutes(tenantSecurity, ["Replays"]), tenantOp);
  return app;
}
