import { loadConfig } from "../../config";
import { decodeQueueMessage, type QueueBody, type QueueMessage } from "../../data/outbox";
import { objectOfId } from "../../data/placement";
import { createDb } from "../../db/client";
import { webhookById } from "../../db/webhooks";
import { shardStub } from "../../objects";
import { announceExhausted, holdDelivery } from "../breaker/breaker";
import { isOrdered, passTurnOn } from "../ordering/ordering";
import type { DeliveryPorts, PortsFor } from "../ports";
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
export async function handleDeliveryBatch(batch: MessageBatch<QueueBody>, env: Env, portsFor: PortsFor): Promise<void> {
  if (batch.queue === DLQ_NAME) return handleDeadLetters(batch, env, portsFor);
  const loaded = loadConfig(env);
  if (!loaded.ok) {
    batch.retryAll({ delaySeconds: 300 });
    return;
  }
  const ports = portsFor(env, loaded.config);
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        // Either shape (src/data/outbox.ts); one that names no delivery is acked, there is nothing to send.
        const body = decodeQueueMessage(message.body);
        const next = body ? await processMessage(env, ports, body) : "ack";
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
function shardOfMessage(env: Env, body: QueueMessage | null) {
  const object = body ? objectOfId(body.tenantId, body.deliveryId, "dlv") : null;
  return object ? shardStub(env, object.name) : null;
}

async function processMessage(env: Env, ports: DeliveryPorts, body: QueueMessage): Promise<"ack" | { delaySeconds: number }> {
  const config = loadConfig(env);
  if (!config.ok) return { delaySeconds: 300 };
  const shard = shardOfMessage(env, body);
  const row = shard ? await shard.loadForAttempt(body.deliveryId) : null;
  // Dropped with its expired bucket, or already settled: nothing to send (an idempotent consumer).
  if (!shard || row?.delivery.status !== "pending") {
    // --- ordering --- Handed a turn it no longer needs: the turn passes on.
    if (body.kind === "turn" && row) await passTurnOn(env, body.turnOf, body.deliveryId);
    return "ack";
  }
  const { delivery, event } = row;
  const webhook = await webhookById(createDb(env.DB), delivery.webhookId);
  if (!event || !webhook || webhook.deletedAt) {
    const cancelled = await shard.settleIfPending(delivery.id, "cancelled");
    // --- ordering --- Cancelled: the next of its key may go.
    if (cancelled && webhook && isOrdered(webhook)) {
      await passTurnOn(env, webhook.id, delivery.id);
    }
    return "ack";
  }
  // A disabled subscription (a rare path): its governor decides. Only the breaker's probe goes out (whatever
  // the message's kind: a repaired one is plain), or any delivery once the breaker has closed but the row
  // does not say so yet; every other delivery is held. An enabled one never asks.
  let probe = false;
  if (!webhook.isEnabled) {
    const verdict = await holdDelivery(env, config.config, ports, shard, delivery, webhook);
    if (verdict === "held") return "ack";
    probe = verdict === "probe";
  }
  // A scheduled message never arrives before its delivery is due. One that does is a duplicate
  // (a redelivered or repaired copy) of a chain already rescheduled: sending now would skip the
  // delay and start a second chain. If this guess is ever wrong, the shard's alarm re-enqueues the row.
  // A wake from an ordered line is due now: the row's time was only its recheck while it waited.
  const early = delivery.nextAttemptAt && delivery.nextAttemptAt.getTime() - Date.now() > EARLY_TOLERANCE_MS;
  const manual = body.kind === "attempt" && body.manual === true;
  if (!manual && body.kind !== "turn" && early) {
    return "ack";
  }
  const result = await runHoldingShortWaits(env, config.config, ports, { delivery, webhook, event, manual, ...(probe && { probe }) });
  if (result.kind === "retry") return { delaySeconds: result.delaySeconds };
  // Waiting for the endpoint's flow control is not a failure.
  if (result.kind === "wait") await requeueAfterWait(env, delivery, result.waitMs, manual, probe);
  return "ack";
}

/** Messages that exhausted the queue's retries end as `failed`, never silently gone. */
async function handleDeadLetters(batch: MessageBatch<QueueBody>, env: Env, portsFor: PortsFor): Promise<void> {
  const loaded = loadConfig(env);
  // Without a config the failures still land; only their announcement waits for none.
  const ports = loaded.ok ? portsFor(env, loaded.config) : null;
  for (const message of batch.messages) {
    try {
      const shard = shardOfMessage(env, decodeQueueMessage(message.body));
      const failed = await shard?.settleIfPending(message.body.deliveryId, "failed");
      // --- ordering --- Failed for good: its line moves on (a no-op for a delivery in no line).
      const row = failed ? await shard?.loadForAttempt(message.body.deliveryId) : null;
      if (row) {
        const webhookId = row.delivery.webhookId;
        await passTurnOn(env, webhookId, row.delivery.id);
      }
      // --- breaker --- Failed for good: said so in the owner's stream.
      if (row && ports) await announceExhausted(env, ports, row.delivery);
      message.ack();
    } catch (err) {
      console.error(`dead letter ${message.body.deliveryId}`, err);
      message.retry({ delaySeconds: TRANSIENT_RETRY_SECONDS });
    }
  }
}
