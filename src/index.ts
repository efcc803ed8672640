import { createApp } from "./app";
import type { QueueBody } from "./data/outbox";
import { handleDeliveryBatch } from "./delivery/consumer";

export { DataShard } from "./data/data-shard";
export { EndpointGovernor } from "./delivery/endpoint-governor";
export { ListenSession } from "./listen/listen-session";
export { CredentialGate } from "./ratelimit/credential-gate";
export { ReplayLane } from "./replays/lane";

const app = createApp();

export default {
  fetch: app.fetch,

  queue: handleDeliveryBatch,
} satisfies ExportedHandler<Env, QueueBody>;
