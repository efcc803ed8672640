import type { OperatorSession } from "../../api";
import { BrandMark } from "../../brand";
import { EventCatalogScreen } from "./own-catalog";
import { GatewayScreen } from "./own-gateway";
import { OwnAuditScreen, OwnEndpointsScreen } from "./own-logs";
import { ProductScopesScreen } from "./own-scopes";
import { TenantScreen } from "./tenant";
import { TenantsScreen } from "./tenants";

const SCREENS = [
  { id: "tenants", title: "Tenants", View: TenantsScreen },
  { id: "scopes", title: "Product scopes", View: ProductScopesScreen },
  { id: "event-catalog", title: "Event catalog", View: EventCatalogScreen },
  { id: "gateway", title: "Gateway", View: GatewayScreen },
  { id: "operator-endpoints", title: "Operator endpoints", View: OwnEndpointsScreen },
  { id: "operator-audit", title: "Operator audit log", View: OwnAuditScreen },
];

type Props = { session: OperatorSession; route: string; onSignOut: () => void };

/** The operator console: every tenant (`#/tenants`, `#/tenants/<id>/<tab>`) and the operator's own screens. */
export function OperatorConsole({ session, route, onSignOut }: Props) {
  const [first, tenantId, tab] = route.split("/");
  const current = SCREENS.find((s) => s.id === first) ?? SCREENS[0]!;
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <BrandMark />
        <span class="who" title={session.actor}>
          Operator console · {session.actor}
        </span>
        <button type="button" class="secondary" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <nav aria-label="Screens">
        <ul>
          {SCREENS.map((s) => (
            <li>
              <a href={`#/${s.id}`} aria-current={s.id === current.id ? "page" : undefined}>
                {s.title}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {current.id === "tenants" && tenantId ? <TenantScreen tenantId={decodeURIComponent(tenantId)} tab={tab ?? ""} /> : <current.View />}
      </main>
    </div>
  );
}
