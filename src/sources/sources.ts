import type { TenantOp } from "../auth/caller";
import { auditStatement } from "../db/audit";
import { changes, createDb, isUniqueViolation, runBatch } from "../db/client";
import type { Cursor, Page } from "../db/cursor";
import { liveEventTypes } from "../db/event-types";
import type { SourceDedupe, SourceResponse, SourceVerification, VerificationScheme } from "../db/schema";
import {
  getSource,
  insertSourceUnderQuota,
  listSources,
  type SourcePatch,
  type SourceRow,
  sourceExists,
  updateSource,
} from "../db/sources";
import { newId, randomBase62, sha256Hex } from "../lib/crypto";
import { ConflictError, type FieldError, NotFoundError, QuotaExceededError, ValidationError } from "../lib/errors";
import { decryptSecret, encryptSecret } from "../lib/secret-box";
import { isTemplate, templateProblems } from "./mapping";
import type { VerificationSecrets } from "./signatures";
import { forgetSource } from "./source-cache";

export const DEFAULT_SOURCE_RATE_LIMIT = 600;
export const MAX_TOKEN_GRACE_SECONDS = 7 * 86_400;

export type VerificationInput = SourceVerification & VerificationSecrets & { scheme: VerificationScheme; password?: string };

export type SourceInput = {
  name: string;
  eventType: string;
  verification?: VerificationInput | null;
  mapping?: unknown;
  orderingKey?: string | null;
  dedupe?: SourceDedupe | null;
  response?: SourceResponse | null;
  rateLimit?: number;
  isEnabled?: boolean;
};

/** The URL a tenant pastes into the sender's dashboard. */
export const sourceUrl = (origin: string, id: string, token: string) => `${origin}/in/${id}/${token}`;

/** A new URL token: 40 base62 characters (~238 bits), stored as SHA-256 only. */
async function newToken(): Promise<{ token: string; tokenHash: string }> {
  const token = randomBase62(40);
  return { token, tokenHash: await sha256Hex(token) };
}

const MIN_HINTED_SECRET = 12;

/** The verification as stored: settings in clear, secrets sealed (bound to the source's id), and their last 4. */
async function sealVerification(secretsKey: string, sourceId: string, v: VerificationInput | null | undefined) {
  if (!v) return { verification: null, secretEnc: null, secretLast4: null };
  const { secret, password, verifyToken, ...settings } = v;
  const secrets: VerificationSecrets = { ...(secret && { secret }), ...(password && { password }), ...(verifyToken && { verifyToken }) };
  const shown = secret ?? password ?? "";
  return {
    verification: settings,
    secretEnc: await encryptSecret(secretsKey, JSON.stringify(secrets), sourceId),
    // The last 4 characters only of a secret long enough that they do not give it away.
    secretLast4: shown.length >= MIN_HINTED_SECRET ? shown.slice(-4) : null,
  };
}

/** The event type (a catalog name, or a template resolved per request) and the mapping's placeholders. */
async function assertUsable(op: TenantOp, input: Pick<SourceInput, "eventType" | "mapping" | "orderingKey">): Promise<void> {
  const errors: FieldError[] = [];
  if (input.eventType !== undefined) {
    if (isTemplate(input.eventType)) errors.push(...templateProblems(input.eventType, "eventType"));
    else {
      const names = (await liveEventTypes(createDb(op.env.DB), [op.tenant.id])).map((t) => t.name);
      if (!names.includes(input.eventType)) {
        errors.push({ path: "eventType", message: `${input.eventType} is not in the event catalog`, allowed: names.slice(0, 100) });
      }
    }
  }
  if (input.mapping !== undefined) errors.push(...templateProblems(input.mapping, "mapping"));
  if (typeof input.orderingKey === "string") errors.push(...templateProblems(input.orderingKey, "orderingKey"));
  if (errors.length > 0) throw new ValidationError(errors);
}

/** Creates a source in the caller's mode within the `sources` quota (counted within the mode), its name unique in the mode; the token is shown once. */
export async function createSource(
  op: TenantOp,
  origin: string,
  input: SourceInput,
): Promise<{ row: SourceRow; token: string; url: string }> {
  const db = createDb(op.env.DB);
  await assertUsable(op, input);
  const id = newId("src");
  const { token, tokenHash } = await newToken();
  const now = new Date();
  const row: SourceRow = {
    id,
    tenantId: op.tenant.id,
    mode: op.mode,
    name: input.name,
    eventType: input.eventType,
    ...(await sealVerification(op.config.secretsKey, id, input.verification)),
    mapping: input.mapping ?? null,
    orderingKey: input.orderingKey ?? null,
    dedupe: input.dedupe ?? null,
    response: input.response ?? null,
    rateLimit: input.rateLimit ?? DEFAULT_SOURCE_RATE_LIMIT,
    isEnabled: input.isEnabled ?? true,
    tokenHash,
    previousTokenHash: null,
    previousTokenExpiresAt: null,
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
  };
  const quota = op.tenant.quotas.sources;
  let inserted: unknown;
  try {
    [inserted] = await runBatch(db, [
      insertSourceUnderQuota(db, row, quota),
      auditStatement(
        db,
        op.who,
        { action: "source.created", target: id, details: { name: row.name, scheme: row.verification?.scheme ?? null } },
        sourceExists(id),
      ),
    ]);
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicateName(input.name);
    throw err;
  }
  if (changes(inserted) !== 1) throw new QuotaExceededError("sources", quota, "sources");
  // Should this isolate remember the id as unknown, the new URL works at once.
  forgetSource(id);
  return { row, token, url: sourceUrl(origin, id, token) };
}

