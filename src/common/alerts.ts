/**
 * The alerts (docs/monitoring.md): the operational events that warn before
 * something breaks, as opposed to those reporting that it did. Declared here
 * for the server's catalog and the dashboard's "Alerts" list alike.
 */
export const ALERT_TYPES = [
  "hookgate.endpoint.degraded",
  "hookgate.credential.limit_approaching",
  "hookgate.credential.rate_limited",
  "hookgate.credential.expiring",
  "hookgate.credential.dormant",
] as const;

export type AlertType = (typeof ALERT_TYPES)[number];
