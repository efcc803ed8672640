/**
 * Ordered delivery's sequencing, as pure logic over a small store (the
 * subscription's EndpointGovernor keeps it in SQLite; tests keep it in memory).
 *
 * Each pending delivery of an ordered subscription stands in the line of its
 * event's key (no key is the key ""; a real key has 1..128 characters). The
 * first delivery of a line holds its key's turn: it alone may be attempted,
 * through all its retries, until it leaves the line (succeeded, failed for
 * good, cancelled). Lines of different keys are independent.
 */

/** The no-key line: every event without an orderingKey shares it (keys are never empty). */
export const NO_KEY = "";

/** A head not heard from for this long is checked in its data shard before anyone waits on it longer. */
export const STALE_HEAD_MS = 60_000;
/** The delivery right behind the head comes back after this long if nobody woke it (a lost wake, a crashed holder). */
export const NEXT_RECHECK_MS = 60_000;
/** Deliveries further back: they are woken in turn, this is only the safety net. */
export const FAR_RECHECK_MS = 600_000;
/** A delivery that left its line is remembered this long, so a late duplicate of it does not queue up again. */
export const RELEASED_KEEP_MS = 3_600_000;

/** What registers a delivery: its id, its key, and where it lives (to check on it). */
export type TurnRequest = { deliveryId: string; key: string; owner: string; eventTenantId: string };

export type TurnEntry = TurnRequest & {
  /** Registration order: the order the events were accepted. */
  seq: number;
  /** When it last showed it is alive: registered, took its turn, was woken, or was found pending in its shard. */
  seenAt: number;
  /** When it left its line (null while in it). */
  releasedAt: number | null;
};

/** The delivery to wake: it holds its key's turn now. */
export type WakeTarget = { deliveryId: string; eventTenantId: string };

export type TurnStore = {
  get(deliveryId: string): TurnEntry | null;
  /** The first entry of `key` still in its line. */
  head(key: string): TurnEntry | null;
  /** How many entries of `key` still in line are ahead of `seq` (a store may stop counting at 2: only 0, 1 or more matters). */
  ahead(key: string, seq: number): number;
  /** Appends to its key's line with the next seq. */
  append(request: TurnRequest, now: number): TurnEntry;
  touch(deliveryId: string, now: number): void;
  markReleased(deliveryId: string, now: number): void;
  purgeReleased(before: number): void;
  clear(): void;
};

export type Place = { deliveryId: string; head: boolean; recheckMs: number };

/** Where a waiting delivery should be looked at again if nobody wakes it. */
const recheckFor = (ahead: number) => (ahead <= 1 ? NEXT_RECHECK_MS : FAR_RECHECK_MS);

function placeOf(store: TurnStore, entry: TurnEntry): Place {
  const head = store.head(entry.key);
  if (head?.deliveryId === entry.deliveryId) return { deliveryId: entry.deliveryId, head: true, recheckMs: 0 };
  return { deliveryId: entry.deliveryId, head: false, recheckMs: recheckFor(store.ahead(entry.key, entry.seq)) };
}

/**
 * Registers deliveries in the order given (the order their events were
 * accepted), each at the end of its key's line. Registering one again
 * changes nothing (a retried call). Answers each one's place.
 */
export function register(store: TurnStore, requests: TurnRequest[], now: number): Place[] {
  return requests.map((r) => placeOf(store, store.get(r.deliveryId) ?? store.append(r, now)));
}

export type Decision =
  | { kind: "go" }
  | { kind: "wait"; recheckMs: number }
  /** The head has been silent past STALE_HEAD_MS: look it up in its shard, then `confirm`, then decide again. */
  | { kind: "check"; head: TurnEntry };

/**
 * May this delivery be attempted now? The head of its line may (and shows
 * it is alive); one that already left its line may too (it had its turn:
 * a late duplicate, or a manual re-send); one never registered (its
 * subscription became ordered since) joins the end of its line.
 */
export function decide(store: TurnStore, request: TurnRequest, now: number): Decision {
  const entry = store.get(request.deliveryId) ?? store.append(request, now);
  if (entry.releasedAt !== null) return { kind: "go" };
  const head = store.head(entry.key);
  if (!head || head.deliveryId === entry.deliveryId) {
    store.touch(entry.deliveryId, now);
    return { kind: "go" };
  }
  if (now - head.seenAt > STALE_HEAD_MS) return { kind: "check", head };
  return { kind: "wait", recheckMs: recheckFor(store.ahead(entry.key, entry.seq)) };
}

