import { createRoute, z } from "@hono/zod-openapi";
import { clientIp } from "../auth/credentials";
import {
  createPortalLink,
  type NewPortalLink,
  PORTAL_LINK_DEFAULT_SECONDS,
  PORTAL_LINK_MAX_SECONDS,
  PORTAL_LINK_MIN_SECONDS,
  redeemPortalLink,
} from "../auth/portal-links";
import { requireCredential } from "../http/authenticate";
import { tenantOp } from "../http/context";
import { readBody } from "../http/middleware";
import { createRouter, errorResponses, jsonBody, jsonResponse, ProblemSchema, tenantSecurity } from "../http/openapi";
import { ScopeSchema, ScopesSchema } from "../http/schemas";
import { DashboardSessionSchema, serializeSession } from "./dashboard-sessions";

export const CreatePortalSessionBody = z
  .strictObject({
    scopes: ScopesSchema.optional().openapi({ description: "A subset of the caller's scopes (default: all of them)" }),
    expiresInSeconds: z
      .number()
      .int()
      .min(PORTAL_LINK_MIN_SECONDS)
      .max(PORTAL_LINK_MAX_SECONDS)
      .optional()
      .openapi({ description: "How long the link may wait to be opened; the session it starts lasts as long, 8 h at most", example: 3600 }),
  })
  .openapi("CreatePortalSession");

export const PortalLinkSchema = z
  .object({
    url: z
      .string()
      .openapi({ description: "Open it once (e.g. as an iframe's src); the secret is in the fragment and never reaches a server log" }),
    expiresAt: z.string(),
    scopes: z.array(ScopeSchema),
  })
  .openapi("PortalLink");

const RedeemBody = z.strictObject({ token: z.string().min(1).max(200) }).openapi("RedeemPortalLink");

const tags = ["Dashboard"];

const createRouteDef = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Make a one-time link into the embeddable portal",
  description: `The link works once and must be opened within \`expiresInSeconds\` (${PORTAL_LINK_MIN_SECONDS}..${PORTAL_LINK_MAX_SECONDS}, default ${PORTAL_LINK_DEFAULT_SECONDS}). Framing is allowed only from the tenant's \`portalOrigins\`.`,
  security: tenantSecurity,
  request: jsonBody(CreatePortalSessionBody, false),
  responses: { 201: jsonResponse(PortalLinkSchema, "The link, shown once"), ...errorResponses },
});

const redeemRoute = createRoute({
  method: "post",
  path: "/redeem",
  tags,
  summary: "Open a portal link: its token becomes a dashboard session (once)",
  description: "No credential: the link's token is one. Used, expired or unknown: 410 `portal_link_expired`.",
  security: [],
  request: jsonBody(RedeemBody),
  responses: {
    201: jsonResponse(DashboardSessionSchema, "The session"),
    410: {
      description: "The link was already used, has expired, or is unknown",
      content: { "application/problem+json": { schema: ProblemSchema } },
    },
    ...errorResponses,
  },
});

/** A new link as its maker sees it: the page's URL on this host, the token in the fragment. */
export function serializePortalLink(requestUrl: string, link: NewPortalLink) {
  const url = `${new URL(requestUrl).origin}/dashboard/portal/${link.tenantId}#token=${link.token}`;
  return { url, expiresAt: link.expiresAt.toISOString(), scopes: link.scopes };
}

/** The tenant's product makes portal links; the page opens them: `/v1/portal-sessions`. */
export function portalSessionsRoutes() {
  const app = createRouter();
  app.use("/", requireCredential(null), readBody());
  app.use("/redeem", readBody());

  app.openapi(createRouteDef, async (c) =>
    c.json(serializePortalLink(c.req.url, await createPortalLink(tenantOp(c), c.req.valid("json"))), 201),
  );

  app.openapi(redeemRoute, async (c) => {
    const grant = await redeemPortalLink(
      c.env,
      c.get("config"),
      c.req.valid("json").token,
      clientIp(c.req.raw.headers),
      c.get("requestId"),
    );
    return c.json(serializeSession(grant), 201);
  });

  return app;
}
