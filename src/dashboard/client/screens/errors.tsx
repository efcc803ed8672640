import { RequestErrorTable, RequestIdSearch } from "../request-errors";
import type { ScreenProps } from "./screen";

/** "Errors": the non-2xx answers your credentials got, newest first, and a lookup by request id. */
export function ErrorsScreen(_: ScreenProps) {
  return (
    <section aria-labelledby="errors-h">
      <h1 id="errors-h">Errors</h1>
      <p class="hint">Every response carries an X-Request-Id; paste one here to see what that request was answered.</p>
      <RequestIdSearch />
      <h2>Recent errors</h2>
      <RequestErrorTable caption="Request errors, newest first" />
    </section>
  );
}