/**
 * A delivery leaves its line (it settled for good, or never got stored).
 * When it was the head, the next one of its key holds the turn now: the
 * answer names it, to be woken. Releasing twice, or one never registered,
 * wakes nobody.
 */
export function release(store: TurnStore, deliveryId: string, now: number): WakeTarget | null {
  const entry = store.get(deliveryId);
  if (!entry || entry.releasedAt !== null) return null;
  const wasHead = store.head(entry.key)?.deliveryId === deliveryId;
  store.markReleased(deliveryId, now);
  store.purgeReleased(now - RELEASED_KEEP_MS);
  if (!wasHead) return null;
  const next = store.head(entry.key);
  if (!next) return null;
  // Being woken counts as being seen: it gets STALE_HEAD_MS to show up before anyone checks on it.
  store.touch(next.deliveryId, now);
  return { deliveryId: next.deliveryId, eventTenantId: next.eventTenantId };
}

/**
 * The answer of a stale head's shard: still pending keeps it (seen now);
 * settled or gone releases it, waking the next.
 */
export function confirm(store: TurnStore, headId: string, pending: boolean, now: number): WakeTarget | null {
  if (pending) {
    store.touch(headId, now);
    return null;
  }
  return release(store, headId, now);
}

/** Every delivery of the subscription was cancelled: the lines are empty. */
export function clearLines(store: TurnStore): void {
  store.clear();
}

/** The store in a governor's SQLite: one row per delivery in (or recently out of) a line. */
export const TURNS_SCHEMA = `
CREATE TABLE IF NOT EXISTS order_turns (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, delivery_id TEXT NOT NULL UNIQUE, key TEXT NOT NULL, owner TEXT NOT NULL,
  event_tenant TEXT NOT NULL, seen_at INTEGER NOT NULL, released_at INTEGER);
CREATE INDEX IF NOT EXISTS order_turns_line ON order_turns (key, released_at, seq);
CREATE INDEX IF NOT EXISTS order_turns_released ON order_turns (released_at);
`;

type Row = Record<string, SqlStorageValue>;
const entryOf = (r: Row): TurnEntry => ({
  deliveryId: String(r.delivery_id),
  key: String(r.key),
  owner: String(r.owner),
  eventTenantId: String(r.event_tenant),
  seq: Number(r.seq),
  seenAt: Number(r.seen_at),
  releasedAt: r.released_at === null ? null : Number(r.released_at),
});

export function sqlTurnStore(sql: SqlStorage): TurnStore {
  const first = (q: string, ...args: SqlStorageValue[]) => {
    const row = sql.exec(q, ...args).toArray()[0];
    return row ? entryOf(row) : null;
  };
  return {
    get: (id) => first("SELECT * FROM order_turns WHERE delivery_id = ?", id),
    head: (key) => first("SELECT * FROM order_turns WHERE key = ? AND released_at IS NULL ORDER BY seq LIMIT 1", key),
    // Capped: a long line is not counted whole on every registration.
    ahead: (key, seq) =>
      Number(
        sql
          .exec("SELECT count(*) AS n FROM (SELECT 1 FROM order_turns WHERE key = ? AND released_at IS NULL AND seq < ? LIMIT 2)", key, seq)
          .one().n,
      ),
    append: (r, now) => {
      sql.exec(
        "INSERT INTO order_turns (delivery_id, key, owner, event_tenant, seen_at) VALUES (?, ?, ?, ?, ?)",
        r.deliveryId,
        r.key,
        r.owner,
        r.eventTenantId,
        now,
      );
      return first("SELECT * FROM order_turns WHERE delivery_id = ?", r.deliveryId)!;
    },
    touch: (id, now) => void sql.exec("UPDATE order_turns SET seen_at = ? WHERE delivery_id = ?", now, id),
    markReleased: (id, now) => void sql.exec("UPDATE order_turns SET released_at = ? WHERE delivery_id = ?", now, id),
    purgeReleased: (before) => void sql.exec("DELETE FROM order_turns WHERE released_at IS NOT NULL AND released_at < ?", before),
    clear: () => void sql.exec("DELETE FROM order_turns"),
  };
}
