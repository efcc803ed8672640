/**
 * The operator console's lists (the `/admin` half of the API), one page at a time, for `useList`.
 */
import { DELIVERY_STATUSES, type Mode } from "../../common/enums";
import { type Delivery, hookgate, unwrap } from "./api";
import type { PageLoader } from "./hooks";

type KeyStatus = "active" | "revoked" | "expired" | "all";
const KEY_STATUSES: readonly string[] = ["active", "revoked", "expired", "all"] satisfies KeyStatus[];
const STATUSES: readonly string[] = DELIVERY_STATUSES satisfies readonly Delivery["status"][];
const isDeliveryStatus = (s: string): s is Delivery["status"] => STATUSES.includes(s);
const isKeyStatus = (s: string): s is KeyStatus => KEY_STATUSES.includes(s);

export const operatorPages = {
  /** Tenants, oldest first; `search` is part of a name or a whole id (empty: every tenant). */
  tenants: (limit: number, search: string) => (cursor?: string) =>
    unwrap(hookgate().GET("/admin/tenants", { params: { query: { limit, cursor, ...(search && { search }) } } })),
  keys: (tenantId: string, limit: number, filter: { status: string; name: string; last4: string }) => (cursor?: string) =>
    unwrap(
      hookgate().GET("/admin/tenants/{tenantId}/keys", {
        params: {
          path: { tenantId },
          query: {
            limit,
            cursor,
            ...(isKeyStatus(filter.status) && { status: filter.status }),
            ...(filter.name && { name: filter.name }),
            ...(filter.last4 && { last4: filter.last4 }),
          },
        },
      }),
    ),
  /** A tenant's webhooks of one mode. */
  webhooks: (tenantId: string, limit: number, mode: Mode) => (cursor?: string) =>
    unwrap(hookgate().GET("/admin/tenants/{tenantId}/webhooks", { params: { path: { tenantId }, query: { limit, cursor, mode } } })),
  /** A tenant's deliveries of one mode, newest first; an empty status is no filter. */
  deliveries: (tenantId: string, limit: number, status: string, mode: Mode) => (cursor?: string) =>
    unwrap(
      hookgate().GET("/admin/tenants/{tenantId}/deliveries", {
        params: { path: { tenantId }, query: { limit, cursor, mode, ...(isDeliveryStatus(status) && { status }) } },
      }),
    ),
  auditLog: (tenantId: string, limit: number) => (cursor?: string) =>
    unwrap(hookgate().GET("/admin/tenants/{tenantId}/audit-log", { params: { path: { tenantId }, query: { limit, cursor } } })),
  eventCatalog: (limit: number) => (cursor?: string) =>
    unwrap(hookgate().GET("/admin/event-types", { params: { query: { limit, cursor } } })),
  endpoints: (limit: number) => (cursor?: string) => unwrap(hookgate().GET("/admin/webhooks", { params: { query: { limit, cursor } } })),
  /** The operator's audit log, newest first; an empty action is no filter. */
  operatorAudit: (limit: number, action: string) => (cursor?: string) =>
    unwrap(hookgate().GET("/admin/audit-log", { params: { query: { limit, cursor, ...(action && { action }) } } })),
} satisfies Record<string, (...args: never[]) => PageLoader<unknown>>;
