import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { TenantOp } from "../auth/caller";
import type { TypeVersionRow } from "../db/event-type-versions";
import { addTypeVersion } from "../events/type-versions";
import type { AppEnv } from "../http/context";
import { type createRouter, errorResponses, jsonBody, jsonResponse } from "../http/openapi";
import { PATCH_OPS } from "../lib/json-patch";

const PatchOperationSchema = z
  .object({
    op: z.enum(PATCH_OPS),
    path: z.string().max(1024).openapi({ description: "A JSON Pointer into the event's `data`", example: "/customer_id" }),
    from: z.string().max(1024).optional().openapi({ description: "move and copy: where the value comes from" }),
    value: z.unknown().optional().openapi({ description: "add, replace and test: the value" }),
  })
  .openapi("JsonPatchOperation");

const Downgrade = z
  .array(PatchOperationSchema)
  .max(100, "may hold at most 100 operations")
  .refine((ops) => JSON.stringify(ops).length <= 64 * 1024, "must be at most 64 KiB")
  .openapi({
    description:
      "RFC 6902 JSON Patch that turns this version's `data` into the previous version's. Checked when stored " +
      "(422 naming the operation). The first version has none.",
    example: [
      { op: "move", from: "/customer_id", path: "/customer" },
      { op: "remove", path: "/currency" },
    ],
  });

export const TypeVersionSchema = z
  .object({
    version: z.string().openapi({ example: "2026-06-01" }),
    schema: z.record(z.string(), z.unknown()).nullable(),
    downgrade: z.array(PatchOperationSchema).optional().openapi({ description: "Absent on the first version" }),
    createdAt: z.string(),
  })
  .openapi("EventTypeVersion");

export const serializeTypeVersion = (v: TypeVersionRow) => ({
  version: v.version,
  schema: v.schema ?? null,
  // The first version turns into nothing older: no `downgrade` at all.
  ...(v.downgrade ? { downgrade: v.downgrade } : {}),
  createdAt: v.createdAt.toISOString(),
});

const CreateVersionBody = z
  .strictObject({
    version: z.string().max(10).openapi({ description: "A date, YYYY-MM-DD, later than the type's newest version", example: "2026-06-01" }),
    schema: z
      .record(z.string(), z.unknown())
      .refine((schema) => JSON.stringify(schema).length <= 64 * 1024, "must be at most 64 KiB")
      .optional()
      .openapi({
        description:
          "JSON Schema of this version's `data`: published events are checked against the newest version's. The first " +
          "version keeps the type's schema when none is given; a later one without a schema leaves publishing unchecked.",
      }),
    downgrade: Downgrade.optional(),
  })
  .openapi("CreateEventTypeVersion");

const NameParam = z.object({
  name: z
    .string()
    .max(100)
    .openapi({ param: { name: "name", in: "path" }, example: "invoice.paid" }),
});

/** `POST /{name}/versions` beside a catalog's routes (a tenant's, or the operator's on its own types). */
export function mountTypeVersions(
  app: ReturnType<typeof createRouter>,
  security: Record<string, string[]>[],
  tags: string[],
  op: (c: Context<AppEnv>) => TenantOp,
) {
  const route = createRoute({
    method: "post",
    path: "/{name}/versions",
    tags,
    summary: "Add a payload version to an event type",
    description:
      "Versions are dates, oldest first; publishers send the newest. Each subscription receives the newest version at or " +
      "before its own `version`: its deliveries are downgraded through each newer version's `downgrade`, newest first. " +
      "A version not later than the newest: 422 (409 for the same date).",
    security,
    request: { params: NameParam, ...jsonBody(CreateVersionBody) },
    responses: { 201: jsonResponse(TypeVersionSchema, "The version, added"), ...errorResponses },
  });
  app.openapi(route, async (c) =>
    c.json(serializeTypeVersion(await addTypeVersion(op(c), c.req.valid("param").name, c.req.valid("json"))), 201),
  );
}
