import type { DeliveryRecord } from "../../data/records";
import type { TenantRow } from "../../db/tenants";
import type { WebhookRow } from "../../db/webhooks";
import type { DeliveryPorts } from "../ports";
import { askHold, failHeld, releaseHeld } from "./breaker";
import type { HeldRef, NewHold } from "./breaker-schedule";

/**
 * Events published while a subscription's breaker is open get their
 * delivery too (nothing published during an outage is lost): created held,
 * pending with no due time, and listed with the subscription's governor
 * with the other held deliveries, in order, so they go out when it heals,
 * or fail at give-up. A subscription switched off by its owner, or by a
 * 410, gets none. Asked before the write, so a stored held row is never
 * missing from the governor's list, and again after it, as the hold may
 * have ended meanwhile.
 */

const refOf = (d: DeliveryRecord): HeldRef => ({ deliveryId: d.id, eventTenantId: d.eventTenantId, createdAt: d.createdAt.getTime() });

/**
 * Before the write: the governor of each receiver whose (cached) row says
 * disabled decides about its new delivery. Answers the rows to store (none
 * for a subscription switched off meanwhile) and the ids of those to store
 * held. A governor that cannot answer leaves its delivery an ordinary one:
 * it is held when it comes up for its attempt.
 */
export async function holdAtPublish(
  env: Env,
  rows: DeliveryRecord[],
  receivers: ReadonlyMap<string, Pick<WebhookRow, "isEnabled">>,
): Promise<{ rows: DeliveryRecord[]; held: Set<string> }> {
  const held = new Set<string>();
  const disabled = rows.filter((r) => receivers.get(r.webhookId)?.isEnabled === false);
  if (disabled.length === 0) return { rows, held };
  const answers = await Promise.allSettled(disabled.map((r) => askHold(env, r.webhookId, [refOf(r)], false)));
  const off = new Set<string>();
  disabled.forEach((r, i) => {
    const answer = answers[i]!;
    if (answer.status === "rejected")
      console.error(`breaker ${r.webhookId}: ${r.id} not held at publish; held when it comes up`, answer.reason);
    else if (answer.value === "off") off.add(r.id);
    else if (answer.value !== "open") held.add(r.id);
  });
  return { rows: rows.filter((r) => !off.has(r.id)), held };
}

/** The rows as stored: held ones pending with no due time (ordered or not), started neither inline nor through the queue. */
export function storedHeld(split: { rows: DeliveryRecord[]; startable: DeliveryRecord[] }, held: ReadonlySet<string>) {
  if (held.size === 0) return split;
  return {
    rows: split.rows.map((r) => (held.has(r.id) ? { ...r, nextAttemptAt: null } : r)),
    startable: split.startable.filter((r) => !held.has(r.id)),
  };
}

/**
 * After the write: each held row's governor is asked again. Still held:
 * listed already. The hold ended meanwhile (healed, reset): it goes out now.
 * Given up: it fails, like the other held ones. `ownerOf` names whose
 * stream hears of a failure.
 */
export async function confirmHeldAtPublish(
  env: Env,
  ports: DeliveryPorts,
  rows: DeliveryRecord[],
  held: ReadonlySet<string>,
  ownerOf: (d: DeliveryRecord) => TenantRow | undefined,
): Promise<void> {
  await Promise.all(
    rows
      .filter((r) => held.has(r.id))
      .map(async (r) => {
        const ref = refOf(r);
        try {
          const answer: NewHold = await askHold(env, r.webhookId, [ref], true);
          if (answer === "open") await releaseHeld(env, [ref]);
          else if (answer === "gave_up") await failHeld(env, ports, ownerOf(r), r.webhookId, [ref]);
        } catch (err) {
          // Listed before the write: the hold, if still on, releases or fails it with the others.
          console.error(`breaker ${r.webhookId}: held delivery ${r.id} not confirmed`, err);
        }
      }),
  );
}
