/**
 * The lists the page shows, one page at a time: each returns a `PageLoader` for `useList`, whose
 * key is the list's path and filters (a new key starts the list again).
 */
import { DELIVERY_STATUSES } from "../../common/enums";
import { type Delivery, hookgate, unwrap } from "./api";
import type { PageLoader } from "./hooks";

type Status = Delivery["status"];
const STATUSES: readonly string[] = DELIVERY_STATUSES satisfies readonly Status[];
const isStatus = (s: string): s is Status => STATUSES.includes(s);

export const pages = {
  /** Keys, oldest first: the live ones, or those of one `status` ("revoked", "all"). */
  keys: (limit: number, status?: "revoked" | "all") => (cursor?: string) =>
    unwrap(hookgate().GET("/v1/keys", { params: { query: { limit, cursor, ...(status && { status }) } } })),
  oauthClients: (limit: number) => (cursor?: string) =>
    unwrap(hookgate().GET("/v1/oauth-clients", { params: { query: { limit, cursor } } })),
  webhooks: (limit: number) => (cursor?: string) => unwrap(hookgate().GET("/v1/webhooks", { params: { query: { limit, cursor } } })),
  eventTypes: (limit: number) => (cursor?: string) => unwrap(hookgate().GET("/v1/event-types", { params: { query: { limit, cursor } } })),
  sources: (limit: number) => (cursor?: string) => unwrap(hookgate().GET("/v1/sources", { params: { query: { limit, cursor } } })),
  sourceRequests: (id: string, limit: number) => (cursor?: string) =>
    unwrap(hookgate().GET("/v1/sources/{id}/requests", { params: { path: { id }, query: { limit, cursor } } })),
  auditLog: (limit: number) => (cursor?: string) => unwrap(hookgate().GET("/v1/audit-log", { params: { query: { limit, cursor } } })),
  /** Deliveries, newest first; an empty filter is no filter. */
  deliveries: (limit: number, filter: { status: string; eventType: string; webhookId?: string }) => (cursor?: string) =>
    unwrap(
      hookgate().GET("/v1/deliveries", {
        params: {
          query: {
            limit,
            cursor,
            ...(isStatus(filter.status) && { status: filter.status }),
            ...(filter.eventType && { eventType: filter.eventType }),
            ...(filter.webhookId && { webhookId: filter.webhookId }),
          },
        },
      }),
    ),
} satisfies Record<string, (...args: never[]) => PageLoader<unknown>>;
