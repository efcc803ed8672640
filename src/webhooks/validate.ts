import type { Db } from "../db/client";
import { liveEventTypes } from "../db/event-types";
import { checkWebhookUrl } from "../delivery/url-guard";
import { type FieldError, ValidationError } from "../lib/errors";

/** The webhook URL rules (HTTPS, no credentials, no internal hosts); 422 naming the rule. */
export function assertDeliverableUrl(raw: string, allowInsecure: boolean): string {
  const result = checkWebhookUrl(raw, { allowInsecure });
  if (!result.ok) throw new ValidationError([{ path: "url", message: result.reason }]);
  return result.url.toString();
}

/** `eventTypes` must be `["*"]` or names of live types in the tenant's catalog. */
export async function assertKnownEventTypes(db: Db, tenantId: string, names: string[]): Promise<void> {
  if (names.includes("*")) {
    if (names.length > 1) throw new ValidationError([{ path: "eventTypes", message: '"*" already matches every type; send it alone' }]);
    return;
  }
  const catalog = new Set((await liveEventTypes(db, tenantId)).map((t) => t.name));
  const errors: FieldError[] = [];
  names.forEach((name, i) => {
    if (!catalog.has(name)) {
      errors.push({
        path: `eventTypes.${i}`,
        message: `${name} is not in the event catalog`,
        allowed: ["*", ...[...catalog].slice(0, 100)],
      });
    }
  });
  if (errors.length > 0) throw new ValidationError(errors);
}
