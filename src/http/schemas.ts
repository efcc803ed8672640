import { z } from "@hono/zod-openapi";
import { MODES } from "../common/enums";
import { ALL_SCOPES } from "../common/scopes";
import { parseCidr } from "../lib/ip";
import { MAX_PRODUCT_SCOPES, SCOPE_NAME } from "../operator/scopes";

/** Schemas shared by more than one resource. */
const window = z.strictObject({
  limit: z.number().int().min(1).max(1_000_000),
  windowSeconds: z.number().int().min(1).max(86_400),
});

export const RateLimitsSchema = z
  .strictObject({ read: window.optional(), write: window.optional() })
  .openapi("RateLimits", { example: { read: { limit: 60, windowSeconds: 60 }, write: { limit: 30, windowSeconds: 60 } } });

export const ModeSchema = z.enum(MODES).openapi("Mode", {
  description: "`live` or `test`: a credential, and everything it makes, belongs to one mode and sees only that mode's resources",
  example: "live",
});

export const ScopeSchema = z
  .string()
  .max(100)
  .regex(SCOPE_NAME, "must be a scope such as keys:read (GET /v1/scopes lists them)")
  .openapi("Scope", { description: "One of Hookgate's scopes or of the operator's product scopes (GET /v1/scopes)", example: "keys:read" });

export const ScopesSchema = z
  .array(ScopeSchema)
  .min(1, "must list at least one scope")
  .max(ALL_SCOPES.length + MAX_PRODUCT_SCOPES)
  .transform((s) => [...new Set(s)]);

export const CidrListSchema = z
  .array(
    z
      .string()
      .max(64)
      .refine((s) => parseCidr(s) !== null, "must be an IPv4 or IPv6 address or CIDR range, e.g. 203.0.113.0/24"),
  )
  .max(100, "may hold at most 100 ranges")
  .openapi({ example: ["203.0.113.0/24", "2001:db8::/32"] });

export const NameSchema = z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters");

/** A future ISO 8601 date-time, parsed to a Date. */
export const FutureDateSchema = z.iso
  .datetime({ offset: true, error: "must be an ISO 8601 date-time, e.g. 2030-01-01T00:00:00Z" })
  .transform((s) => new Date(s))
  .refine((d) => d.getTime() > Date.now(), "must be in the future");

/** An ISO 8601 date-time query parameter (`since`, `until`), parsed to a Date. */
export const IsoTimeQuery = z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time" }).transform((s) => new Date(s));

/** The restrictions of a credential the operator set: its tenant cannot loosen them (403 `operator_locked`). */
export const LockedBySchema = z
  .object({ ipAllowlist: z.literal("operator").optional(), expiresAt: z.literal("operator").optional() })
  .openapi("LockedBy", {
    description:
      "Restrictions set by the operator, which the tenant cannot change; inherited by what this credential creates or rotates into",
    example: { ipAllowlist: "operator" },
  });
