import { z } from "@hono/zod-openapi";
import { MANAGED_BY, MODES, WEBHOOK_FORMATS, WEBHOOK_ORDERINGS } from "../db/schema";
import { ModeSchema } from "./schemas";

/** Request schemas for webhook subscriptions. */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const RESERVED_HEADERS = new Set([
  "host",
  "content-type",
  "content-length",
  "user-agent",
  // Hop-by-hop headers would change how the request is framed, not what it says.
  "connection",
  "keep-alive",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
]);

export function isReservedHeader(name: string): boolean {
  const n = name.toLowerCase();
  return RESERVED_HEADERS.has(n) || n.startsWith("webhook-") || n.startsWith("x-webhook-") || n.startsWith("proxy-");
}

export const HeadersSchema = z
  .record(
    z.string(),
    z
      .string()
      .max(1024, "must be at most 1024 characters")
      .regex(/^[^\r\n\0]*$/, "must not contain line breaks"),
  )
  .superRefine((headers, ctx) => {
    const names = Object.keys(headers);
    if (names.length > 20) ctx.addIssue({ code: "custom", message: "may hold at most 20 headers" });
    const seen = new Set<string>();
    for (const name of names) {
      if (!HEADER_NAME.test(name)) ctx.addIssue({ code: "custom", path: [name], message: "is not a valid header name" });
      else if (isReservedHeader(name)) {
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: "is reserved: host, content-type, content-length, user-agent, webhook-* and x-webhook-* are set on every delivery",
        });
      }
      if (seen.has(name.toLowerCase())) ctx.addIssue({ code: "custom", path: [name], message: "is given twice" });
      seen.add(name.toLowerCase());
    }
  })
  .openapi({
    description: "Sent with every delivery. The values are secrets: stored encrypted and never shown again (reads mask them)",
    example: { Authorization: "Bearer 3c1f...9f2c" },
  });

// The body's own members (`tenantId` too: an operator endpoint's form body carries it beside the custom fields).
const RESERVED_FIELDS = new Set(["id", "type", "createdAt", "tenantId", "data"]);

export const CustomFieldsSchema = z
  .record(z.string(), z.union([z.string().max(1024), z.number(), z.boolean()]))
  .superRefine((fields, ctx) => {
    const names = Object.keys(fields);
    if (names.length > 20) ctx.addIssue({ code: "custom", message: "may hold at most 20 fields" });
    for (const name of names) {
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name))
        ctx.addIssue({ code: "custom", path: [name], message: "must be 1-64 letters, digits, _ . or -" });
      if (RESERVED_FIELDS.has(name))
        ctx.addIssue({ code: "custom", path: [name], message: "is reserved (id, type, createdAt, tenantId, data)" });
    }
  })
  .openapi({ example: { account: "acme", region: "eu" } });

export const EventTypesListSchema = z
  .array(z.string().max(100))
  .min(1, 'must list at least one event type, or ["*"]')
  .max(100)
  .transform((list) => [...new Set(list)])
  .openapi({ example: ["invoice.paid", "invoice.voided"] });

export const FormatSchema = z.enum(WEBHOOK_FORMATS);
export const ManagedBySchema = z.enum(["zapier", "n8n", "make"]);

export const WebhookSecretSchema = z
  .string()
  .min(24, "must be at least 24 characters")
  .max(256)
  .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces");

/** A payload filter; its operators are checked by the webhook operations (422 naming a bad one). */
export const FilterSchema = z
  .record(z.string(), z.unknown())
  .refine((f) => JSON.stringify(f).length <= 16 * 1024, "must be at most 16 KiB")
  .openapi({
    description:
      "Matched against {type, data} of each event; only matching events create deliveries. Operators: $eq $neq $gt $gte $lt $lte $in $nin $startsWith $endsWith $exist $or $and $not",
    example: { data: { amount: { $gte: 100 }, currency: { $in: ["EUR", "USD"] } } },
  });
const FlowRate = z.number().int().min(1).max(1000).openapi({ description: "Deliveries per second to this endpoint (null: unlimited)" });
const FlowConcurrency = z.number().int().min(1).max(100).openapi({ description: "Requests in flight to this endpoint (null: unlimited)" });

const Ordering = z.enum(WEBHOOK_ORDERINGS).openapi({
  description:
    '"key": deliveries of events sharing an orderingKey (no key counts as one key) go one at a time, in the order the events were accepted',
});

/** A subscription's payload version pin; checked as a calendar date where it is stored. */
export const VersionPin = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date, YYYY-MM-DD")
  .openapi({
    description:
      "Payload version pin: each event type's newest version at or before this date is sent (older than all: its first). " +
      "Default: the newest version of its types when the subscription is created",
    example: "2026-06-01",
  });

const common = {
  url: z.string().max(2048).openapi({ example: "https://example.com/webhooks/hookgate" }),
  description: z.string().max(500).nullable().optional(),
  eventTypes: EventTypesListSchema,
  isEnabled: z.boolean().optional(),
  format: FormatSchema.optional(),
  headers: HeadersSchema.nullable().optional(),
  customFields: CustomFieldsSchema.nullable().optional(),
  filter: FilterSchema.nullable().optional(),
  rateLimit: FlowRate.nullable().optional(),
  maxConcurrency: FlowConcurrency.nullable().optional(),
  ordering: Ordering.optional(),
  version: VersionPin.optional(),
};

