import { describe, expect, it } from "vitest";
import { ALL_SCOPES, expandScopes, hasScope, missingScopes, RESOURCE_SCOPES, requiredScope } from "../../src/auth/scopes";

const READS = ["keys:read", "webhooks:read", "events:read", "sources:read", "audit:read"];
const WRITES = ["keys:write", "webhooks:write", "events:write", "sources:write"];

describe("scope lists", () => {
  it("hold exactly the SPEC's scopes", () => {
    expect([...RESOURCE_SCOPES].sort()).toEqual([...READS, ...WRITES].sort());
    expect([...ALL_SCOPES].sort()).toEqual([...READS, ...WRITES, "api:read", "api:write"].sort());
  });
});

describe("expandScopes", () => {
  it("expands api:read to every :read scope and nothing else", () => {
    expect([...expandScopes(["api:read"])].sort()).toEqual([...READS].sort());
  });

  it("expands api:write to every :write scope and nothing else", () => {
    expect([...expandScopes(["api:write"])].sort()).toEqual([...WRITES].sort());
  });

  it("keeps plain scopes and removes duplicates", () => {
    expect([...expandScopes(["keys:read", "keys:read", "audit:read"])].sort()).toEqual(["audit:read", "keys:read"]);
    expect([...expandScopes(["api:read", "keys:read"])].sort()).toEqual([...READS].sort());
  });

  it("is empty for no scopes", () => {
    expect(expandScopes([]).size).toBe(0);
  });
});

describe("hasScope", () => {
  it("honours wildcards and exact scopes", () => {
    expect(hasScope(["api:read"], "audit:read")).toBe(true);
    expect(hasScope(["api:read"], "keys:write")).toBe(false);
    expect(hasScope(["api:write"], "keys:write")).toBe(true);
    expect(hasScope(["api:write"], "keys:read")).toBe(false);
    expect(hasScope(["keys:write"], "keys:read")).toBe(false);
    expect(hasScope(["keys:read"], "keys:read")).toBe(true);
    expect(hasScope([], "keys:read")).toBe(false);
  });

  it("does not let write imply read, nor a wildcard-looking string match", () => {
    expect(hasScope(["keys:write"], "keys:read")).toBe(false);
    expect(hasScope(["keys:*"], "keys:read")).toBe(false);
    expect(hasScope(["api:admin"], "keys:read")).toBe(false);
  });
});

describe("missingScopes", () => {
  it("is empty when held covers requested", () => {
    expect(missingScopes(["keys:read", "keys:write"], ["keys:write"])).toEqual([]);
    expect(missingScopes(["api:read", "api:write"], ["api:read"])).toEqual([]);
    expect(missingScopes(["api:read", "api:write"], ["webhooks:write", "audit:read"])).toEqual([]);
    expect(missingScopes(["api:read"], ["keys:read", "audit:read"])).toEqual([]);
    expect(missingScopes([...READS], ["api:read"])).toEqual([]);
    expect(missingScopes(["keys:read"], [])).toEqual([]);
  });

  it("lists what is not covered", () => {
    expect(missingScopes(["keys:read", "keys:write"], ["webhooks:read"])).toEqual(["webhooks:read"]);
    expect(missingScopes(["keys:read", "keys:write"], ["keys:read", "webhooks:read", "audit:read"])).toEqual([
      "webhooks:read",
      "audit:read",
    ]);
    expect(missingScopes(["api:read"], ["keys:write"])).toEqual(["keys:write"]);
    expect(missingScopes(["api:write"], ["keys:read"])).toEqual(["keys:read"]);
  });

  it("expands a requested wildcard, so a partial holder cannot grant it", () => {
    expect(missingScopes(["keys:read"], ["api:read"]).sort()).toEqual(READS.filter((s) => s !== "keys:read").sort());
    expect(missingScopes(["api:read"], ["api:write"]).sort()).toEqual([...WRITES].sort());
    expect(missingScopes([], ["keys:read"])).toEqual(["keys:read"]);
  });
});

describe("requiredScope", () => {
  it.each([
    ["keys", "GET", "keys:read"],
    ["keys", "HEAD", "keys:read"],
    ["keys", "get", "keys:read"],
    ["keys", "POST", "keys:write"],
    ["keys", "PATCH", "keys:write"],
    ["keys", "DELETE", "keys:write"],
    ["keys", "PUT", "keys:write"],
    ["keys", "delete", "keys:write"],
    ["audit", "GET", "audit:read"],
    ["webhooks", "POST", "webhooks:write"],
    ["events", "GET", "events:read"],
    ["sources", "PATCH", "sources:write"],
  ] as const)("%s %s needs %s", (resource, method, expected) => {
    expect(requiredScope(resource, method)).toBe(expected);
  });
});