const duplicateName = (name: string) => new ConflictError("duplicate_name", `A source named "${name}" already exists`);

/** A page of the tenant's sources of the caller's mode. */
export async function listTenantSources(
  op: Pick<TenantOp, "env" | "tenant" | "mode">,
  limit: number,
  after?: Cursor,
): Promise<Page<SourceRow>> {
  return listSources(createDb(op.env.DB), op.tenant.id, op.mode, limit, after);
}

/** A live source of the tenant, or 404 (another tenant's id too). */
export async function findSource(op: Pick<TenantOp, "env" | "tenant" | "mode">, id: string): Promise<SourceRow> {
  const row = await getSource(createDb(op.env.DB), op.tenant.id, op.mode, id);
  if (!row) throw new NotFoundError("Source");
  return row;
}

/** The secret fields each scheme cannot work without. */
const REQUIRED_SECRETS: Partial<Record<VerificationScheme, (keyof VerificationSecrets)[]>> = {
  basic: ["password"],
  meta: ["secret", "verifyToken"],
};
const requiredSecrets = (scheme: VerificationScheme) => REQUIRED_SECRETS[scheme] ?? ["secret"];

/**
 * A PATCHed verification with the secret fields it leaves out taken from the
 * stored ones, when the scheme stays the same; another scheme must bring its
 * own (else 422: an empty secret would let anyone sign).
 */
async function withStoredSecrets(op: TenantOp, row: SourceRow, v: VerificationInput | null): Promise<VerificationInput | null> {
  if (!v) return null;
  const stored: VerificationSecrets =
    row.verification?.scheme === v.scheme && row.secretEnc
      ? JSON.parse(await decryptSecret(op.config.secretsKey, row.secretEnc, row.id))
      : {};
  const merged: VerificationInput = { ...v };
  for (const field of ["secret", "password", "verifyToken"] as const) {
    if (!merged[field] && stored[field]) merged[field] = stored[field];
  }
  const missing = requiredSecrets(v.scheme).filter((field) => !merged[field]);
  if (missing.length > 0) {
    throw new ValidationError(
      missing.map((field) => ({ path: `verification.${field}`, message: `is required for the ${v.scheme} scheme` })),
    );
  }
  return merged;
}

/**
 * Any field but the token. A new `verification` replaces the old one; with
 * the same scheme, a secret field it leaves out keeps its stored value.
 */
export async function changeSource(op: TenantOp, id: string, patch: Partial<SourceInput>): Promise<SourceRow> {
  const db = createDb(op.env.DB);
  const row = await findSource(op, id);
  await assertUsable(op, { eventType: patch.eventType as string, mapping: patch.mapping, orderingKey: patch.orderingKey });
  const set: SourcePatch = {};
  for (const key of ["name", "eventType", "mapping", "orderingKey", "dedupe", "response", "rateLimit", "isEnabled"] as const) {
    if (patch[key] !== undefined) (set as Record<string, unknown>)[key] = patch[key];
  }
  if (patch.verification !== undefined) {
    Object.assign(set, await sealVerification(op.config.secretsKey, id, await withStoredSecrets(op, row, patch.verification)));
  }
  if (Object.keys(set).length === 0) return row;
  set.updatedAt = new Date();
  try {
    await runBatch(db, [
      updateSource(db, op.tenant.id, id, set),
      auditStatement(db, op.who, {
        action: "source.updated",
        target: id,
        details: { fields: Object.keys(set).filter((k) => !["updatedAt", "secretEnc", "secretLast4"].includes(k)) },
      }),
    ]);
  } catch (err) {
    if (isUniqueViolation(err) && patch.name) throw duplicateName(patch.name);
    throw err;
  }
  forgetSource(id);
  return { ...row, ...set };
}

export async function deleteSource(op: TenantOp, id: string): Promise<void> {
  const db = createDb(op.env.DB);
  const row = await findSource(op, id);
  const now = new Date();
  await runBatch(db, [
    updateSource(db, op.tenant.id, id, { deletedAt: now, isEnabled: false, updatedAt: now }),
    auditStatement(db, op.who, { action: "source.deleted", target: id, details: { name: row.name } }),
  ]);
  forgetSource(id);
}

/** A new URL; the old one keeps working for `graceSeconds` (0: it stops now). */
export async function rotateSourceToken(
  op: TenantOp,
  origin: string,
  id: string,
  graceSeconds: number,
): Promise<{ token: string; url: string }> {
  const db = createDb(op.env.DB);
  const row = await findSource(op, id);
  const { token, tokenHash } = await newToken();
  const expires = graceSeconds > 0 ? new Date(Date.now() + graceSeconds * 1000) : null;
  await runBatch(db, [
    updateSource(db, op.tenant.id, id, {
      tokenHash,
      previousTokenHash: expires ? row.tokenHash : null,
      previousTokenExpiresAt: expires,
      updatedAt: new Date(),
    }),
    auditStatement(db, op.who, { action: "source.token_rotated", target: id, details: { graceSeconds } }),
  ]);
  forgetSource(id);
  return { token, url: sourceUrl(origin, id, token) };
}
