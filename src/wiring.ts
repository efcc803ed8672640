import type { Config } from "./config";
import type { DeliveryPorts } from "./delivery/ports";
import { emitOperational } from "./events/operational";
import { listenTransport } from "./listen/endpoint";

/**
 * The delivery engine's ports as the Worker wires them, for every entry
 * point that runs delivery (the queue consumer, the objects' alarms, a
 * request): its reports become operational events in the owner's stream,
 * published with these same ports, and a `hookgate listen` session's
 * subscription is delivered down the session's socket.
 */
export function deliveryPorts(env: Env, config: Config): DeliveryPorts {
  const ports: DeliveryPorts = {
    notify: { operational: (owner, cause, type, data) => emitOperational(env, config, ports, owner, cause, type, data) },
    transports: [listenTransport(env)],
  };
  return ports;
}
