import { MODES, type Mode } from "../../../../common/enums";

/**
 * The tenant page's Live / Test switch: which of the tenant's modes its
 * Webhooks and Delivery log tabs show (every read and change passes `?mode=`).
 */
export function TenantModeSwitch({ mode, onChange }: { mode: Mode; onChange: (mode: Mode) => void }) {
  return (
    <fieldset class="filters" aria-label="Tenant mode">
      <legend>Mode</legend>
      {MODES.map((m) => (
        <label>
          <input type="radio" name="tenant-mode" value={m} checked={mode === m} onChange={() => onChange(m)} />{" "}
          {m === "live" ? "Live" : "Test"}
        </label>
      ))}
      {mode === "test" ? <p class="hint">Showing the tenant's test mode data.</p> : null}
    </fieldset>
  );
}
