import { cachedTypeVersions } from "./cache";
import { convertPayload, resolveVersion } from "./convert";

/** An event as conversion needs it: whose, of which type, its parsed data, and the version it was published at. */
export type VersionedEvent = { tenantId: string; type: string; data: unknown; version?: string | null };

export type VersionedPayload = { ok: true; data: unknown; version: string | null } | { ok: false; detail: string };

/**
 * The event's data as a receiver pinned at `pin` gets it (a subscription's
 * `version`, or a poller's `?version=`), with the version it then is. An
 * event published before its type had versions comes as it is (version
 * null). A patch that does not apply answers why, naming the version and
 * the operation, never the data.
 */
export async function payloadAtVersion(env: Pick<Env, "DB">, event: VersionedEvent, pin: string | null): Promise<VersionedPayload> {
  if (!event.version) return { ok: true, data: event.data, version: null };
  const versions = await cachedTypeVersions(env, event.tenantId, event.type);
  const converted = convertPayload(event.data, versions, event.version, pin);
  if (converted.ok) return converted;
  return {
    ok: false,
    detail: `version ${converted.version}'s downgrade does not apply to this event: operation ${converted.index}: ${converted.message}`,
  };
}

/** The version of `type` a receiver pinned at `pin` gets (a test send says so); null for an unversioned type. */
export async function versionForPin(env: Pick<Env, "DB">, tenantId: string, type: string, pin: string | null): Promise<string | null> {
  const versions = await cachedTypeVersions(env, tenantId, type);
  return resolveVersion(
    versions.map((v) => v.version),
    pin,
  );
}
