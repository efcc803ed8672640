import type { CredentialPolicy } from "../ratelimit/policy";

/**
 * A portal link the operator makes for a tenant starts sessions that act as
 * no key of the tenant's: they act as this credential of the tenant's own,
 * which has no secret, never expires and holds no restriction, so the
 * session's scopes are the link's. Its id is what the tenant's audit log
 * shows for what is done in such a session, and its object keeps those
 * sessions live and counts their rate limit.
 */
export const operatorPortalCredential = (tenantId: string) => `opr_${tenantId.replace(/^ten_/, "")}`;

export const isOperatorPortalCredential = (credentialId: string) => credentialId.startsWith("opr_");

export const OPERATOR_PORTAL_POLICY: CredentialPolicy = { revokedAt: null, expiresAt: null, ipAllowlist: null };
