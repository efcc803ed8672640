import type { BatchItem } from "drizzle-orm/batch";
import type { Mode } from "../common/enums";
import { type AuditEntry, auditStatement } from "../db/audit";
import { changes, createDb, type Db } from "../db/client";
import type { Cursor, Page } from "../db/cursor";
import {
  type ApiKeyPatch,
  type ApiKeyRow,
  claimRotation,
  getKey,
  insertKeyUnderQuota,
  keyExists,
  listKeys,
  predecessorInGrace,
  releaseRotation,
  updateKey,
} from "../db/keys";
import type { OperatorLocks, RateLimits } from "../db/schema";
import { newId, sha256Hex } from "../lib/crypto";
import { ConflictError, NotFoundError, QuotaExceededError } from "../lib/errors";
import { credentialGate } from "../objects";
import { assertKnownScopes, productScopeNames } from "../operator/scopes";
import type { CredentialPolicy } from "../ratelimit/policy";
import { forgetKey } from "./cache";
import { callerMode, type TenantOp } from "./caller";
import { applyCredentialChange, subjectOf } from "./credential-change";
import { generateApiKey } from "./key-format";
import { assertUnlocked, callerLocks, mergeLocks } from "./operator-locks";
import { assertCanHandOn, assertWithinCeiling } from "./restrictions";

export type NewKeyInput = {
  name: string;
  scopes: string[];
  expiresAt?: Date | null;
  ipAllowlist?: string[] | null;
  rateLimits?: RateLimits | null;
  /** Default: the calling credential's mode (`live` for the operator). */
  mode?: Mode;
};

export type IssuedKey = { row: ApiKeyRow; key: string };

/**
 * Mints a static key within the tenant's `apiKeys` quota, recording
 * `key.created` in the same batch. Returns the stored row and the key
 * itself, which exists nowhere else after this call.
 */
export async function issueApiKey(ctx: TenantOp, input: NewKeyInput): Promise<IssuedKey> {
  const db = createDb(ctx.env.DB);
  const product = await productScopeNames(ctx.env.DB);
  assertKnownScopes(input.scopes, product);
  const mode = input.mode ?? callerMode(ctx.caller) ?? "live";
  await assertCanHandOn(
    db,
    ctx.caller,
    {
      scopes: input.scopes,
      expiresAt: input.expiresAt ?? null,
      ipAllowlist: input.ipAllowlist ?? null,
      mode,
    },
    product,
  );
  assertWithinCeiling(input.rateLimits, ctx.tenant.rateLimits);
  // A key made by a key the operator locked is locked the same way.
  const lockedBy = await callerLocks(db, ctx.caller);
  const issued = await mintKey(ctx.config.keyPrefix, ctx.tenant.id, newId("key"), { ...input, mode, lockedBy }, ctx.who.actor);
  const [inserted] = await db.batch([
    insertKeyUnderQuota(db, issued.row, ctx.tenant.quotas.apiKeys),
    auditStatement(db, ctx.who, createdEntry(issued.row), keyExists(issued.row.id)),
  ]);
  if (changes(inserted) !== 1) throw keyQuotaExceeded(ctx, mode);
  // Its object learns it now, not at first use: a key never used turns dormant counted from its creation.
  await publishKeyPolicy(ctx.env, issued.row);
  return issued;
}

/** Each mode has its own `apiKeys` quota, the same number. */
const keyQuotaExceeded = (ctx: Pick<TenantOp, "tenant">, mode: Mode) =>
  new QuotaExceededError("apiKeys", ctx.tenant.quotas.apiKeys, mode === "test" ? "test mode API keys" : "API keys");

/** A page of the tenant's keys: the caller's mode's (the operator's `mode`, or both). */
export async function listApiKeys(
  ctx: Pick<TenantOp, "env" | "tenant" | "caller">,
  limit: number,
  after?: Cursor,
  mode: Mode | null = callerMode(ctx.caller),
): Promise<Page<ApiKeyRow>> {
  return listKeys(createDb(ctx.env.DB), ctx.tenant.id, mode, limit, after);
}

/** A live key of the tenant in the caller's mode, or 404 (another tenant's or mode's id too). */
export async function findApiKey(ctx: Pick<TenantOp, "env" | "tenant" | "caller">, id: string): Promise<ApiKeyRow> {
  const key = await getKey(createDb(ctx.env.DB), ctx.tenant.id, id, callerMode(ctx.caller));
  if (!key) throw new NotFoundError("API key");
  return key;
}

/**
 * Name, expiry and allowlist. The caller must hold every scope of the key
 * and may not loosen it past its own restrictions (403).
 */
export async function updateApiKey(
  ctx: TenantOp,
  id: string,
  patch: Pick<ApiKeyPatch, "name" | "expiresAt" | "ipAllowlist">,
): Promise<ApiKeyRow> {
  const db = createDb(ctx.env.DB);
  const key = await findApiKey(ctx, id);
  assertUnlocked(ctx.caller, key.lockedBy, patch);
  await assertCanHandOn(
    db,
    ctx.caller,
    { scopes: key.scopes, expiresAt: patch.expiresAt, ipAllowlist: patch.ipAllowlist },
    await productScopeNames(ctx.env.DB),
  );
  const set = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as ApiKeyPatch;
  if (Object.keys(set).length === 0) return key;
  const next = { ...key, ...set };
  await applyKeyChange(ctx, db, next, [updateKey(db, ctx.tenant.id, id, set)], {
    action: "key.updated",
    target: id,
    details: { fields: Object.keys(set) },
  });
  return next;
}

