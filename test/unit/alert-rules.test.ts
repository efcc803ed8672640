import { describe, expect, it } from "vitest";
import { type AlertState, DORMANT_AFTER_MS, dueAlerts, emptyAlertState, limitAlert } from "../../src/ratelimit/alert-rules";

const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 1);

const known = (createdAt: number | null = T0): AlertState => ({ ...emptyAlertState(), subject: { tenantId: "ten_a", createdAt } });
const policy = (expiresAt: number | null, revokedAt: number | null = null) => ({ expiresAt, revokedAt, ipAllowlist: null });
const decision = (remaining: number, allowed = true) => ({ bucket: "read" as const, limit: 10, windowSeconds: 60, remaining, allowed });

describe("limit alerts", () => {
  it("limit_approaching from 80 % used, once per window and hour", () => {
    const s = known();
    expect(limitAlert(s, "key_1", decision(3), T0)).toBeNull();
    expect(limitAlert(s, "key_1", decision(2), T0)).toMatchObject({
      tenantId: "ten_a",
      type: "hookgate.credential.limit_approaching",
      data: { credentialId: "key_1", bucket: "read", limit: 10, used: 8, windowSeconds: 60 },
    });
    expect(limitAlert(s, "key_1", decision(1), T0 + 1)).toBeNull();
    expect(limitAlert(s, "key_1", decision(1), T0 + HOUR - 1)).toBeNull();
    expect(limitAlert(s, "key_1", decision(1), T0 + HOUR)).not.toBeNull();
  });

  it("rate_limited at a refusal, spaced by the window when it is longer than an hour", () => {
    const s = known();
    const day = { ...decision(0, false), windowSeconds: 86_400 };
    expect(limitAlert(s, "key_1", day, T0)?.type).toBe("hookgate.credential.rate_limited");
    expect(limitAlert(s, "key_1", day, T0 + 2 * HOUR)).toBeNull();
    expect(limitAlert(s, "key_1", day, T0 + DAY)?.data).toEqual({
      credentialId: "key_1",
      bucket: "read",
      limit: 10,
      windowSeconds: 86_400,
    });
  });

  it("nothing without a known tenant", () => {
    expect(limitAlert(emptyAlertState(), "src_1", decision(0, false), T0)).toBeNull();
  });
});

describe("time-driven alerts", () => {
  const inputs = (p: ReturnType<typeof policy> | null, lastUsedAt: number | null = null) => ({
    credentialId: "key_1",
    policy: p,
    lastUsedAt,
  });

  it("expiring: the 7-day notice, then the 1-day one, each once; the next look is the next notice", () => {
    const s = known();
    const exp = T0 + 20 * DAY;
    expect(dueAlerts(s, inputs(policy(exp)), T0)).toEqual({ alerts: [], nextAt: exp - 7 * DAY });
    const first = dueAlerts(s, inputs(policy(exp)), exp - 7 * DAY);
    expect(first.alerts).toEqual([
      { tenantId: "ten_a", type: "hookgate.credential.expiring", data: { credentialId: "key_1", expiresAt: new Date(exp).toISOString() } },
    ]);
    expect(first.nextAt).toBe(exp - DAY);
    expect(dueAlerts(s, inputs(policy(exp)), exp - 3 * DAY).alerts).toEqual([]);
    expect(dueAlerts(s, inputs(policy(exp)), exp - DAY).alerts).toHaveLength(1);
    expect(dueAlerts(s, inputs(policy(exp)), exp - 1).alerts).toEqual([]);
  });

  it("expiring: a changed expiry is noticed again; a revoked credential never", () => {
    const s = known();
    dueAlerts(s, inputs(policy(T0 + 3 * DAY)), T0);
    expect(dueAlerts(s, inputs(policy(T0 + 4 * DAY)), T0 + 2 * HOUR).alerts).toHaveLength(1);
    expect(dueAlerts(known(), inputs(policy(T0 + 3 * DAY, T0 + HOUR)), T0)).toEqual({ alerts: [], nextAt: null });
  });

  it("dormant: from creation when never used, from the last use otherwise; once per stretch", () => {
    const s = known(T0);
    expect(dueAlerts(s, inputs(policy(null)), T0 + DAY).nextAt).toBe(T0 + DORMANT_AFTER_MS);
    expect(dueAlerts(s, inputs(policy(null)), T0 + DORMANT_AFTER_MS).alerts).toEqual([
      { tenantId: "ten_a", type: "hookgate.credential.dormant", data: { credentialId: "key_1", lastUsedAt: null } },
    ]);
    expect(dueAlerts(s, inputs(policy(null)), T0 + 40 * DAY)).toEqual({ alerts: [], nextAt: null });
    const used = T0 + 41 * DAY;
    expect(dueAlerts(s, inputs(policy(null), used), used + DAY).nextAt).toBe(used + DORMANT_AFTER_MS);
    expect(dueAlerts(s, inputs(policy(null), used), used + DORMANT_AFTER_MS).alerts[0]?.data).toEqual({
      credentialId: "key_1",
      lastUsedAt: new Date(used).toISOString(),
    });
  });

  it("dormant: not for a credential expired first; nothing known of its creation, nothing to count from", () => {
    expect(dueAlerts(known(T0), inputs(policy(T0 + 10 * DAY)), T0 + 31 * DAY).alerts).toEqual([]);
    expect(dueAlerts(known(null), inputs(policy(null)), T0 + 365 * DAY)).toEqual({ alerts: [], nextAt: null });
  });
});
