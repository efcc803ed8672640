import { createApp } from "./app";
import type { QueueBody } from "./data/outbox";
import { handleDeliveryBatch } from "./delivery/engine/consumer";
import { EndpointGovernor as Governor } from "./delivery/governor/endpoint-governor";
import { CredentialGate as Gate } from "./ratelimit/credential-gate";
import { credentialAlertNotify, deliveryPorts } from "./wiring";

export { DataShard } from "./data/data-shard";
export { RequestLog } from "./data/request-log";
export { ListenSession } from "./listen/listen-session";
export { ReplayLane } from "./replays/lane";

/** The governor with the Worker's ports: its alarm's give-up reports the deliveries it fails. */
export class EndpointGovernor extends Governor {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, deliveryPorts);
  }
}

/** The credential gate with the Worker's alerts: they become operational events in the tenant's stream. */
export class CredentialGate extends Gate {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, credentialAlertNotify);
  }
}

const app = createApp();

export default {
  fetch: app.fetch,

  queue: (batch, env) => handleDeliveryBatch(batch, env, deliveryPorts),
} satisfies ExportedHandler<Env, QueueBody>;
