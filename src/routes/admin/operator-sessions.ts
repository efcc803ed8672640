import { createRoute, z } from "@hono/zod-openapi";
import { endOperatorSession, startOperatorSession } from "../../auth/operator-sessions";
import { requireAdmin } from "../../http/authenticate";
import { adminActor } from "../../http/context";
import { readBody } from "../../http/middleware";
import { adminSecurity, createRouter, errorResponses, jsonResponse } from "../../http/openapi";
import { ForbiddenError } from "../../lib/errors";

export const OperatorSessionSchema = z
  .object({
    token: z.string().openapi({ description: "The session's bearer token for `/admin/*`. Keep it in memory only." }),
    sessionId: z.string().openapi({ example: "ses_6Gm1..." }),
    kind: z.literal("operator"),
    actor: z.string().openapi({ description: "Who the session acts as: `operator`, or `operator:<email>` through Cloudflare Access" }),
    expiresAt: z.string(),
  })
  .openapi("OperatorSession");

const tags = ["Operator"];

const signInRoute = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Exchange the operator token (or an Access identity) for an operator console session",
  description: "The console keeps this session's token instead of the operator token: 8 h at most, ended by sign-out or a new ADMIN_TOKEN.",
  security: adminSecurity,
  responses: { 201: jsonResponse(OperatorSessionSchema, "The session"), ...errorResponses },
});

const signOutRoute = createRoute({
  method: "delete",
  path: "/current",
  tags,
  summary: "End the calling operator console session (sign out), at once everywhere",
  security: adminSecurity,
  responses: { 204: { description: "Signed out" }, ...errorResponses },
});

/** The operator console's sign-in and sign-out: `/admin/dashboard-sessions`. */
export function adminOperatorSessionsRoutes() {
  const app = createRouter();
  app.use("*", requireAdmin(), readBody());

  app.openapi(signInRoute, async (c) => {
    const g = await startOperatorSession(c.env, c.get("config"), adminActor(c), c.get("operatorSession") !== undefined);
    return c.json({ token: g.token, sessionId: g.sessionId, kind: g.kind, actor: g.actor, expiresAt: g.expiresAt.toISOString() }, 201);
  });

  app.openapi(signOutRoute, async (c) => {
    const sessionId = c.get("operatorSession");
    if (!sessionId) throw new ForbiddenError("credential_type_not_allowed", "Only a console session can sign out");
    await endOperatorSession(c.env, adminActor(c), sessionId);
    return c.body(null, 204);
  });

  return app;
}