/** Revokes at once: the very next request with the key is refused, in every isolate. */
export async function revokeApiKey(ctx: TenantOp, id: string): Promise<void> {
  const db = createDb(ctx.env.DB);
  const key = await findApiKey(ctx, id);
  const revokedAt = new Date();
  await applyKeyChange(ctx, db, { ...key, revokedAt }, [updateKey(db, ctx.tenant.id, id, { revokedAt })], {
    action: "key.revoked",
    target: id,
    details: { name: key.name },
  });
}

/**
 * A new key with the old one's name, scopes, allowlist and limits; the old
 * one works for `graceSeconds` more. A predecessor of the old key still in
 * its own grace period stops now, so a chain never holds two keys in grace.
 */
export async function rotateApiKey(ctx: TenantOp, id: string, graceSeconds: number): Promise<IssuedKey> {
  const db = createDb(ctx.env.DB);
  const old = await findApiKey(ctx, id);
  // The caller receives the new key's secret: it must be a key the caller could have created.
  await assertCanHandOn(
    db,
    ctx.caller,
    { scopes: old.scopes, expiresAt: old.expiresAt, ipAllowlist: old.ipAllowlist },
    await productScopeNames(ctx.env.DB),
  );
  const issued = await mintKey(
    ctx.config.keyPrefix,
    ctx.tenant.id,
    newId("key"),
    {
      name: old.name,
      scopes: old.scopes,
      expiresAt: old.expiresAt,
      ipAllowlist: old.ipAllowlist,
      rateLimits: old.rateLimits,
      mode: old.mode,
      lockedBy: mergeLocks(old.lockedBy, await callerLocks(db, ctx.caller)),
    },
    ctx.who.actor,
  );
  const revokedAt = new Date(Date.now() + graceSeconds * 1000);
  // Claim the old key first: it stops counting against the quota, and a concurrent rotation of it loses.
  if (changes(await claimRotation(db, ctx.tenant.id, id, issued.row.id, revokedAt).run()) !== 1) {
    throw new ConflictError("conflict", "This key has already been rotated");
  }
  const predecessor = await predecessorInGrace(db, ctx.tenant.id, id);
  const [inserted] = await db.batch([
    insertKeyUnderQuota(db, issued.row, ctx.tenant.quotas.apiKeys),
    auditStatement(
      db,
      ctx.who,
      { action: "key.rotated", target: id, details: { newKeyId: issued.row.id, graceSeconds } },
      keyExists(issued.row.id),
    ),
  ]);
  if (changes(inserted) !== 1) {
    await releaseRotation(db, ctx.tenant.id, id).run();
    throw keyQuotaExceeded(ctx, old.mode);
  }
  await publishKeyPolicy(ctx.env, issued.row);
  await publishKeyPolicy(ctx.env, { ...old, revokedAt });
  if (predecessor) {
    const now = new Date();
    await applyKeyChange(ctx, db, { ...predecessor, revokedAt: now }, [updateKey(db, ctx.tenant.id, predecessor.id, { revokedAt: now })], {
      action: "key.revoked",
      target: predecessor.id,
      details: { name: predecessor.name, reason: "rotation_chain" },
    });
  }
  return issued;
}

async function mintKey(
  prefix: string,
  tenantId: string,
  id: string,
  input: NewKeyInput & { mode: Mode; lockedBy: OperatorLocks | null },
  createdBy: string,
): Promise<IssuedKey> {
  const key = generateApiKey(prefix, tenantId, input.mode);
  const row: ApiKeyRow = {
    id,
    tenantId,
    name: input.name,
    hash: await sha256Hex(key),
    start: key.slice(0, 12),
    last4: key.slice(-4),
    mode: input.mode,
    scopes: input.scopes,
    ipAllowlist: input.ipAllowlist ?? null,
    rateLimits: input.rateLimits ?? null,
    expiresAt: input.expiresAt ?? null,
    revokedAt: null,
    rotatedToId: null,
    lockedBy: input.lockedBy,
    lastUsedAt: null,
    createdBy,
    createdAt: new Date(),
  };
  return { row, key };
}

const createdEntry = (row: ApiKeyRow) => ({
  action: "key.created",
  target: row.id,
  details: { name: row.name, scopes: row.scopes, mode: row.mode },
});

/** A change to a key's live state (see `applyCredentialChange`), then this isolate's cache forgets it. */
export async function applyKeyChange(
  ctx: Pick<TenantOp, "env" | "who">,
  db: Db,
  next: ApiKeyRow,
  statements: BatchItem<"sqlite">[],
  audit: AuditEntry,
): Promise<void> {
  await applyCredentialChange(ctx.env, db, ctx.who, {
    credentialId: next.id,
    policy: keyPolicy(next),
    subject: subjectOf(next),
    statements,
    audit,
  });
  forgetKey(next.id);
}

export function keyPolicy(k: Pick<ApiKeyRow, "revokedAt" | "expiresAt" | "ipAllowlist">): CredentialPolicy {
  return {
    revokedAt: k.revokedAt?.getTime() ?? null,
    expiresAt: k.expiresAt?.getTime() ?? null,
    ipAllowlist: k.ipAllowlist,
  };
}

export async function publishKeyPolicy(env: Env, key: ApiKeyRow): Promise<void> {
  await credentialGate(env, key.id).setPolicy(key.id, keyPolicy(key), subjectOf(key));
  forgetKey(key.id);
}
