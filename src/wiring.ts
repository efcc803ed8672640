import type { Config } from "./config";
import type { DeliveryPorts } from "./delivery/ports";
import { emitOperational } from "./events/operational";

/**
 * The delivery engine's ports as the Worker wires them, for every entry
 * point that runs delivery (the queue consumer, the objects' alarms, a
 * request's publish): its reports become operational events in the owner's
 * stream, published with these same ports.
 */
export function deliveryPorts(env: Env, config: Config): DeliveryPorts {
  const ports: DeliveryPorts = {
    notify: { operational: (owner, cause, type, data) => emitOperational(env, config, ports, owner, cause, type, data) },
  };
  return ports;
}
