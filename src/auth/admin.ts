import type { MiddlewareHandler } from "hono";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/context";
import { constantTimeEqual } from "../lib/crypto";

/** Operator API guard: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. */
export const requireAdmin = (): MiddlewareHandler<AppEnv> =>
  async function adminMiddleware(c, next) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "");
    if (!match) throw new ApiError("unauthorized", "Send the operator token in Authorization: Bearer <ADMIN_TOKEN>");
    if (!(await constantTimeEqual(match[1]!, c.get("config").adminToken))) {
      throw new ApiError("invalid_credential", "The operator token is not valid");
    }
    await next();
  };
