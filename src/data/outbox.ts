/**
 * The delivery queue's one contract. A data shard's alarm is the outbox (it
 * re-sends what a lost message left pending); the delivery engine consumes;
 * the breaker, the ordered lines and the listen sessions produce too. Every
 * message names a delivery, the tenant whose shard holds it, and why it goes.
 */

type Addressed = {
  deliveryId: string;
  /** The tenant whose event the delivery carries: with the id's bucket and shard, it names the object. */
  tenantId: string;
};

export type QueueMessage =
  /** The delivery's next attempt; `manual`: exactly one more attempt, outside the schedule (a retry or recovery). */
  | (Addressed & { kind: "attempt"; manual?: true })
  /** The open breaker's probe: sent although the subscription is disabled. */
  | (Addressed & { kind: "probe" })
  /** An ordered line hands the delivery its key's turn (`turnOf`: the subscription): due now, whatever its row says. */
  | (Addressed & { kind: "turn"; turnOf: string });

/** The shape before `kind`, still in a deployed queue's backlog: flags instead of a tag. */
export type LegacyQueueMessage = Addressed & { manual?: boolean; probe?: boolean; turnOf?: string };

/** What the consumer may find in a batch. */
export type QueueBody = QueueMessage | LegacyQueueMessage;

/** Any body, either shape, as a message; null for one that names no delivery (the consumer acks it). */
export function decodeQueueMessage(body: unknown): QueueMessage | null {
  if (typeof body !== "object" || body === null) return null;
  const b = body as Record<string, unknown>;
  const { deliveryId, tenantId } = b;
  if (typeof deliveryId !== "string" || typeof tenantId !== "string") return null;
  const kind = "kind" in b ? b.kind : legacyKind(b);
  if (kind === "attempt") return attemptMessage(deliveryId, tenantId, b.manual === true);
  if (kind === "probe") return { kind, deliveryId, tenantId };
  if (kind === "turn" && typeof b.turnOf === "string") return { kind, deliveryId, tenantId, turnOf: b.turnOf };
  return null;
}

const legacyKind = (b: Record<string, unknown>): QueueMessage["kind"] =>
  typeof b.turnOf === "string" ? "turn" : b.probe === true ? "probe" : "attempt";

export const attemptMessage = (deliveryId: string, tenantId: string, manual = false): QueueMessage => ({
  kind: "attempt",
  deliveryId,
  tenantId,
  ...(manual && { manual: true as const }),
});

export type Outgoing = { body: QueueMessage; delaySeconds?: number };

// Queues accept at most 100 messages per sendBatch call.
const SEND_BATCH_MAX = 100;

/** The one producer: sends in batches of at most 100; a failure is the caller's to handle. */
export async function sendToQueue(env: Env, messages: Outgoing[]): Promise<void> {
  for (let i = 0; i < messages.length; i += SEND_BATCH_MAX) await env.DELIVERY_QUEUE.sendBatch(messages.slice(i, i + SEND_BATCH_MAX));
}

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
    await sendToQueue(
      env,
      rows.map((r) => ({ body: attemptMessage(r.id, r.eventTenantId, opts.manual), ...(delaySeconds > 0 && { delaySeconds }) })),
    );
    return true;
  } catch (err) {
    console.error("enqueue failed; the data shard's alarm will repair it", err);
    return false;
  }
}
