import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { call, DELIVERY_RATE_LIMITS, eventually, type FakeCall, newTenant, runDeliveryConsumer } from "./helpers";

/** The alerts a watcher subscribes to. */
export const ALERTS = [
  "hookgate.credential.limit_approaching",
  "hookgate.credential.rate_limited",
  "hookgate.credential.expiring",
  "hookgate.credential.dormant",
  "hookgate.endpoint.degraded",
];

export const DAY = 86_400_000;
export const HOUR = 3_600_000;

export type AlertEvent = { id: string; type: string; createdAt: string; data: Record<string, unknown> };

/** A tenant (roomy limits for its own key) with a watcher endpoint subscribed to the five alerts. */
export async function watchedTenant() {
  const { key, tenant } = await newTenant({ rateLimits: DELIVERY_RATE_LIMITS });
  const watcher = await call("POST", "/v1/webhooks", { key, body: { url: "https://watch.example.com/alerts", eventTypes: ALERTS } });
  expect(watcher.status, watcher.text).toBe(201);
  return { key, tenantId: tenant.id as string, watcherId: watcher.body.id as string };
}

/** The tenant's events of `type` about `subjectId` (a credential or webhook id), newest first. */
export async function alertsOf(key: string, type: string, subjectId: string): Promise<AlertEvent[]> {
  const r = await call("GET", `/v1/events?type=${type}&limit=100`, { key });
  expect(r.status, r.text).toBe(200);
  return (r.body.data as AlertEvent[]).filter((e) => e.data.credentialId === subjectId || e.data.webhookId === subjectId);
}

/** Waits for the `count`th alert of `type` about `subjectId` (raised as the object's own work, after the request). */
export async function awaitAlerts(key: string, type: string, subjectId: string, count = 1): Promise<AlertEvent[]> {
  return eventually(async () => {
    const found = await alertsOf(key, type, subjectId);
    return found.length >= count ? found : undefined;
  }, 50);
}

/** The gate of credential `id`. */
export const gateOf = (id: string) => env.CREDENTIAL_GATE.get(env.CREDENTIAL_GATE.idFromName(id));

/** Runs the gate's alert alarm as if the clock read `now`. */
export async function alertTick(credentialId: string, now: number): Promise<void> {
  await runInDurableObject(gateOf(credentialId), (instance) =>
    (instance as unknown as { alertAlarm(now: number): Promise<void> }).alertAlarm(now),
  );
}

/** Moves every "last fired" time of the gate's alerts `ms` into the past, as if that much time had passed since. */
export async function rewindAlerts(credentialId: string, ms: number): Promise<void> {
  await runInDurableObject(gateOf(credentialId), (instance) => {
    const alerts = (instance as unknown as { alerts: { state: { fired: Record<string, number> }; save(): void } }).alerts;
    for (const kind of Object.keys(alerts.state.fired)) alerts.state.fired[kind] = alerts.state.fired[kind]! - ms;
    alerts.save();
  });
}

/** Delivers the events' deliveries to the watcher and returns the bodies it received. */
export async function deliverToWatcher(key: string, events: AlertEvent[], watcherId: string, calls: FakeCall[]) {
  for (const e of events) {
    const r = await call("GET", `/v1/events/${e.id}`, { key });
    expect(r.status, r.text).toBe(200);
    const deliveries = (r.body.deliveries as { id: string; webhookId: string }[]).filter((d) => d.webhookId === watcherId);
    expect(deliveries).toHaveLength(1);
    await runDeliveryConsumer([deliveries[0]!.id]);
  }
  return calls.filter((c) => c.url.startsWith("https://watch.example.com/")).map((c) => JSON.parse(c.body) as AlertEvent);
}
