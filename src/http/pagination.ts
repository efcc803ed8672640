import { z } from "@hono/zod-openapi";
import { ApiError } from "../errors";
import { fromBase64Url, toBase64Url } from "../lib/crypto";

/** Query parameters every list accepts. */
export const pageQuery = z.object({
  limit: z.coerce
    .number({ error: "must be a whole number from 1 to 100" })
    .int("must be a whole number from 1 to 100")
    .min(1, "must be at least 1")
    .max(100, "must be at most 100")
    .default(20)
    .openapi({ example: 20 }),
  cursor: z.string().max(200).optional().openapi({ description: "Opaque; from `nextCursor`" }),
});

/** Position after the last row of a page: its sort time (ms) and id. */
export type Cursor = { t: number; id: string };

export function encodeCursor(c: Cursor): string {
  return toBase64Url(new TextEncoder().encode(JSON.stringify([c.t, c.id])));
}

export function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (raw === undefined) return undefined;
  try {
    const bytes = fromBase64Url(raw);
    if (!bytes) throw new Error("not base64url");
    const json = new TextDecoder().decode(bytes);
    const [t, id] = JSON.parse(json) as unknown[];
    // The time must be one a Date can hold: an Invalid Date binds as NaN and silently matches nothing.
    if (typeof t === "number" && !Number.isNaN(new Date(t).getTime()) && typeof id === "string") return { t, id };
  } catch {
    // fall through
  }
  throw new ApiError("invalid_query", "cursor is not one this API issued", {
    errors: [{ path: "cursor", message: "is not a valid cursor" }],
  });
}

/**
 * Builds `{data, nextCursor}` from a query that fetched `limit + 1` rows:
 * the extra row only says whether another page exists.
 */
export function page<Row, Out>(
  rows: Row[],
  limit: number,
  position: (row: Row) => Cursor,
  serialize: (row: Row) => Out,
): { data: Out[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return {
    data: kept.map(serialize),
    nextCursor: more && last !== undefined ? encodeCursor(position(last)) : null,
  };
}
