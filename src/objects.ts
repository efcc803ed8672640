/**
 * The Durable Objects' stubs, from the bindings `wrangler types` generates: the one place callers
 * reach an object, so no module but src/index.ts imports an object's class. (A stub cannot be kept
 * across requests: workerd ties each to the request that made it.)
 */

/** A data shard, named `<tenant>/<day>/<shard>` (src/data/shard-map.ts). */
export const shardStub = (env: Env, name: string) => env.DATA_SHARD.get(env.DATA_SHARD.idFromName(name));

/** A webhook subscription's governor: its breaker, flow control and ordered lines. */
export const governorFor = (env: Env, webhookId: string) => env.ENDPOINT_GOVERNOR.get(env.ENDPOINT_GOVERNOR.idFromName(webhookId));

// The gates' ids, kept per namespace: every API and gateway request names one, and an id (unlike a
// stub) is a plain value that outlives the request. Bounded: a full map starts over.
const gateIds = new WeakMap<object, Map<string, DurableObjectId>>();
const MAX_GATE_IDS = 10_000;

function gateId(namespace: { idFromName(name: string): DurableObjectId }, name: string): DurableObjectId {
  let ids = gateIds.get(namespace);
  if (!ids || ids.size >= MAX_GATE_IDS) {
    ids = new Map();
    gateIds.set(namespace, ids);
  }
  let id = ids.get(name);
  if (!id) {
    id = namespace.idFromName(name);
    ids.set(name, id);
  }
  return id;
}

/** The gate of credential `id` (API key or OAuth client), or of a source's intake (named by the source id). */
export const credentialGate = (env: Env, id: string) => env.CREDENTIAL_GATE.get(gateId(env.CREDENTIAL_GATE, id));

/** A subscription's bulk replay lane. */
export const replayLaneFor = (env: Env, webhookId: string) => env.REPLAY_LANE.get(env.REPLAY_LANE.idFromName(webhookId));

/** A `hookgate listen` session (`lsn_…`). */
export const listenSessionFor = (env: Env, sessionId: string) => env.LISTEN_SESSION.get(env.LISTEN_SESSION.idFromName(sessionId));

/** A tenant's request errors of one UTC day (`<tenant>/<day>`, src/data/request-log.ts). */
export const requestLogFor = (env: Env, tenantId: string, bucket: number) =>
  env.REQUEST_LOG.get(env.REQUEST_LOG.idFromName(`${tenantId}/${bucket}`));

export type ShardStub = ReturnType<typeof shardStub>;
export type GovernorStub = ReturnType<typeof governorFor>;
