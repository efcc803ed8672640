import { z } from "@hono/zod-openapi";
import type { PollPosition } from "../data/reads";
import type { Cursor, Page } from "../db/cursor";
import { fromBase64Url, toBase64Url } from "../lib/crypto";
import { ValidationError } from "../lib/errors";

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

export function encodeCursor(c: Cursor): string {
  return toBase64Url(new TextEncoder().encode(JSON.stringify([c.t, c.id])));
}

export function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (raw === undefined) return undefined;
  try {
    const bytes = fromBase64Url(raw);
    if (!bytes) throw new Error("not base64url");
    const [t, id] = JSON.parse(new TextDecoder().decode(bytes)) as unknown[];
    // The time must be one a Date can hold: an Invalid Date binds as NaN and silently matches nothing.
    if (typeof t === "number" && !Number.isNaN(new Date(t).getTime()) && typeof id === "string") return { t, id };
  } catch {
    // fall through
  }
  throw new ValidationError([{ path: "cursor", message: "is not a valid cursor" }], "invalid_query");
}

/** The wire shape of every list: `{data, nextCursor}`. */
export function page<Row, Out>(p: Page<Row>, serialize: (row: Row) => Out): { data: Out[]; nextCursor: string | null } {
  return { data: p.rows.map(serialize), nextCursor: p.next ? encodeCursor(p.next) : null };
}

/** A poller's position (bucket and per-shard sequences) as an opaque cursor. */
export function encodePollCursor(p: PollPosition): string {
  return toBase64Url(new TextEncoder().encode(JSON.stringify(["p", p.bucket, p.seqs])));
}

export function decodePollCursor(raw: string | undefined): PollPosition | undefined {
  if (raw === undefined) return undefined;
  try {
    const bytes = fromBase64Url(raw);
    if (!bytes) throw new Error("not base64url");
    const [tag, bucket, seqs] = JSON.parse(new TextDecoder().decode(bytes)) as unknown[];
    const valid =
      tag === "p" &&
      Number.isSafeInteger(bucket) &&
      (bucket as number) >= 0 &&
      typeof seqs === "object" &&
      seqs !== null &&
      !Array.isArray(seqs) &&
      Object.entries(seqs).every(([k, v]) => /^\d{1,2}$/.test(k) && Number.isSafeInteger(v) && (v as number) >= 0);
    if (valid) return { bucket: bucket as number, seqs: seqs as Record<string, number> };
  } catch {
    // fall through
  }
  throw new ValidationError([{ path: "cursor", message: "is not a valid cursor" }], "invalid_query");
}
