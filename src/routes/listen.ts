import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { extractCredential } from "../auth/credentials";
import { authenticateRequest, setRateLimitHeaders } from "../http/authenticate";
import type { AppEnv } from "../http/context";
import { tenantOp } from "../http/context";
import { createRouter, errorResponses, tenantSecurity } from "../http/openapi";
import { acceptAwaitingKey } from "../listen/first-message";
import { isUpgrade, openListenSession } from "../listen/open";

const ListenQuery = z.object({
  events: z
    .string()
    .max(4096)
    .optional()
    .openapi({ description: "Comma-separated event types to receive (default: all)", example: "invoice.paid,invoice.failed" }),
  session: z
    .string()
    .regex(/^lsn_[A-Za-z0-9]{20}$/, "must be a session id (lsn_…)")
    .optional()
    .openapi({ description: "Resume this session (kept 10 minutes after its connection ends)" }),
});

const listenRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["Webhooks"],
  summary: "Receive a session's deliveries over a WebSocket (hookgate listen)",
  description:
    'A WebSocket upgrade (key in Authorization, never in the URL). Creates a temporary subscription (`managedBy: "cli"`, `url: "cli:<lsn_id>"`, outside the webhooks quota), or resumes `session`. Messages: `ready`, `delivery` and `replaced` from the server; `result` from the client.',
  security: tenantSecurity,
  request: { query: ListenQuery },
  responses: {
    101: { description: "Switching Protocols: the session's WebSocket" },
    426: {
      description: "Not a WebSocket upgrade",
      content: { "application/problem+json": { schema: z.object({ status: z.number(), code: z.string() }) } },
    },
    ...errorResponses,
  },
});

/**
 * `webhooks:write` on a GET (it creates a subscription), before anything else. An upgrade
 * without a credential may bring the key in its first message instead.
 */
const requireListenCredential = (): MiddlewareHandler<AppEnv> =>
  async function listenCredential(c, next) {
    if (extractCredential(c.req.raw.headers) === undefined && isUpgrade(c.req.raw)) return next();
    const admission = await authenticateRequest(c, { scope: "webhooks:write", bucket: "write" });
    c.set("principal", admission.principal);
    await next();
    setRateLimitHeaders(c.res.headers, admission);
  };

export function listenRoutes() {
  const app = createRouter();
  app.use("/", requireListenCredential());

  app.openapi(listenRoute, async (c) => {
    const { events, session } = c.req.valid("query");
    const list = (events ?? "")
      .split(",")
      .map((e) => e.trim())
      .filter((e) => e !== "");
    const input = { events: list, ...(session !== undefined && { sessionId: session }) };
    if (!c.get("principal")) return acceptAwaitingKey(c.env, c.get("config"), c.req.raw, c.get("requestId"), input) as never;
    const upgraded = await openListenSession(tenantOp(c), input, c.req.raw);
    // A fresh response: the object's headers are immutable, and the request id and rate-limit headers go on it.
    return new Response(null, { status: upgraded.status, webSocket: upgraded.webSocket }) as never;
  });

  return app;
}
