import { OpenAPIHono, z } from "@hono/zod-openapi";
import { ValidationError, zodFieldErrors } from "../lib/errors";
import type { AppEnv } from "./context";

/**
 * A router whose zod failures all become the same problem: 422 for bodies,
 * 400 for query strings and path parameters.
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const errors = zodFieldErrors(result.error);
        const body = result.target === "json" || result.target === "form";
        throw new ValidationError(errors, body ? "validation_failed" : "invalid_query");
      }
    },
  });
}

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().openapi({ description: "Stable snake_case error code" }),
    requestId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string(), allowed: z.array(z.string()).optional() })).optional(),
    requiredScope: z.string().optional(),
    policy: z.string().optional(),
    retryAfter: z.number().optional(),
  })
  .openapi("Problem");

const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ProblemSchema } },
});

/** Error responses every authenticated route can give; spread into `responses`. */
export const errorResponses = {
  400: problem("Malformed JSON or query, or JSON nested deeper than 64 levels"),
  401: problem("Missing, unknown, expired or revoked credential"),
  403: problem("Scope missing, IP not allowed, or API access disabled"),
  404: problem("Not found (also for another tenant's ids)"),
  413: problem("Body over 256 KiB"),
  415: problem("Content-Type is not application/json"),
  422: problem("Validation failed; `errors` names each field"),
  429: problem("Rate limited; see Retry-After"),
  503: problem("Storage contention or missing configuration; see Retry-After"),
} as const;

export const conflictResponse = { 409: problem("Quota exceeded or duplicate name") } as const;

/**
 * A route's words in the document. A tenant route and its admin twin share one definition and
 * differ only in these, their security and their tags.
 */
export type RouteText = { summary: string; description?: string };

/** OpenAPI security requirement for tenant credentials. */
export const tenantSecurity: Record<string, string[]>[] = [{ bearerAuth: [] }, { apiKeyHeader: [] }];
export const adminSecurity: Record<string, string[]>[] = [{ adminToken: [] }];

export const jsonBody = <T extends z.ZodType>(schema: T, required = true) => ({
  body: { content: { "application/json": { schema } }, required },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const listOf = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), nextCursor: z.string().nullable() });

export const idParam = (prefix: string) =>
  z.object({
    id: z
      .string()
      .min(1)
      .max(64)
      .openapi({ param: { name: "id", in: "path" }, example: `${prefix}_3kT9xQ...` }),
  });

export const toIso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);
