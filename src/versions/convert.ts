import { applyJsonPatch, type PatchOp } from "../lib/json-patch";

/**
 * Payload versions, as pure functions: which version a subscription gets,
 * and a payload turned from the version it was published at into an older
 * one. A type's versions are dates (YYYY-MM-DD), oldest first; each one's
 * `downgrade` turns its payload into the previous version's.
 */

export type TypeVersion = { version: string; downgrade: readonly PatchOp[] | null };

/** A calendar date, YYYY-MM-DD (2026-02-30 is not one). */
export function isVersionDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const at = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 10) === value;
}

/**
 * The version a subscription pinned at `pin` receives of a type with these
 * versions (oldest first): the newest at or before the pin; the first when
 * the pin is older than all of them or null (a subscription made before the
 * type had versions keeps the shape it had). Null for an unversioned type.
 */
export function resolveVersion(versions: readonly string[], pin: string | null): string | null {
  if (versions.length === 0) return null;
  let chosen = versions[0] as string;
  if (pin === null) return chosen;
  for (const v of versions) if (v <= pin) chosen = v;
  return chosen;
}

export type Conversion =
  | { ok: true; data: unknown; version: string | null }
  | { ok: false; version: string; index: number; message: string };

/**
 * `data`, published at version `from`, as a receiver pinned at `to` gets it:
 * each newer version's `downgrade` applied in turn, newest first. An older
 * payload is never upgraded (a target newer than `from` gets it as published,
 * and says so). The first patch that does not apply ends it: which version's,
 * which operation, and why; nothing half-converted comes out.
 */
export function convertPayload(data: unknown, versions: readonly TypeVersion[], from: string | null, pin: string | null): Conversion {
  const names = versions.map((v) => v.version);
  const fromAt = from === null ? -1 : names.lastIndexOf(resolveVersion(names, from) ?? "");
  // Published before the type had versions: delivered as it is, as it always was.
  if (fromAt < 0) return { ok: true, data, version: null };
  const toAt = names.indexOf(resolveVersion(names, pin) ?? "");
  let current = data;
  for (let i = fromAt; i > toAt; i--) {
    const step = versions[i] as TypeVersion;
    const applied = applyJsonPatch(current, step.downgrade ?? []);
    if (!applied.ok) return { ok: false, version: step.version, index: applied.index, message: applied.message };
    current = applied.result;
  }
  return { ok: true, data: current, version: names[Math.min(fromAt, Math.max(toAt, 0))] ?? from };
}
