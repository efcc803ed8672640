import { createRoute, z } from "@hono/zod-openapi";
import type { SessionGrant } from "../auth/dashboard-sessions";
import { signIn, signOut, switchSessionMode } from "../auth/dashboard-sessions";
import { requireCredential } from "../http/authenticate";
import { tenantOp } from "../http/context";
import { readBody } from "../http/middleware";
import { createRouter, errorResponses, jsonBody, jsonResponse, tenantSecurity } from "../http/openapi";
import { ModeSchema, ScopeSchema } from "../http/schemas";

export const DashboardSessionSchema = z
  .object({
    token: z
      .string()
      .openapi({ description: "The session's bearer token: send it as `Authorization: Bearer <token>`. Keep it in memory only." }),
    sessionId: z.string().openapi({ example: "ses_6Gm1..." }),
    kind: z.enum(["dashboard", "portal"]),
    expiresAt: z.string(),
    tenantId: z.string(),
    credentialId: z.string().openapi({ description: "The credential the session acts as" }),
    scopes: z.array(ScopeSchema),
    mode: ModeSchema.openapi({ description: "The mode the session views: it sees and changes only that mode's resources" }),
    modes: z
      .array(ModeSchema)
      .openapi({ description: "The modes the session may switch to: both for a live key's session, `test` only for a test key's" }),
  })
  .openapi("DashboardSession");

export const serializeSession = (g: SessionGrant) => ({
  token: g.token,
  sessionId: g.sessionId,
  kind: g.kind,
  expiresAt: g.expiresAt.toISOString(),
  tenantId: g.tenantId,
  credentialId: g.credentialId,
  scopes: g.scopes,
  mode: g.mode,
  modes: g.modes,
});

const SignInBody = z
  .strictObject({
    mode: ModeSchema.optional().openapi({
      description: "The mode to view; default the key's. A live key may view either mode, a test key only test (403)",
    }),
  })
  .openapi("StartDashboardSession");

const SwitchModeBody = z.strictObject({ mode: ModeSchema }).openapi("SwitchDashboardSessionMode");

const tags = ["Dashboard"];

const signInRoute = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Exchange an API key for a dashboard session (sign in)",
  description:
    "Authenticated with the API key itself. The session acts as the key (its tenant, scopes, restrictions and rate limit) for 8 h at most, or until signed out or the key is revoked.",
  security: tenantSecurity,
  request: jsonBody(SignInBody, false),
  responses: { 201: jsonResponse(DashboardSessionSchema, "The session"), ...errorResponses },
});

const switchModeRoute = createRoute({
  method: "post",
  path: "/current/mode",
  tags,
  summary: "Switch the calling dashboard session to another mode (the Test mode switch)",
  description:
    "Authenticated with a dashboard session. Answers a new session of the same key and scopes viewing `mode`, ending when the calling one would have; the calling session ends now. A session of a live key may view either mode, of a test key only test (403 `mode_escalation`).",
  security: tenantSecurity,
  request: jsonBody(SwitchModeBody),
  responses: { 201: jsonResponse(DashboardSessionSchema, "The new session"), ...errorResponses },
});

const signOutRoute = createRoute({
  method: "delete",
  path: "/current",
  tags,
  summary: "End the calling dashboard session (sign out), at once everywhere",
  security: tenantSecurity,
  responses: { 204: { description: "Signed out" }, ...errorResponses },
});

/** Dashboard sign-in and sign-out: `/v1/dashboard-sessions`. */
export function dashboardSessionsRoutes() {
  const app = createRouter();
  app.use("*", requireCredential(null), readBody());

  app.openapi(signInRoute, async (c) => {
    const { mode } = c.req.valid("json");
    return c.json(serializeSession(await signIn(tenantOp(c), mode)), 201);
  });

  app.openapi(switchModeRoute, async (c) => {
    return c.json(serializeSession(await switchSessionMode(tenantOp(c), c.req.valid("json").mode)), 201);
  });

  app.openapi(signOutRoute, async (c) => {
    await signOut(tenantOp(c));
    return c.body(null, 204);
  });

  return app;
}