export const CreateWebhookBody = z
  .strictObject({
    ...common,
    secret: WebhookSecretSchema.optional().openapi({ description: "Your own signing secret; default: a generated whsec_ secret" }),
    managedBy: ManagedBySchema.optional(),
    verify: z.boolean().optional().openapi({ description: "Send a signed webhook.verification first; refuse unless it answers 2xx" }),
  })
  .openapi("CreateWebhook");

export const PatchWebhookBody = z
  .strictObject({
    url: common.url.optional(),
    description: common.description,
    eventTypes: EventTypesListSchema.optional(),
    isEnabled: z.boolean().optional(),
    format: FormatSchema.optional(),
    headers: common.headers,
    customFields: common.customFields,
    filter: common.filter,
    rateLimit: common.rateLimit,
    maxConcurrency: common.maxConcurrency,
    ordering: common.ordering,
    version: common.version,
    managedBy: ManagedBySchema.nullable().optional().openapi({ description: "Hand the subscription to a tool (or null)" }),
    verify: z.boolean().optional().openapi({ description: "Send a signed webhook.verification to the resulting URL first" }),
    secret: z
      .unknown()
      .refine(() => false, "the secret cannot be changed with PATCH; use the subscription's rotate-secret action")
      .optional()
      .openapi({ type: "string", deprecated: true, description: "Not accepted: use rotate-secret" }),
  })
  .openapi("UpdateWebhook");

export const WebhookSchema = z
  .object({
    id: z.string().openapi({ example: "wh_7Yh2..." }),
    url: z.string(),
    description: z.string().nullable(),
    eventTypes: z.array(z.string()),
    isEnabled: z.boolean(),
    disabledReason: z.string().nullable().openapi({ description: "gone, circuit_breaker or manual" }),
    format: FormatSchema,
    headers: z.record(z.string(), z.string()).openapi({
      description: "The endpoint's own headers, each value masked to its last 4 characters (`****` alone for 4 or fewer)",
      example: { Authorization: "****9f2c" },
    }),
    customFields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
    filter: z.record(z.string(), z.unknown()).nullable(),
    rateLimit: z.number().int().nullable(),
    maxConcurrency: z.number().int().nullable(),
    ordering: Ordering,
    version: z.string().nullable().openapi({
      description: "Payload version pin (YYYY-MM-DD); null: each type's first version (set before its types had versions)",
    }),
    secretLast4: z.string(),
    managedBy: z.enum(MANAGED_BY).nullable().openapi({ description: 'The tool that manages it; "cli": a `hookgate listen` session' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Webhook");

export const NewWebhookSchema = WebhookSchema.extend({
  secret: z.string().openapi({ description: "The signing secret. Shown once." }),
}).openapi("NewWebhook");

/** An operator endpoint's tenants: ids of existing tenants; null or absent, every tenant. */
export const TenantIdsSchema = z
  .array(z.string().min(1).max(64))
  .min(1, "must list at least one tenant, or be null for every tenant")
  .max(1000, "may list at most 1000 tenants")
  .transform((ids) => [...new Set(ids)])
  .nullable()
  .openapi({ description: "Only events of these tenants; null or absent: every tenant", example: ["ten_8Jd02kLmQpZx4RtYvB1c"] });

/** The modes whose events an operator endpoint receives; absent (or null) on create: live only. */
const ModesSchema = z
  .array(ModeSchema)
  .min(1, 'must list at least one mode: "live", "test" or both')
  .transform((modes) => MODES.filter((m) => modes.includes(m)))
  .nullable()
  .openapi({
    description: 'The tenants\' modes whose events it receives: `["live"]` (default), `["test"]` or `["live", "test"]`',
    example: ["live", "test"],
  });

// Whole objects, not `.extend()`: the document would render an extension of a strict object as an
// `allOf` of two objects that each refuse the other's fields, which no body satisfies.
export const CreateOperatorWebhookBody = z
  .strictObject({ ...CreateWebhookBody.shape, tenantIds: TenantIdsSchema.optional(), modes: ModesSchema.optional() })
  .openapi("CreateOperatorWebhook");
export const PatchOperatorWebhookBody = z
  .strictObject({ ...PatchWebhookBody.shape, tenantIds: TenantIdsSchema.optional(), modes: ModesSchema.optional() })
  .openapi("UpdateOperatorWebhook");

export const OperatorWebhookSchema = WebhookSchema.extend({
  tenantIds: z.array(z.string()).nullable().openapi({ description: "The tenants it covers; null: every tenant" }),
  modes: z.array(ModeSchema).openapi({ description: "The modes whose events it receives", example: ["live"] }),
}).openapi("OperatorWebhook");

export const NewOperatorWebhookSchema = OperatorWebhookSchema.extend({
  secret: z.string().openapi({ description: "The signing secret. Shown once." }),
}).openapi("NewOperatorWebhook");
