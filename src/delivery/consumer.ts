import { shardStub } from "../data/data-shard";
import { objectOfId } from "../data/placement";
import { createDb } from "../db/client";
import { webhookById } from "../db/webhooks";
import type { Env } from "../env";
import { loadConfig } from "../env";
import type { DeliveryMessage } from "./queue";
import { requeueAfterWait, runHoldingShortWaits } from "./run-attempt";

export const DLQ_NAME = "hookgate-deliveries-dlq";

// Queue delays and our clock may disagree by this much before a message counts as early.
const EARLY_TOLERANCE_MS = 5_000;
// When storage itself fails, try the message again soon (this counts against max_retries).
const TRANSIENT_RETRY_SECONDS = 30;

/**
 * The delivery queue's consumer: one attempt per message. Messages of a batch
 * run concurrently, so one slow endpoint does not hold up the others; each is
 * acked or retried (with the schedule's delay) on its own.
 */
export async function handleDeliveryBatch(batch: MessageBatch<DeliveryMessage>, env: Env): Promise<void> {
  if (batch.queue === DLQ_NAME) return handleDeadLetters(batch, env);
  const loaded = loadConfig(env);
  if (!loaded.ok) {
    batch.retryAll({ delaySeconds: 300 });
    return;
  }
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        const next = await processMessage(env, message.body);
        if (next === "ack") message.ack();
        else message.retry({ delaySeconds: next.delaySeconds });
      } catch (err) {
        console.error(`delivery ${message.body.deliveryId}: attempt failed to run`, err);
        message.retry({ delaySeconds: TRANSIENT_RETRY_SECONDS });
      }
    }),
  );
}

/** The shard a message's delivery lives in, or null for a message that names none of ours. */
function shardOfMessage(env: Env, body: DeliveryMessage) {
  const object = typeof body.tenantId === "string" ? objectOfId(body.tenantId, body.deliveryId, "dlv") : null;
  return object ? shardStub(env, object.name) : null;
}

async function processMessage(env: Env, body: DeliveryMessage): Promise<"ack" | { delaySeconds: number }> {
  const config = loadConfig(env);
  if (!config.ok) return { delaySeconds: 300 };
  const shard = shardOfMessage(env, body);
  const row = shard ? await shard.loadForAttempt(body.deliveryId) : null;
  // Dropped with its expired bucket, or already settled: nothing to send (an idempotent consumer).
  if (!shard || row?.delivery.status !== "pending") return "ack";
  const { delivery, event } = row;
  const webhook = await webhookById(createDb(env.DB), delivery.webhookId);
  if (!event || !webhook || webhook.deletedAt || !webhook.isEnabled) {
    await shard.settleIfPending(delivery.id, "cancelled");
    return "ack";
  }
  // A scheduled message never arrives before its delivery is due. One that does is a duplicate
  // (a redelivered or repaired copy) of a chain already rescheduled: sending now would skip the
  // delay and start a second chain. If this guess is ever wrong, the shard's alarm re-enqueues the row.
  if (!body.manual && delivery.nextAttemptAt && delivery.nextAttemptAt.getTime() - Date.now() > EARLY_TOLERANCE_MS) {
    return "ack";
  }
  const manual = body.manual === true;
  const result = await runHoldingShortWaits(env, config.config, { delivery, webhook, event, manual });
  if (result.kind === "retry") return { delaySeconds: result.delaySeconds };
  // Waiting for the endpoint's flow control is not a failure.
  if (result.kind === "wait") await requeueAfterWait(env, delivery, result.waitMs, manual);
  return "ack";
}

/** Messages that exhausted the queue's retries end as `failed`, never silently gone. */
async function handleDeadLetters(batch: MessageBatch<DeliveryMessage>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    try {
      await shardOfMessage(env, message.body)?.settleIfPending(message.body.deliveryId, "failed");
      message.ack();
    } catch (err) {
      console.error(`dead letter ${message.body.deliveryId}`, err);
      message.retry({ delaySeconds: TRANSIENT_RETRY_SECONDS });
    }
  }
}
