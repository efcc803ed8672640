import type { TenantOp } from "../auth/caller";
import { auditStatement } from "../db/audit";
import { changes, createDb, runBatch } from "../db/client";
import type { Page } from "../db/cursor";
import {
  adoptNewestVersion,
  insertNewestVersion,
  type TypeVersionRow,
  versionsOfType,
  versionsOfTypes,
  versionWritten,
} from "../db/event-type-versions";
import type { EventTypePatch, EventTypeRow } from "../db/event-types";
import type { PatchOperation } from "../db/schema";
import { ConflictError, ValidationError } from "../lib/errors";
import { patchProblems } from "../lib/json-patch";
import { forgetTypeVersions } from "../versions/cache";
import { isVersionDate } from "../versions/convert";
import { forgetCatalog } from "./catalog-cache";
import {
  actionsOf,
  assertUsableSchema,
  changeEventType,
  createEventType,
  findEventType,
  findOwnLive,
  listCatalog,
  type NewEventType,
} from "./event-types";
import { HOOKGATE_OWNER } from "./operational-types";

/** A type can have at most this many versions (each one's patch runs on every older receiver's delivery). */
export const MAX_VERSIONS = 100;

export type NewTypeVersion = { version: string; schema?: Record<string, unknown>; downgrade?: PatchOperation[] };

/** A catalog type with its versions, oldest first (none: an unversioned type). */
export type EventTypeView = EventTypeRow & { versions: TypeVersionRow[] };

async function withVersions(op: Pick<TenantOp, "env">, rows: EventTypeRow[]): Promise<EventTypeView[]> {
  const stored = rows.filter((r) => r.tenantId !== HOOKGATE_OWNER);
  const versions = await versionsOfTypes(createDb(op.env.DB), stored);
  return rows.map((r) => ({ ...r, versions: versions.filter((v) => v.tenantId === r.tenantId && v.typeName === r.name) }));
}
const one = async (op: Pick<TenantOp, "env">, row: EventTypeRow) => (await withVersions(op, [row]))[0] as EventTypeView;

/** A type the caller sees, with its versions. */
export async function describeEventType(op: Pick<TenantOp, "env" | "tenant">, name: string): Promise<EventTypeView> {
  return one(op, await findEventType(op, name));
}

/** A page of the caller's catalog, each type with its versions. */
export async function listCatalogWithVersions(
  op: Pick<TenantOp, "env" | "tenant">,
  limit: number,
  opts: { afterName?: string; includeArchived: boolean },
): Promise<Page<EventTypeView>> {
  const page = await listCatalog(op, limit, opts);
  return { rows: await withVersions(op, page.rows), next: page.next };
}

/** Creates a type (an archived name brought back keeps the versions it had). */
export async function createEventTypeWithVersions(op: TenantOp, input: NewEventType): Promise<EventTypeView> {
  return one(op, await createEventType(op, input));
}

export async function changeEventTypeWithVersions(
  op: TenantOp,
  name: string,
  patch: Pick<EventTypePatch, "description" | "schema" | "deprecated">,
): Promise<EventTypeView> {
  return one(op, await changeEventType(op, name, patch));
}

/**
 * Adds a payload version to one of the caller's types. Versions are dates,
 * each later than the last. The first version describes the payloads the
 * type already has: it takes no `downgrade`, and keeps the type's schema
 * unless it gives one. Every later version's `downgrade` (RFC 6902) turns
 * its payloads into the previous version's, and is checked now (422 naming
 * the operation); its `schema` becomes what publishers are checked against
 * (none given: no schema). Publishers send the newest version from then on.
 */
export async function addTypeVersion(op: TenantOp, name: string, input: NewTypeVersion): Promise<TypeVersionRow> {
  const type = await findOwnLive(op, name);
  if (!isVersionDate(input.version)) {
    throw new ValidationError([{ path: "version", message: "must be a date, YYYY-MM-DD (e.g. 2026-06-01)" }]);
  }
  const db = createDb(op.env.DB);
  const existing = await versionsOfType(db, op.tenant.id, name);
  const newest = existing[existing.length - 1];
  assertFollows(name, input.version, newest?.version, existing.length);
  const downgrade = checkedDowngrade(input.downgrade, newest?.version);
  assertUsableSchema(input.schema);
  const schema = input.schema ?? (newest ? null : type.schema);
  const row: TypeVersionRow = { tenantId: op.tenant.id, typeName: name, version: input.version, schema, downgrade, createdAt: new Date() };
  const [inserted] = await runBatch(db, [
    insertNewestVersion(db, row),
    adoptNewestVersion(db, row, schema, row.createdAt),
    auditStatement(
      db,
      op.who,
      { action: actionsOf(op).versionAdded, target: name, details: { version: row.version } },
      versionWritten(row),
    ),
  ]);
  forgetCatalog(op.tenant.id);
  forgetTypeVersions(op.tenant.id);
  if (changes(inserted) !== 1) {
    // Another request added one meanwhile: answered as if it had come first.
    const now = await versionsOfType(db, op.tenant.id, name);
    assertFollows(name, input.version, now[now.length - 1]?.version, now.length);
  }
  return row;
}

function assertFollows(name: string, version: string, newest: string | undefined, count: number): void {
  if (newest === version) throw new ConflictError("duplicate_name", `${name} already has version ${version}`);
  if (newest !== undefined && version < newest) {
    throw new ValidationError([{ path: "version", message: `must be later than ${name}'s newest version, ${newest}` }]);
  }
  if (count >= MAX_VERSIONS)
    throw new ValidationError([{ path: "version", message: `${name} has ${MAX_VERSIONS} versions, the most a type can have` }]);
}

/** The first version has nothing older to turn into: no downgrade. Every later one must say how. */
function checkedDowngrade(downgrade: PatchOperation[] | undefined, previous: string | undefined): PatchOperation[] | null {
  if (previous === undefined) {
    if (downgrade !== undefined && downgrade.length > 0) {
      throw new ValidationError([{ path: "downgrade", message: "the first version has no older version to downgrade to; leave it out" }]);
    }
    return null;
  }
  if (downgrade === undefined) {
    throw new ValidationError([
      { path: "downgrade", message: `is required: a JSON Patch that turns this version's data into ${previous}'s` },
    ]);
  }
  const problems = patchProblems(downgrade, "downgrade");
  if (problems.length > 0) throw new ValidationError(problems);
  return downgrade;
}
