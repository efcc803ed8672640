import { z } from "@hono/zod-openapi";
import { ModeSchema } from "./schemas";

/**
 * `?mode=` on the operator's routes about a tenant's data: which of the
 * tenant's modes to read, change or publish into (a tenant's own
 * credential always acts in its own mode, and takes no such parameter).
 */
export const ModeQuery = z.object({
  mode: ModeSchema.default("live").openapi({
    description: "The tenant's mode to act in: `live` (default) or `test`",
    example: "test",
  }),
});
