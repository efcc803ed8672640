import { z } from "@hono/zod-openapi";
import { USAGE_GRANULARITIES, type UsagePoint } from "../common/usage";
import type { StoredRequestError } from "../data/request-log-sql";
import { parseStatusFilter, STATUS_FILTER_HELP } from "../monitoring/request-errors";
import { IsoTimeQuery } from "./schemas";

/** The schemas of usage series and the request-error log, shared by the tenant routes and their admin twins. */

export const UsageQuery = z.object({
  granularity: z
    .enum(USAGE_GRANULARITIES)
    .default("day")
    .openapi({ description: "`minute` (the last 60 minutes), `hour` (48 hours) or `day` (90 days)" }),
});

export const UsagePointSchema = z
  .object({
    start: z.string().openapi({ description: "The bucket's first instant (UTC)", example: "2026-12-06T09:00:00.000Z" }),
    total: z.number().int(),
    ok: z.number().int().openapi({ description: "2xx and 3xx answers" }),
    clientErrors: z.number().int().openapi({ description: "4xx answers but 429" }),
    rateLimited: z.number().int().openapi({ description: "429 answers" }),
    serverErrors: z.number().int().openapi({ description: "5xx answers" }),
  })
  .openapi("UsagePoint");

export const UsageSeriesSchema = z
  .object({ data: z.array(UsagePointSchema).openapi({ description: "Buckets with at least one request, newest first" }) })
  .openapi("UsageSeries");

export const USAGE_DESCRIPTION =
  "Every request made with the credential, Hookgate's API and the gateway alike: `ok` (2xx/3xx), `clientErrors` (4xx but 429), " +
  "`rateLimited` (429), `serverErrors` (5xx). `granularity`: `minute` (the last 60 minutes), `hour` (48 hours) or `day` (90 days, the default). " +
  "Counts are added up where requests are answered and written at least every 10 seconds.";

export const usageSeries = (data: UsagePoint[]) => ({ data });

export const RequestErrorSchema = z
  .object({
    requestId: z.string().openapi({ description: "The X-Request-Id the caller got" }),
    at: z.string(),
    credentialId: z.string(),
    credentialName: z.string().nullable(),
    method: z.string(),
    path: z.string().openapi({ description: "The path asked for (never its query string)" }),
    status: z.number().int(),
    code: z
      .string()
      .nullable()
      .openapi({ description: "The problem's `code`; null when the answer was not Hookgate's (a gateway origin's)" }),
    durationMs: z.number().int(),
    ip: z.string().nullable(),
  })
  .openapi("RequestError");

export const RequestErrorListSchema = z
  .object({
    data: z.array(RequestErrorSchema),
    nextCursor: z.string().nullable(),
    dropped: z.number().int().openapi({
      description:
        "Errors of the days this page looked at that were not kept: a flood past the log's bound per batch (they are still counted in usage)",
    }),
  })
  .openapi("RequestErrorList");

export const RequestErrorQuery = z.object({
  status: z
    .string()
    .max(64)
    .optional()
    .refine((s) => s === undefined || parseStatusFilter(s) !== null, STATUS_FILTER_HELP)
    .openapi({ description: "`4xx`, `5xx`, one status (`429`, `403`) or one error `code` (`insufficient_scope`)" }),
  credentialId: z.string().max(64).optional(),
  since: IsoTimeQuery.optional(),
  until: IsoTimeQuery.optional(),
});

export const RequestIdParam = z.object({
  requestId: z
    .string()
    .min(1)
    .max(128)
    .openapi({ param: { name: "requestId", in: "path" }, example: "req_8Kq2mWx0Lp3Rt5Yv7Bn9Cd" }),
});

export const serializeRequestError = (r: StoredRequestError) => ({
  requestId: r.requestId,
  at: new Date(r.at).toISOString(),
  credentialId: r.credentialId,
  credentialName: r.credentialName,
  method: r.method,
  path: r.path,
  status: r.status,
  code: r.code,
  durationMs: r.durationMs,
  ip: r.ip,
});
