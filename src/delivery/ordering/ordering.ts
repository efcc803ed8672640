import { sendToQueue } from "../../data/outbox";
import type { DeliveryRecord } from "../../data/records";
import type { WebhookRow } from "../../db/webhooks";
import { governorFor } from "../../objects";
import { NO_KEY, type Place, type TurnRequest, type WakeTarget } from "./sequencer";

/**
 * Ordered delivery's glue (one delivery at a time per key, in acceptance
 * order): the subscription's governor keeps the
 * lines (src/delivery/ordering/sequencer.ts); these calls are where a publish, an
 * attempt and a settle meet them. An unordered subscription never gets here.
 */

export const isOrdered = (w: Pick<WebhookRow, "ordering">) => w.ordering === "key";

const requestOf = (d: DeliveryRecord, key: string | null): TurnRequest => ({
  deliveryId: d.id,
  key: key ?? NO_KEY,
  owner: d.tenantId,
  eventTenantId: d.eventTenantId,
});

/**
 * Registers a publish's deliveries to ordered subscriptions, before they are
 * stored: one governor call per ordered subscription (in parallel), none for
 * the others. Registering first means a stored delivery is never missing
 * from its line; a registration whose publish then stores nothing is
 * forgotten (`forgetTurns`), or found gone when its turn comes.
 */
export async function registerTurns(env: Env, rows: DeliveryRecord[], ordered: ReadonlySet<string>, key: string | null) {
  const places = new Map<string, Place>();
  const mine = rows.filter((r) => ordered.has(r.webhookId));
  const answers = await Promise.allSettled(mine.map((r) => governorFor(env, r.webhookId).registerTurns([requestOf(r, key)])));
  for (const a of answers) if (a.status === "fulfilled") for (const place of a.value) places.set(place.deliveryId, place);
  const failed = answers.find((a) => a.status === "rejected");
  if (failed) {
    // The publish fails (nothing is stored): the registrations that did land are taken back.
    await forgetTurns(env, rows, places).catch((e) => console.error("forgetting ordered turns failed", e));
    throw failed.reason;
  }
  return places;
}

/** A publish that stored nothing (a repeated idempotency key, a failed write): its registrations leave their lines. */
export async function forgetTurns(env: Env, rows: DeliveryRecord[], places: ReadonlyMap<string, Place>): Promise<void> {
  await Promise.all(
    rows
      .filter((r) => places.has(r.id))
      .map(async (r) => wakeByQueue(env, r.webhookId, await governorFor(env, r.webhookId).releaseTurns([r.id]))),
  );
}

/**
 * Asks whether a delivery holds its key's turn. Anyone the governor found
 * holding a turn on the way (a silent head found settled) is woken.
 */
export async function takeTurn(env: Env, delivery: DeliveryRecord, key: string | null): Promise<{ go: boolean; recheckMs: number }> {
  const answer = await governorFor(env, delivery.webhookId).takeTurn(requestOf(delivery, key));
  await wakeByQueue(env, delivery.webhookId, answer.wake);
  return { go: answer.go, recheckMs: answer.recheckMs };
}

/** A delivery settled for good: it leaves its line; the answer holds the turn now (the caller runs it, or wakes it). */
export async function passTurn(env: Env, webhookId: string, deliveryId: string): Promise<WakeTarget | null> {
  const [next] = await governorFor(env, webhookId).releaseTurns([deliveryId]);
  return next ?? null;
}

/**
 * Wakes deliveries whose turn came, through the queue. A failure is logged,
 * not raised: a woken delivery that never hears of it comes back by itself
 * (its row's recheck time), and a silent head is checked by the next in line.
 */
export async function wakeByQueue(env: Env, webhookId: string, wakes: WakeTarget[], delaySeconds = 0): Promise<void> {
  if (wakes.length === 0) return;
  try {
    await sendToQueue(
      env,
      wakes.map((w) => ({
        body: { kind: "turn", deliveryId: w.deliveryId, tenantId: w.eventTenantId, turnOf: webhookId },
        ...(delaySeconds > 0 && { delaySeconds }),
      })),
    );
  } catch (err) {
    console.error(`ordering ${webhookId}: wake failed; the recheck repairs it`, err);
  }
}

/** Every pending delivery of the subscription was cancelled (or it is no longer ordered): its lines go. */
export async function clearTurns(env: Env, webhookId: string): Promise<void> {
  await governorFor(env, webhookId).clearTurns();
}

/** The ids of the ordered subscriptions among a publish's receivers (empty, and no call made, when none is ordered). */
export const orderedAmong = (receivers: Pick<WebhookRow, "id" | "ordering">[]) => new Set(receivers.filter(isOrdered).map((w) => w.id));

/**
 * A publish's rows as stored: a delivery waiting for its key's turn is due
 * at its recheck time (it is woken when its turn comes), starts neither
 * inline nor through the queue now; the others start as planned.
 */
export function holdBackWaiters(
  rows: DeliveryRecord[],
  places: ReadonlyMap<string, Place>,
  inline: Set<string>,
  now: Date,
): { rows: DeliveryRecord[]; startable: DeliveryRecord[] } {
  if (places.size === 0) return { rows, startable: rows };
  const stored = rows.map((r) => {
    const place = places.get(r.id);
    if (!place || place.head) return r;
    inline.delete(r.webhookId);
    return { ...r, nextAttemptAt: new Date(now.getTime() + place.recheckMs) };
  });
  return { rows: stored, startable: stored.filter((r) => places.get(r.id)?.head !== false) };
}

/** A publish's shard write; when it stores nothing (a repeated key, a failure), its registrations leave their lines. */
export async function storeOrForget<T extends { kind: string }>(
  env: Env,
  rows: DeliveryRecord[],
  places: ReadonlyMap<string, Place>,
  write: () => Promise<T>,
): Promise<T> {
  if (places.size === 0) return write();
  let result: T;
  try {
    result = await write();
  } catch (err) {
    // Best effort: a registration left behind is found gone when its turn comes (the head check).
    await forgetTurns(env, rows, places).catch((e) => console.error("forgetting ordered turns failed", e));
    throw err;
  }
  if (result.kind !== "stored") await forgetTurns(env, rows, places);
  return result;
}

/** `passTurn`, waking the next one through the queue (where nobody runs it in place). */
export async function passTurnOn(env: Env, webhookId: string, deliveryId: string): Promise<void> {
  const next = await passTurn(env, webhookId, deliveryId);
  if (next) await wakeByQueue(env, webhookId, [next]);
}
