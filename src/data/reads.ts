import type { Cursor, Page } from "../db/cursor";
import { shardStub } from "../objects";
import { coveredShards, type DataTenant } from "./placement";
import type { EventRecord } from "./records";
import { bucketOf, bucketStart, liveBuckets, objectName } from "./shard-map";

/** Object calls one read keeps in flight at once. */
const FAN_OUT = 32;

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Every object of `tenants` in one bucket. */
const objectsOf = (tenants: DataTenant[], bucket: number) =>
  tenants.flatMap((t) => Array.from({ length: coveredShards(t) }, (_, shard) => objectName(t.id, { bucket, shard, mode: t.mode })));

const newerFirst = (a: Cursor, b: Cursor) => b.t - a.t || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * A newest-first page across the objects of `tenants`, bucket by bucket
 * (buckets are disjoint in time, so a bucket's rows are all older than the
 * newer bucket's): each object answers its own newest rows before the
 * cursor, and the walk stops once a page and one more row are in hand.
 */
export async function newestFirst<Row>(opts: {
  tenants: DataTenant[];
  buckets: number[];
  limit: number;
  fetch: (objectName: string, need: number) => Promise<Row[]>;
  position: (row: Row) => Cursor;
}): Promise<Page<Row>> {
  let rows: Row[] = [];
  for (const bucket of opts.buckets) {
    const need = opts.limit + 1 - rows.length;
    const found = await mapLimited(objectsOf(opts.tenants, bucket), FAN_OUT, (name) => opts.fetch(name, need));
    const merged = found.flat().sort((a, b) => newerFirst(opts.position(a), opts.position(b)));
    rows = rows.concat(merged.slice(0, need));
    if (rows.length > opts.limit) break;
  }
  const more = rows.length > opts.limit;
  const kept = rows.slice(0, opts.limit);
  return { rows: kept, next: more ? opts.position(kept[kept.length - 1]!) : null };
}

/** The buckets a newest-first read walks: newest first, from the cursor's bucket down to the retention horizon. */
export function bucketsBefore(now: number, retentionDays: number, range: { since?: Date; until?: Date }, before?: Cursor): number[] {
  const until = before ? new Date(Math.min(before.t + 1, range.until?.getTime() ?? Number.POSITIVE_INFINITY)) : range.until;
  return liveBuckets(now, retentionDays, { ...(range.since && { since: range.since }), ...(until && { until }) });
}

/** Where a poller is: a bucket, and in each of its shards the last commit sequence it has seen. */
export type PollPosition = { bucket: number; seqs: Record<string, number> };

/**
 * A bucket is left behind only once no publish can still land in it: its
 * day is over, by more than an accepted publish takes to commit and a
 * tenant's cached shard count takes to refresh.
 */
export const BUCKET_CLOSE_MS = 60_000;

export type PollQuery = { type?: string; since?: Date; until?: Date; limit: number };

/**
 * Events oldest first across the tenant's shards. Within a bucket each
 * shard is read after its own sequence (so an event committed while
 * polling is neither skipped nor repeated, whatever the order of commits
 * across shards) and the shards are merged by time. The position moves to
 * the next bucket only when the current one is closed.
 */
export async function pollEvents(
  env: Env,
  tenant: DataTenant,
  q: PollQuery,
  from: PollPosition | undefined,
  retentionDays: number,
  now = Date.now(),
): Promise<{ rows: EventRecord[]; more: boolean; position: PollPosition }> {
  const shards = coveredShards(tenant);
  const oldest = Math.max(bucketOf(now - retentionDays * 86_400_000), q.since ? bucketOf(q.since.getTime()) : Number.NEGATIVE_INFINITY);
  const last = bucketOf(Math.min(now, q.until ? q.until.getTime() - 1 : now));
  let pos: PollPosition = from && from.bucket >= oldest ? { bucket: from.bucket, seqs: { ...from.seqs } } : { bucket: oldest, seqs: {} };
  const rows: EventRecord[] = [];
  let more = false;
  while (pos.bucket <= last) {
    const need = q.limit + 1 - rows.length;
    const bucket = pos.bucket;
    const perShard = await mapLimited(
      Array.from({ length: shards }, (_, s) => s),
      FAN_OUT,
      (s) =>
        shardStub(env, objectName(tenant.id, { bucket, shard: s, mode: tenant.mode })).listEvents({
          ...(q.type && { type: q.type }),
          ...(q.since && { since: q.since }),
          ...(q.until && { until: q.until }),
          afterSeq: pos.seqs[String(s)] ?? 0,
          limit: need,
        }),
    );
    const merged = perShard
      .flatMap((list, shard) => list.map((event) => ({ event, shard })))
      .sort((a, b) => a.event.createdAt.getTime() - b.event.createdAt.getTime() || a.shard - b.shard || a.event.seq - b.event.seq);
    for (const { event, shard } of merged.slice(0, need)) {
      if (rows.length === q.limit) {
        more = true;
        break;
      }
      rows.push(event);
      pos.seqs[String(shard)] = event.seq;
    }
    if (more || perShard.some((list) => list.length >= need)) {
      more = true;
      break;
    }
    const closed = now >= bucketStart(bucket + 1) + BUCKET_CLOSE_MS;
    if (bucket >= last || !closed) break;
    pos = { bucket: bucket + 1, seqs: {} };
  }
  return { rows, more, position: pos };
}
