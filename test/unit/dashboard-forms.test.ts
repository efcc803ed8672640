import { describe, expect, it } from "vitest";
import { VERIFICATION_SCHEMES } from "../../src/common/enums";
import {
  cidrLines,
  deliveryState,
  endOfDayUtc,
  grantable,
  keyHint,
  pairsToRecord,
  parseMapping,
  recordToPairs,
  retryUnavailable,
  SCHEME_FIELDS,
  STATUS_FILTERS,
  verificationBody,
} from "../../src/dashboard/client/forms";

describe("the endpoint form's name/value rows", () => {
  it("become an object without blank rows; names trimmed, values kept as typed", () => {
    expect(
      pairsToRecord([
        { name: " Authorization ", value: "Bearer x " },
        { name: "", value: "ignored" },
        { name: "X-Team", value: "" },
      ]),
    ).toEqual({ Authorization: "Bearer x ", "X-Team": "" });
  });

  it("no row left is null (the API's 'none'), and an object shows as rows with one blank row at least", () => {
    expect(pairsToRecord([{ name: " ", value: "v" }])).toBeNull();
    expect(recordToPairs(null)).toEqual([{ name: "", value: "" }]);
    expect(recordToPairs({ plan: "pro", seats: 3 })).toEqual([
      { name: "plan", value: "pro" },
      { name: "seats", value: "3" },
    ]);
  });
});

describe("the key form", () => {
  it("reads an IP allowlist one CIDR per line, blank lines and spaces dropped", () => {
    expect(cidrLines(" 10.0.0.0/8\n\n2001:db8::/32 \r\n")).toEqual(["10.0.0.0/8", "2001:db8::/32"]);
    expect(cidrLines("   ")).toEqual([]);
  });

  it("turns an expiry day into the end of that day, UTC, and refuses what is not a day", () => {
    expect(endOfDayUtc("2031-02-03")).toBe("2031-02-03T23:59:59.000Z");
    expect(endOfDayUtc("2031-02-30")).toBeNull();
    expect(endOfDayUtc("tomorrow")).toBeNull();
  });

  it("offers only the scopes the session may hand on; its wildcards cover the product's scopes", () => {
    const listed = [
      { name: "keys:read" },
      { name: "keys:write" },
      { name: "api:read" },
      { name: "reports:read" },
      { name: "reports:write" },
    ];
    expect(grantable(listed, ["api:read"]).map((s) => s.name)).toEqual(["keys:read", "api:read", "reports:read"]);
    expect(grantable(listed, ["keys:read", "reports:write"]).map((s) => s.name)).toEqual(["keys:read", "reports:write"]);
  });

  it("shows a key as start…last4", () => {
    expect(keyHint({ start: "hg_live_abcd", last4: "WXYZ" })).toBe("hg_live_abcd…WXYZ");
  });
});

describe("the source form", () => {
  it("has fields for every verification scheme", () => {
    expect(Object.keys(SCHEME_FIELDS).sort()).toEqual([...VERIFICATION_SCHEMES].sort());
    for (const scheme of VERIFICATION_SCHEMES) expect(SCHEME_FIELDS[scheme].length, scheme).toBeGreaterThan(0);
  });

  it("builds each scheme's verification object with the API's field names", () => {
    expect(verificationBody("hmac", { secret: "s", header: "X-Sig" })).toEqual({
      scheme: "hmac",
      secret: "s",
      header: "X-Sig",
      algorithm: "sha256",
      encoding: "hex",
    });
    expect(verificationBody("hmac", { secret: "s", header: "X-Sig", algorithm: "sha1", encoding: "base64", prefix: "sha1=" })).toEqual({
      scheme: "hmac",
      secret: "s",
      header: "X-Sig",
      algorithm: "sha1",
      encoding: "base64",
      prefix: "sha1=",
    });
    expect(verificationBody("basic", { username: "u", password: "p" })).toEqual({ scheme: "basic", username: "u", password: "p" });
    expect(verificationBody("api-key", { header: "X-Key", secret: "k" })).toEqual({ scheme: "api-key", header: "X-Key", secret: "k" });
    expect(verificationBody("meta", { secret: "a", verifyToken: "t" })).toEqual({ scheme: "meta", secret: "a", verifyToken: "t" });
    expect(verificationBody("stripe", { secret: "whsec_x", header: "ignored" })).toEqual({ scheme: "stripe", secret: "whsec_x" });
  });

  it("reads the mapping as JSON: empty is none, bad JSON says so", () => {
    expect(parseMapping("  ")).toEqual({ ok: true, value: undefined });
    expect(parseMapping('{"repo": "{{trigger.repo}}"}')).toEqual({ ok: true, value: { repo: "{{trigger.repo}}" } });
    const bad = parseMapping("{repo}");
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/^Mapping is not valid JSON/);
  });
});

describe("the delivery log", () => {
  const at = (iso: string) => `at ${iso}`;

  it("filters by the statuses a user reads", () => {
    expect(STATUS_FILTERS.map((s) => s.label)).toEqual(["Succeeded", "Failed", "Pending"]);
  });

  it("says when a failing delivery's next attempt is due, and what a held one waits for", () => {
    expect(deliveryState({ status: "pending", attemptCount: 2, nextAttemptAt: "2031-01-01T00:05:00Z" }, at)).toBe(
      "Retrying: next attempt due at 2031-01-01T00:05:00Z",
    );
    expect(deliveryState({ status: "pending", attemptCount: 0, nextAttemptAt: "2031-01-01T00:00:00Z" }, at)).toBe(
      "Pending: first attempt due at 2031-01-01T00:00:00Z",
    );
    expect(deliveryState({ status: "pending", attemptCount: 3, nextAttemptAt: null }, at)).toMatch(/^Held: /);
    expect(deliveryState({ status: "failed", attemptCount: 5, nextAttemptAt: null }, at)).toBe("Failed after 5 attempts");
    expect(deliveryState({ status: "succeeded", attemptCount: 1, nextAttemptAt: null }, at)).toBe("Succeeded after 1 attempt");
  });

  it("says why Retry is unavailable, in the API's own order of rules", () => {
    expect(retryUnavailable({ status: "failed" }, { isEnabled: true }, true)).toBeNull();
    expect(retryUnavailable({ status: "failed" }, undefined, true)).toBeNull();
    expect(retryUnavailable({ status: "pending" }, { isEnabled: true }, true)).toMatch(/still pending/);
    expect(retryUnavailable({ status: "failed" }, null, true)).toMatch(/was deleted/);
    expect(retryUnavailable({ status: "succeeded" }, { isEnabled: false }, true)).toMatch(/disabled; enable it first/);
    expect(retryUnavailable({ status: "failed" }, { isEnabled: true }, false)).toMatch(/webhooks:write/);
  });
});
