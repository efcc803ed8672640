import type { Db } from "../db/client";
import { getKey } from "../db/keys";
import { getClient } from "../db/oauth-clients";
import type { OperatorLocks } from "../db/schema";
import { ForbiddenError } from "../lib/errors";
import type { Caller } from "./caller";

export const LOCKABLE = ["ipAllowlist", "expiresAt"] as const;
export type Lockable = (typeof LOCKABLE)[number];

/**
 * The operator's locks on the calling credential (none for the operator), read
 * from D1: writes only, never the hot path. What the caller creates or
 * rotates inherits them.
 */
export async function callerLocks(db: Db, caller: Caller): Promise<OperatorLocks | null> {
  if ("operator" in caller) return null;
  const p = caller.principal;
  const row =
    p.credentialType === "oauth_client" ? await getClient(db, p.tenant.id, p.credentialId) : await getKey(db, p.tenant.id, p.credentialId);
  return row?.lockedBy ?? null;
}

/** Both sets of locks; null when neither holds one. */
export function mergeLocks(a: OperatorLocks | null | undefined, b: OperatorLocks | null | undefined): OperatorLocks | null {
  const merged: OperatorLocks = { ...a, ...b };
  return Object.keys(merged).length > 0 ? merged : null;
}

/** 403 `operator_locked` when a tenant's change touches a field the operator locked. */
export function assertUnlocked(caller: Caller, locks: OperatorLocks | null | undefined, change: Partial<Record<Lockable, unknown>>): void {
  if ("operator" in caller || !locks) return;
  for (const field of LOCKABLE) {
    if (change[field] !== undefined && locks[field]) {
      throw new ForbiddenError("operator_locked", `${field} was set by the operator and cannot be changed; contact your account manager`, {
        field,
      });
    }
  }
}

/**
 * The locks after an operator's change: a field set to a value is locked at
 * it, a field set to null is cleared and unlocked, a field left out keeps
 * its lock.
 */
export function locksAfter(current: OperatorLocks | null | undefined, change: Partial<Record<Lockable, unknown>>): OperatorLocks | null {
  const next: OperatorLocks = { ...current };
  for (const field of LOCKABLE) {
    if (change[field] === null) delete next[field];
    else if (change[field] !== undefined) next[field] = "operator";
  }
  return Object.keys(next).length > 0 ? next : null;
}
