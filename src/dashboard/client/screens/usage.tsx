import { AlertsPanel } from "../alerts";
import { allows } from "../session";
import { UsageChart } from "../usage-chart";
import type { ScreenProps } from "./screen";

/** "Usage": the tenant's requests by outcome over 24 h or 7 d, every credential added up, and the latest alerts. */
export function UsageScreen({ session }: ScreenProps) {
  return (
    <section aria-labelledby="usage-h">
      <h1 id="usage-h">Usage</h1>
      <p class="hint">
        Every request made with your keys and OAuth clients, to this API and through the gateway, by outcome. Counts can lag by a few
        seconds.
      </p>
      <UsageChart of={{ tenant: true }} label="your requests" />
      {allows(session, "events:read") ? <AlertsPanel /> : null}
    </section>
  );
}
