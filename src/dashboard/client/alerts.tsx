import { useEffect, useState } from "hono/jsx/dom";
import { ALERT_TYPES } from "../../common/alerts";
import { hookgate, messageOf, unwrap } from "./api";
import { when } from "./format";
import { Cell, DataTable, Empty, ErrorNote } from "./ui";

type Alert = { id: string; type: string; createdAt: string; data: Record<string, unknown> };

const SHOWN = 20;

// In words (a branded screen shows no platform-named type).
const LABELS: Record<(typeof ALERT_TYPES)[number], string> = {
  "hookgate.endpoint.degraded": "Endpoint degraded",
  "hookgate.credential.limit_approaching": "Limit approaching",
  "hookgate.credential.rate_limited": "Rate limited",
  "hookgate.credential.expiring": "Expiring",
  "hookgate.credential.dormant": "Dormant",
};

/** What an alert is about and says, in words (its data, docs/monitoring.md). */
function describe(a: Alert): { about: string; says: string } {
  const d = a.data;
  const about = String(d.credentialId ?? d.webhookId ?? "");
  switch (a.type) {
    case "hookgate.endpoint.degraded":
      return { about, says: `Success rate ${Math.round(Number(d.successRate ?? 0) * 100)} % over the last hour` };
    case "hookgate.credential.limit_approaching":
      return { about, says: `${d.used} of ${d.limit} ${d.bucket} requests used in ${d.windowSeconds} s` };
    case "hookgate.credential.rate_limited":
      return { about, says: `Refused with 429: more than ${d.limit} ${d.bucket} requests in ${d.windowSeconds} s` };
    case "hookgate.credential.expiring":
      return { about, says: `Expires ${when(String(d.expiresAt))}` };
    case "hookgate.credential.dormant":
      return { about, says: `Unused since ${when(d.lastUsedAt as string | null, "its creation")}` };
    default:
      return { about, says: "" };
  }
}

/** "Alerts": the newest warnings about the tenant's credentials and endpoints (each one an operational event). */
export function AlertsPanel() {
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    // One page per type (polling filters by one type), merged newest first.
    Promise.all(ALERT_TYPES.map((type) => unwrap(hookgate().GET("/v1/events", { params: { query: { type, limit: SHOWN } } }))))
      .then((pages) => {
        if (!live) return;
        const all = pages.flatMap((p) => p.data as Alert[]);
        setAlerts(all.sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1)).slice(0, SHOWN));
      })
      .catch((e) => live && setError(messageOf(e)));
    return () => {
      live = false;
    };
  }, []);
  return (
    <section aria-labelledby="alerts-h">
      <h2 id="alerts-h">Alerts</h2>
      <p class="hint">Warnings before something breaks; subscribe an endpoint to their event types to receive them too.</p>
      <ErrorNote error={error} />
      {!alerts || alerts.length === 0 ? (
        <Empty what="alerts" loading={alerts === null && !error} />
      ) : (
        <DataTable caption="Alerts, newest first" columns={["Time", "Alert", "About", "What happened"]}>
          {alerts.map((a) => {
            const { about, says } = describe(a);
            return (
              <tr key={a.id}>
                <Cell label="Time">{when(a.createdAt)}</Cell>
                <Cell label="Alert">{LABELS[a.type as keyof typeof LABELS] ?? a.type}</Cell>
                <Cell label="About">
                  <span class="mono">{about}</span>
                </Cell>
                <Cell label="What happened">{says}</Cell>
              </tr>
            );
          })}
        </DataTable>
      )}
    </section>
  );
}
