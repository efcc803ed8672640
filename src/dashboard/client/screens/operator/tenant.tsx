import { useEffect, useState } from "hono/jsx/dom";
import type { Mode } from "../../../../common/enums";
import { hookgate, messageOf, type Tenant, unwrap } from "../../api";
import { useAction } from "../../hooks";
import { ErrorNote } from "../../ui";
import { TenantDeliveries } from "./tenant-deliveries";
import { TenantErrors } from "./tenant-errors";
import { TenantKeys } from "./tenant-keys";
import { TenantAuditLog } from "./tenant-logs";
import { TenantModeSwitch } from "./tenant-mode";
import { TenantSettings } from "./tenant-settings";
import { TenantWebhooks } from "./tenant-webhooks";

const TABS = [
  { id: "settings", title: "Settings" },
  { id: "keys", title: "API Keys" },
  { id: "webhooks", title: "Webhooks" },
  { id: "deliveries", title: "Delivery log" },
  { id: "audit", title: "Audit log" },
  { id: "errors", title: "Errors" },
] as const;

/** A tenant's page: its tabs, and "Open Integrations page" (a read-only portal link, in a new tab). */
export function TenantScreen({ tenantId, tab }: { tenantId: string; tab: string }) {
  const [tenant, setTenant] = useState<Tenant | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [mode, setMode] = useState<Mode>("live");
  const current = TABS.find((t) => t.id === tab) ?? TABS[0];
  const load = () =>
    unwrap(hookgate().GET("/admin/tenants/{id}", { params: { path: { id: tenantId } } }))
      .then((t) => {
        setTenant(t);
        setError(null);
      })
      .catch((e) => setError(messageOf(e)));
  useEffect(() => {
    void load();
  }, [tenantId]);

  if (!tenant) {
    return (
      <section aria-labelledby="tenant-h">
        <h1 id="tenant-h">Tenant</h1>
        <p class="hint mono">{tenantId}</p>
        {error ? <ErrorNote error={error} /> : <p class="hint">Loading…</p>}
        <a href="#/tenants">Back to Tenants</a>
      </section>
    );
  }
  return (
    <section aria-labelledby="tenant-h">
      <p>
        <a href="#/tenants">Tenants</a>
      </p>
      <h1 id="tenant-h">{tenant.name}</h1>
      <p class="hint mono">{tenant.id}</p>
      <OpenIntegrations tenantId={tenant.id} />
      <nav aria-label={`${tenant.name}: tabs`} class="tabs">
        <ul>
          {TABS.map((t) => (
            <li>
              <a href={`#/tenants/${encodeURIComponent(tenant.id)}/${t.id}`} aria-current={t.id === current.id ? "page" : undefined}>
                {t.title}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {current.id === "settings" ? <TenantSettings tenant={tenant} onSaved={setTenant} /> : null}
      {current.id === "keys" ? <TenantKeys tenantId={tenant.id} /> : null}
      {current.id === "webhooks" || current.id === "deliveries" ? <TenantModeSwitch mode={mode} onChange={setMode} /> : null}
      {current.id === "webhooks" ? <TenantWebhooks tenantId={tenant.id} mode={mode} /> : null}
      {current.id === "deliveries" ? <TenantDeliveries tenantId={tenant.id} mode={mode} /> : null}
      {current.id === "audit" ? <TenantAuditLog tenantId={tenant.id} /> : null}
      {current.id === "errors" ? <TenantErrors tenantId={tenant.id} /> : null}
    </section>
  );
}

function OpenIntegrations({ tenantId }: { tenantId: string }) {
  const action = useAction();
  const [blocked, setBlocked] = useState<string | null>(null);
  const open = async () => {
    setBlocked(null);
    const link = await action.run(() =>
      unwrap(hookgate().POST("/admin/tenants/{tenantId}/portal-sessions", { params: { path: { tenantId } }, body: { readOnly: true } })),
    );
    if (!link) return;
    const tab = window.open(link.url, "_blank");
    if (tab) tab.opener = null;
    else setBlocked(link.url);
  };
  return (
    <div class="actions">
      <button type="button" class="secondary" disabled={action.busy} onClick={open}>
        Open Integrations page
      </button>
      <ErrorNote error={action.error} />
      {blocked ? (
        <p role="status">
          The browser blocked the new tab:{" "}
          <a href={blocked} target="_blank" rel="noopener noreferrer">
            open the Integrations page
          </a>
          .
        </p>
      ) : null}
    </div>
  );
}
