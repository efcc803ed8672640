import { RequestErrorTable } from "./request-errors";
import { focusOnMount } from "./ui";
import { UsageChart } from "./usage-chart";

/** One key's requests by outcome and its recent errors (the errors need `audit:read`), for the Keys screen to embed. */
export function KeyActivity({
  keyId,
  name,
  canReadErrors,
  onClose,
}: {
  keyId: string;
  name: string;
  canReadErrors: boolean;
  onClose: () => void;
}) {
  return (
    <section class="card" aria-labelledby={`activity-${keyId}`}>
      <h2 id={`activity-${keyId}`} tabIndex={-1} ref={focusOnMount}>
        Usage of {name}
      </h2>
      <UsageChart of={{ keyId }} label={name} />
      {canReadErrors ? (
        <>
          <h3>Recent errors</h3>
          <RequestErrorTable credentialId={keyId} caption={`Request errors of ${name}, newest first`} />
        </>
      ) : null}
      <button type="button" class="secondary" onClick={onClose}>
        Close
      </button>
    </section>
  );
}
