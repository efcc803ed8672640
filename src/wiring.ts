import { currentBrand, deliveryBrand } from "./branding/brand";
import { type Config, loadConfig } from "./config";
import type { DeliveryPorts } from "./delivery/ports";
import { emitOperational } from "./events/operational";
import type { OperationalReports } from "./events/operational-types";
import { listenTransport } from "./listen/endpoint";
import type { CredentialAlertNotify } from "./ratelimit/alert-types";
import { cachedTenant } from "./tenants/cache";

/**
 * The delivery engine's ports as the Worker wires them, for every entry
 * point that runs delivery (the queue consumer, the objects' alarms, a
 * request): its reports become operational events in the owner's stream,
 * published with these same ports, a `hookgate listen` session's
 * subscription is delivered down the session's socket, and every attempt
 * carries the operator's brand as this isolate last read it.
 */
export function deliveryPorts(env: Env, config: Config): DeliveryPorts {
  const ports: DeliveryPorts = {
    notify: {
      // A delivery report's data is its type's operational data (the map of every type includes delivery's).
      operational: (owner, cause, type, data) =>
        emitOperational(env, config, ports, owner, cause, type, data as OperationalReports[typeof type]),
    },
    transports: [listenTransport(env)],
    brand: async () => deliveryBrand(await currentBrand(env.DB)),
  };
  return ports;
}

/**
 * A credential gate's alerts, as the Worker wires them: operational events
 * in the credential's tenant's stream, published as delivery's reports are.
 * Never throws (a deployment whose configuration is broken logs and drops it).
 */
export const credentialAlertNotify: CredentialAlertNotify = async (env, alert) => {
  try {
    const loaded = loadConfig(env);
    if (!loaded.ok) throw new Error(`configuration: ${loaded.problems.join("; ")}`);
    const tenant = await cachedTenant(env.DB, alert.tenantId);
    await emitOperational(env, loaded.config, deliveryPorts(env, loaded.config), tenant, null, alert.type, alert.data);
  } catch (err) {
    console.error(`alert ${alert.type} for ${alert.tenantId} not raised`, err);
  }
};
