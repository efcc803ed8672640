/** The one message the delivery queue carries: which delivery to attempt, and whose data shard holds it. */
export type DeliveryMessage = {
  deliveryId: string;
  /** The tenant whose event the delivery carries: with the id's bucket and shard, it names the object. */
  tenantId: string;
  /** A manual retry or recovery: exactly one more attempt, outside the schedule. */
  manual?: boolean;
  /** The open breaker's probe (src/delivery/breaker.ts): sent although the subscription is disabled. */
  probe?: boolean;
};

// Queues accept at most 100 messages per sendBatch call.
const SEND_BATCH_MAX = 100;

/**
 * Enqueues deliveries for their next attempt. A failure here is logged, not
 * raised: the rows are already stored as pending, and their data shard's
 * alarm re-enqueues any that stay pending past their due time.
 */
export async function enqueueDeliveries(
  env: Env,
  rows: { id: string; eventTenantId: string }[],
  opts: { delaySeconds?: number; manual?: boolean } = {},
): Promise<boolean> {
  const delaySeconds = opts.delaySeconds ?? 0;
  try {
    for (let i = 0; i < rows.length; i += SEND_BATCH_MAX) {
      await env.DELIVERY_QUEUE.sendBatch(
        rows.slice(i, i + SEND_BATCH_MAX).map((r) => ({
          body: { deliveryId: r.id, tenantId: r.eventTenantId, ...(opts.manual && { manual: true }) } satisfies DeliveryMessage,
          ...(delaySeconds > 0 && { delaySeconds }),
        })),
      );
    }
    return true;
  } catch (err) {
    console.error("enqueue failed; the data shard's alarm will repair it", err);
    return false;
  }
}
