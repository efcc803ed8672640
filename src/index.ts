import { createApp } from "./app";
import { handleDeliveryBatch } from "./delivery/consumer";
import type { DeliveryMessage } from "./delivery/queue";
import { sweepOverdueDeliveries } from "./delivery/sweep";
import { type Env, loadConfig } from "./env";
import { purgeExpiredEvents } from "./events/retention";

export { EndpointGovernor } from "./delivery/endpoint-governor";
export { CredentialGate } from "./ratelimit/credential-gate";

const app = createApp();

export default {
  fetch: app.fetch,

  queue: handleDeliveryBatch,

  /** Every minute: repair lost deliveries, then purge expired events. */
  async scheduled(_controller, env, ctx) {
    const loaded = loadConfig(env);
    if (!loaded.ok) return;
    ctx.waitUntil(
      (async () => {
        // Independent jobs: a failing sweep must not stop retention (nor the reverse, next minute).
        try {
          await sweepOverdueDeliveries(env);
        } catch (err) {
          console.error("delivery sweep failed", err);
        }
        await purgeExpiredEvents(env.DB, loaded.config);
      })(),
    );
  },
} satisfies ExportedHandler<Env, DeliveryMessage>;
