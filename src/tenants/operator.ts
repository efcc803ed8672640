import type { TenantRow } from "../db/tenants";

/**
 * The operator's own resources (its event catalog, its endpoints, its audit
 * log) are stored under this owner id, beside the tenants' (whose ids all
 * start with `ten_`, so none can be mistaken for it).
 */
export const OPERATOR_ID = "operator";

/**
 * The operator as the owner of resources, so the operations written for a
 * tenant's webhooks and event types serve the operator's too. Its quotas
 * bound only what it owns itself.
 */
export const OPERATOR_TENANT: TenantRow = {
  id: OPERATOR_ID,
  name: "Operator",
  quotas: { apiKeys: 0, oauthClients: 0, webhooks: 100, sources: 0, eventTypes: 1000 },
  apiAccess: true,
  rateLimits: null,
  retrySchedule: null,
  breakerThreshold: null,
  portalOrigins: null,
  // Its test sends are logged in its own data shard; its deliveries live with each tenant's events.
  dataShards: 1,
  maxDataShards: 1,
  shardHistory: null,
  limitMode: "exact",
  createdAt: new Date(0),
  updatedAt: new Date(0),
};

export const isOperator = (ownerId: string) => ownerId === OPERATOR_ID;

/**
 * The audit action for a change to a resource of `ownerId`: the operator's
 * own resources log `operator_<action>` (`operator_webhook.created`), so its
 * log tells them apart from what it does to a tenant's.
 */
export const ownedAction = (ownerId: string, action: string) => (isOperator(ownerId) ? `operator_${action}` : action);
