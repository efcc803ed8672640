import { z } from "@hono/zod-openapi";
import { SOURCE_REJECTIONS, SOURCE_REQUEST_STATUSES, VERIFICATION_SCHEMES } from "../db/schema";
import { ANSWER_TYPES, isSafeAnswerType } from "../sources/answer-type";
import { NameSchema } from "./schemas";

/** Request and response schemas of incoming webhook sources. */
const HeaderName = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "must be a header name")
  .transform((h) => h.toLowerCase());
const Secret = z.string().min(1, "must not be empty").max(512);

/** The verification of each scheme; `secret` is optional only when a PATCH keeps the stored one. */
function verificationSchema(secretRequired: boolean) {
  const secret = secretRequired ? Secret : Secret.optional();
  const bare = (scheme: (typeof VERIFICATION_SCHEMES)[number]) => z.strictObject({ scheme: z.literal(scheme), secret });
  return z
    .discriminatedUnion("scheme", [
      z.strictObject({
        scheme: z.literal("hmac"),
        secret,
        header: HeaderName,
        algorithm: z.enum(["sha1", "sha256", "sha512"]).optional(),
        encoding: z.enum(["hex", "base64"]).optional(),
        prefix: z.string().max(64).optional(),
      }),
      bare("stripe"),
      bare("github"),
      z.strictObject({ scheme: z.literal("meta"), secret, verifyToken: secretRequired ? Secret : Secret.optional() }),
      bare("shopify"),
      bare("slack"),
      bare("standard-webhooks"),
      bare("twilio"),
      z.strictObject({
        scheme: z.literal("basic"),
        username: z.string().min(1).max(256),
        password: secretRequired ? Secret : Secret.optional(),
      }),
      z.strictObject({ scheme: z.literal("api-key"), header: HeaderName, secret }),
    ])
    .openapi({ description: `How requests are verified: ${VERIFICATION_SCHEMES.join(", ")} (absent: the URL's token alone)` });
}

const Mapping = z
  .unknown()
  .refine((m) => JSON.stringify(m ?? null).length <= 64 * 1024, "must be at most 64 KiB")
  .openapi({
    description:
      "Any JSON value; strings may hold {{trigger.<path>}}, {{headers.<name>}}, {{query.<name>}}. Absent: the body is the event's data.",
    example: { repo: "{{trigger.repository.full_name}}", action: "{{trigger.action}}" },
  });
const Dedupe = z.union([z.strictObject({ header: HeaderName }), z.strictObject({ path: z.string().min(1).max(200) })]);
// The answer is served on Hookgate's origin: only types a browser never runs (no HTML, SVG, XML, script).
const AnswerType = z
  .string()
  .max(100)
  .refine(isSafeAnswerType, {
    message: `must be ${ANSWER_TYPES.join(" or ")}, with an optional "; charset=..." (a tenant's text never becomes a page on this origin)`,
    params: { allowed: [...ANSWER_TYPES] },
  });
const Response = z
  .strictObject({
    status: z.number().int().min(200).max(299),
    body: z.string().max(1000).optional(),
    contentType: AnswerType.optional(),
  })
  .refine((r) => !(r.status === 204 || r.status === 205) || !r.body, { path: ["body"], message: "a 204 or 205 answer has no body" });
const EventTypeTemplate = z.string().min(1).max(200).openapi({ example: "github.{{headers.x-github-event}}" });
const OrderingKeyTemplate = z.string().min(1).max(200).openapi({
  description:
    "The published event's orderingKey: a template such as `{{trigger.customer.id}}`; an empty result publishes without a key, one over 128 characters is replaced by `sha256:` and its hash",
  example: "{{trigger.data.object.customer}}",
});
const RateLimit = z.number().int().min(1).max(100_000).openapi({ description: "Requests per minute (default 600)" });

export const CreateSourceBody = z
  .strictObject({
    name: NameSchema,
    eventType: EventTypeTemplate,
    verification: verificationSchema(true).optional(),
    mapping: Mapping.optional(),
    orderingKey: OrderingKeyTemplate.optional(),
    dedupe: Dedupe.optional(),
    response: Response.optional(),
    rateLimit: RateLimit.optional(),
    isEnabled: z.boolean().optional(),
  })
  .openapi("CreateSource");

export const PatchSourceBody = z
  .strictObject({
    name: NameSchema.optional(),
    eventType: EventTypeTemplate.optional(),
    verification: verificationSchema(false).nullable().optional(),
    mapping: Mapping.nullable().optional(),
    orderingKey: OrderingKeyTemplate.nullable().optional(),
    dedupe: Dedupe.nullable().optional(),
    response: Response.nullable().optional(),
    rateLimit: RateLimit.optional(),
    isEnabled: z.boolean().optional(),
    token: z
      .unknown()
      .refine(() => false, "the token cannot be changed with PATCH; use POST /v1/sources/{id}/rotate-token")
      .optional()
      .openapi({ type: "string", deprecated: true }),
  })
  .openapi("UpdateSource");

export const SourceSchema = z
  .object({
    id: z.string().openapi({ example: "src_4kQ..." }),
    name: z.string(),
    eventType: z.string(),
    verification: z
      .object({
        scheme: z.enum(VERIFICATION_SCHEMES),
        header: z.string().optional(),
        algorithm: z.string().optional(),
        encoding: z.string().optional(),
        prefix: z.string().optional(),
        username: z.string().optional(),
        secretLast4: z.string().nullable(),
      })
      .nullable(),
    mapping: z.unknown(),
    orderingKey: z.string().nullable(),
    dedupe: z.union([z.object({ header: z.string() }), z.object({ path: z.string() })]).nullable(),
    response: Response.nullable(),
    rateLimit: z.number().int(),
    isEnabled: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Source");

export const NewSourceSchema = SourceSchema.extend({
  url: z.string().openapi({ description: "Give this URL to the sender. Shown once: it holds the token." }),
  token: z.string().openapi({ description: "Shown once; stored hashed." }),
}).openapi("NewSource");

export const SourceRequestSchema = z
  .object({
    id: z.string().openapi({ example: "req_9s..." }),
    receivedAt: z.string(),
    status: z.enum(SOURCE_REQUEST_STATUSES),
    rejection: z.enum(SOURCE_REJECTIONS).nullable(),
    eventId: z.string().nullable(),
    ip: z.string().nullable(),
    method: z.string(),
    query: z.record(z.string(), z.string()),
    headers: z.record(z.string(), z.string()).openapi({ description: "Signatures and secrets redacted" }),
    body: z.string().openapi({ description: "At most 64 KiB" }),
    bodyTruncated: z.boolean(),
    responseStatus: z.number().int(),
  })
  .openapi("SourceRequest");
