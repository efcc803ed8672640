import type { Db } from "../db/client";
import { newestVersionAmong } from "../db/event-type-versions";
import { ValidationError } from "../lib/errors";
import { isVersionDate } from "../versions/convert";

/** A subscription's `version` as given: a date, YYYY-MM-DD (422 naming the field otherwise). */
export function checkedVersionPin(version: string): string {
  if (!isVersionDate(version)) {
    throw new ValidationError([
      { path: "version", message: "must be a date, YYYY-MM-DD: each type's newest version at or before it is sent" },
    ]);
  }
  return version;
}

/**
 * A new subscription's version: the date given, else the newest version of
 * its types now (so what it receives does not change when a type gets a new
 * version); null while none of them has versions (each type's first
 * version, once it has some).
 */
export async function initialVersionPin(db: Db, ownerId: string, eventTypes: string[], given: string | undefined): Promise<string | null> {
  if (given !== undefined) return checkedVersionPin(given);
  return newestVersionAmong(db, ownerId, eventTypes);
}
