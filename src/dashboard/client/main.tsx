import { render, useEffect, useState } from "hono/jsx/dom";
import { hookgate, messageOf, type OperatorSession, setBearer, unwrap, whenSessionEnds } from "./api";
import { BrandFooter, BrandMark, behindAccess } from "./brand";
import { useHashRoute } from "./hooks";
import { AuditScreen } from "./screens/audit";
import { DeliveriesScreen } from "./screens/deliveries";
import { ErrorsScreen } from "./screens/errors";
import { EventTypesScreen } from "./screens/event-types";
import { KeysScreen } from "./screens/keys";
import { OAuthClientsScreen } from "./screens/oauth-clients";
import { OperatorConsole } from "./screens/operator/console";
import { SignIn } from "./screens/sign-in";
import { SourcesScreen } from "./screens/sources";
import { UsageScreen } from "./screens/usage";
import { WebhooksScreen } from "./screens/webhooks";
import {
  allows,
  endOperatorSession,
  endSession,
  loadOperatorSession,
  loadSession,
  openPortalLink,
  type Session,
  saveOperatorSession,
  saveSession,
} from "./session";
import { TestModeBanner, TestModeSwitch } from "./test-mode";

const SCREENS = [
  { id: "keys", title: "API Keys", needs: "keys:read", View: KeysScreen },
  { id: "oauth-clients", title: "OAuth clients", needs: "keys:read", View: OAuthClientsScreen },
  { id: "webhooks", title: "Webhooks", needs: "webhooks:read", View: WebhooksScreen },
  { id: "deliveries", title: "Delivery log", needs: "webhooks:read", View: DeliveriesScreen },
  { id: "sources", title: "Incoming webhooks", needs: "sources:read", View: SourcesScreen },
  { id: "event-types", title: "Event types", needs: "events:read", View: EventTypesScreen },
  { id: "audit", title: "Audit log", needs: "audit:read", View: AuditScreen },
  { id: "usage", title: "Usage", needs: "keys:read", View: UsageScreen },
  { id: "errors", title: "Errors", needs: "audit:read", View: ErrorsScreen },
];

const GONE = "This link has expired or was already used";
/** The signed-in tenant's name, once the API has said it (the session itself carries only the id). */
function useTenantName(token: string | null): string | null {
  const [name, setName] = useState<string | null>(null);
  useEffect(() => {
    if (!token) return;
    let live = true;
    unwrap(hookgate().GET("/v1/whoami"))
      .then((who) => live && setName(who.tenant.name))
      .catch(() => live && setName(null));
    return () => {
      live = false;
    };
  }, [token]);
  return name;
}
const inPortal = location.pathname.startsWith("/dashboard/portal/");

/** The link's token, taken out of the address bar at once (a reload must not present it again). */
function takePortalToken(): string | null {
  const m = /^#token=([A-Za-z0-9]+)$/.exec(location.hash);
  if (!m) return null;
  history.replaceState(null, "", location.pathname);
  return m[1] ?? null;
}

function App() {
  const [portalToken] = useState(() => (inPortal ? takePortalToken() : null));
  const [session, setSession] = useState<Session | null>(() => (portalToken ? null : loadSession()));
  const [operator, setOperator] = useState<OperatorSession | null>(() => (inPortal ? null : loadOperatorSession()));
  const [opening, setOpening] = useState(portalToken !== null);
  const [notice, setNotice] = useState<string | null>(null);
  const route = useHashRoute();
  const tenantName = useTenantName(session?.token ?? null);

  const adopt = (s: Session | null) => {
    saveSession(s);
    setBearer(s?.token ?? null);
    setSession(s);
  };
  const adoptOperator = (s: OperatorSession | null) => {
    saveOperatorSession(s);
    setBearer(s?.token ?? null);
    setOperator(s);
  };
  setBearer(operator?.token ?? session?.token ?? null);
  whenSessionEnds((detail) => {
    adopt(null);
    adoptOperator(null);
    setNotice(`Your session has ended: ${detail}`);
  });

  useEffect(() => {
    if (!portalToken) return;
    openPortalLink(portalToken)
      .then((s) => adopt(s))
      .catch(() => setNotice(GONE))
      .finally(() => setOpening(false));
  }, []);

  if (opening) return <p class="hint">Opening…</p>;
  if (operator) {
    const signOutOperator = async () => {
      try {
        await endOperatorSession(operator);
        setNotice("You have signed out.");
      } catch (e) {
        setNotice(`Signed out here; the server said: ${messageOf(e)}`);
      }
      adoptOperator(null);
    };
    return <OperatorConsole session={operator} route={route} onSignOut={signOutOperator} />;
  }
  if (!session) {
    const signedIn = (s: Session) => {
      setNotice(null);
      adopt(s);
    };
    const operatorSignedIn = (s: OperatorSession) => {
      setNotice(null);
      location.hash = "#/tenants";
      adoptOperator(s);
    };
    if (!inPortal) {
      return (
        <>
          <header class="brand-bar">
            <BrandMark />
          </header>
          <SignIn notice={notice} onSession={signedIn} onOperator={operatorSignedIn} behindAccess={behindAccess} />
        </>
      );
    }
    return (
      <main id="main" class="signin">
        <h1>
          <BrandMark />
        </h1>
        <p role="alert">{notice === GONE || !notice ? GONE : notice}</p>
        <p class="hint">Open the page that brought you here again for a new link.</p>
      </main>
    );
  }

  const screens = SCREENS.filter((s) => allows(session, s.needs));
  const [routeId, ...rest] = route.split("/");
  const current = screens.find((s) => s.id === routeId) ?? screens[0];
  const param = current?.id === routeId && rest.length > 0 ? decodeURIComponent(rest.join("/")) : undefined;
  const signOut = async () => {
    try {
      await endSession(session);
      setNotice("You have signed out.");
    } catch (e) {
      setNotice(`Signed out here; the server said: ${messageOf(e)}`);
    }
    adopt(null);
  };

  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <BrandMark />
        <span class="who" title={session.tenantId}>
          <span class="tenant-name">{tenantName ?? "…"}</span>
          <span class="hint"> · {session.kind === "portal" ? "Portal" : "Integrations"}</span>
        </span>
        <TestModeSwitch session={session} onSession={adopt} />
        <a class="docs-link" href="/docs">
          API docs
        </a>
        <button type="button" class="secondary" onClick={signOut}>
          Sign out
        </button>
      </header>
      <TestModeBanner session={session} />
      <nav aria-label="Screens">
        <ul>
          {screens.map((s) => (
            <li>
              <a href={`#/${s.id}`} aria-current={s.id === current?.id ? "page" : undefined}>
                {s.title}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {/* Keyed by the session: switching modes starts every screen afresh on the other mode's data. */}
      <main id="main" tabIndex={-1} key={session.sessionId}>
        {current ? (
          <current.View key={route} session={session} param={param} />
        ) : (
          <p>This session's scopes allow none of the dashboard's screens.</p>
        )}
      </main>
    </div>
  );
}

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(
    <>
      <App />
      <BrandFooter />
    </>,
    root,
  );
}
