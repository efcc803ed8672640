import { createRoute, z } from "@hono/zod-openapi";
import { requireCredential } from "../http/authenticate";
import { tenantOp } from "../http/context";
import { readBody } from "../http/middleware";
import { createRouter, errorResponses, jsonBody, jsonResponse, tenantSecurity } from "../http/openapi";
import { CustomFieldsSchema, FormatSchema, HeadersSchema, WebhookSecretSchema } from "../http/webhook-schemas";
import { verifyEndpointSettings } from "../webhooks/verification";
import { serializeTestSend, TestSendResult } from "./webhook-actions";

const VerifyBody = z
  .strictObject({
    url: z.string().max(2048).openapi({ example: "https://example.com/webhooks/hookgate" }),
    format: FormatSchema.optional(),
    headers: HeadersSchema.nullable().optional(),
    customFields: CustomFieldsSchema.nullable().optional(),
    secret: WebhookSecretSchema.optional().openapi({ description: "The secret to sign with (default: a throwaway one)" }),
    webhookId: z
      .string()
      .max(64)
      .optional()
      .openapi({ description: "A subscription being edited: signed with its secrets, its stored headers and fields unless given" }),
  })
  .openapi("VerifyEndpoint");

const verifyRoute = createRoute({
  method: "post",
  path: "/verify",
  tags: ["Webhooks"],
  summary: "Send the signed verification request to an endpoint before saving it",
  description:
    "The `webhook.verification` delivery an endpoint with these settings would get, sent now; the endpoint's answer is returned whatever it is, and nothing is stored.",
  security: tenantSecurity,
  request: jsonBody(VerifyBody),
  responses: { 200: jsonResponse(TestSendResult, "The endpoint's answer"), ...errorResponses },
});

/** `POST /v1/webhooks/verify`: the endpoint form's "Verify" (webhooks:write). */
export function webhookVerifyRoutes() {
  const app = createRouter();
  app.use("/verify", requireCredential("webhooks"), readBody());
  app.openapi(verifyRoute, async (c) => c.json(serializeTestSend(await verifyEndpointSettings(tenantOp(c), c.req.valid("json"))), 200));
  return app;
}
