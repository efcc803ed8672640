import { createRoute, z } from "@hono/zod-openapi";
import { clientIp } from "../auth/credentials";
import { inlineRuntime } from "../http/context";
import { createRouter } from "../http/openapi";
import { receive } from "../sources/intake";

const IntakeParams = z.object({
  source: z.string().openapi({ param: { name: "source", in: "path" }, example: "src_4kQ..." }),
  token: z.string().openapi({ param: { name: "token", in: "path" }, description: "The URL's token: the only credential" }),
});

const problems = {
  400: { description: "The body is not valid JSON (or nests too deeply)" },
  401: { description: "invalid_signature or stale_timestamp" },
  404: { description: "Unknown source, wrong token or disabled source (the same answer)" },
  413: { description: "Body over 256 KiB" },
  415: { description: "Neither JSON nor a form" },
  422: { description: "unknown_event_type or schema_mismatch" },
  429: { description: "Over the source's rate limit; see Retry-After" },
};

const intakePostRoute = createRoute({
  method: "post",
  path: "/{source}/{token}",
  tags: ["Sources"],
  summary: "The receiving endpoint of a source: give its URL to the sender",
  description:
    "No API credential: the token in the URL is the credential. The body (JSON or form, at most 256 KiB) is verified with the source's scheme, mapped and published as an event. Answers 202 {eventId}, or the source's own `response`; a repeat of a delivery within 24 h answers as the first did.",
  security: [],
  request: { params: IntakeParams },
  responses: { 202: { description: "Accepted: `{eventId}`" }, ...problems },
});

const intakeGetRoute = createRoute({
  method: "get",
  path: "/{source}/{token}",
  tags: ["Sources"],
  summary: "Meta's subscribe handshake (hub.mode=subscribe, hub.verify_token, hub.challenge)",
  security: [],
  request: { params: IntakeParams },
  responses: {
    200: { description: "The challenge, as text/plain" },
    401: problems[401],
    404: problems[404],
    405: { description: "Not a Meta source" },
  },
});

/** `/in/{source}/{token}`: incoming webhooks. */
export function intakeRoutes() {
  const app = createRouter();
  app.openAPIRegistry.registerPath(intakePostRoute);
  app.openAPIRegistry.registerPath(intakeGetRoute);
  app.on(["POST", "GET"], "/:source/:token", async (c) => {
    const answer = await receive(
      c.env,
      c.get("config"),
      {
        sourceId: c.req.param("source"),
        token: c.req.param("token"),
        method: c.req.method,
        url: c.req.url,
        headers: c.req.raw.headers,
        body: c.req.raw.body,
        ip: clientIp(c.req.raw.headers),
      },
      inlineRuntime(c),
    );
    const headers = { "content-type": answer.contentType };
    // 204 and 205 carry no body (a Response with one cannot be built).
    if (answer.status === 204 || answer.status === 205) return c.body(null, answer.status, headers);
    return c.body(answer.body, answer.status as 200, headers);
  });
  return app;
}
