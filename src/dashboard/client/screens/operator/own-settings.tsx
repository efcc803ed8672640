import { useEffect, useState } from "hono/jsx/dom";
import { ApiError, type Gateway, hookgate, messageOf, unwrap } from "../../api";
import { when } from "../../format";
import { Cell, DataTable, ErrorNote } from "../../ui";

/** Loads one operator resource; `missing` is what a 404 means (nothing set yet). */
function useResource<T>(load: () => Promise<T>): { value: T | null; missing: boolean; loading: boolean; error: string | null } {
  const [state, setState] = useState<{ value: T | null; missing: boolean; loading: boolean; error: string | null }>({
    value: null,
    missing: false,
    loading: true,
    error: null,
  });
  useEffect(() => {
    load()
      .then((value) => setState({ value, missing: false, loading: false, error: null }))
      .catch((e) =>
        setState({
          value: null,
          missing: e instanceof ApiError && e.problem.status === 404,
          loading: false,
          error: e instanceof ApiError && e.problem.status === 404 ? null : messageOf(e),
        }),
      );
  }, []);
  return state;
}

/** "Gateway": the operator's API behind Hookgate: its origin, hosts and routes with their scopes. */
export function GatewayScreen() {
  const gw = useResource<Gateway>(() => unwrap(hookgate().GET("/admin/gateway")));
  return (
    <section aria-labelledby="gateway-h">
      <h1 id="gateway-h">Gateway</h1>
      <ErrorNote error={gw.error} />
      {gw.missing ? <p class="hint">No gateway is set up yet (PUT /admin/gateway).</p> : null}
      {gw.loading ? <p class="hint">Loading…</p> : null}
      {gw.value ? (
        <>
          <dl class="facts">
            <dt>Origin</dt>
            <dd class="mono">{gw.value.origin}</dd>
            <dt>Hosts</dt>
            <dd class="mono">{gw.value.hosts.join(", ") || "–"}</dd>
            <dt>Updated</dt>
            <dd>{when(gw.value.updatedAt)}</dd>
          </dl>
          <DataTable caption="Gateway routes" columns={["Method", "Path", "Scope", "Cost"]}>
            {gw.value.routes.map((r) => (
              <tr key={`${r.method} ${r.path}`}>
                <Cell label="Method">{r.method}</Cell>
                <Cell label="Path">
                  <span class="mono">{r.path}</span>
                </Cell>
                <Cell label="Scope">
                  <span class="mono">{r.scope ?? "any credential"}</span>
                </Cell>
                <Cell label="Cost">{r.cost}</Cell>
              </tr>
            ))}
          </DataTable>
        </>
      ) : null}
    </section>
  );
}
