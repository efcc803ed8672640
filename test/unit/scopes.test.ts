import { describe, expect, it } from "vitest";
import { ALL_SCOPES, expandScopes, grantedScopes, hasScope, missingScopes, RESOURCE_SCOPES, requiredScope } from "../../src/common/scopes";

const READS = ["keys:read", "webhooks:read", "events:read", "sources:read", "audit:read"];
const WRITES = ["keys:write", "webhooks:write", "events:write", "sources:write"];

describe("scope lists", () => {
  it("hold exactly Hookgate's own scopes: a read and (but audit) a write per resource, and the two wildcards", () => {
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

  it("a required wildcard is met by that very wildcard only, never by its members", () => {
    const product = ["tests:read", "tests:write"];
    expect(hasScope(["api:read"], "api:read", product)).toBe(true);
    expect(hasScope(["api:read", "api:write"], "api:write", product)).toBe(true);
    expect(hasScope(["api:read", "api:write"], "api:read")).toBe(true);
    expect(hasScope([...READS, "tests:read"], "api:read", product)).toBe(false);
    expect(hasScope([...WRITES, "tests:write"], "api:write", product)).toBe(false);
    expect(hasScope(["api:write"], "api:read", product)).toBe(false);
    expect(hasScope(["api:read"], "api:write", product)).toBe(false);
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

  it("a requested wildcard needs that very wildcard: holding each of its members today is not enough", () => {
    expect(missingScopes(["keys:read"], ["api:read"])).toEqual(["api:read"]);
    expect(missingScopes([...READS], ["api:read"])).toEqual(["api:read"]);
    expect(missingScopes([...READS, "tests:read"], ["api:read", "tests:read"], ["tests:read"])).toEqual(["api:read"]);
    expect(missingScopes(["api:read"], ["api:write"])).toEqual(["api:write"]);
    expect(missingScopes(["api:read", "api:write"], ["api:write", "api:read"])).toEqual([]);
    expect(missingScopes([], ["keys:read"])).toEqual(["keys:read"]);
  });
});

describe("grantedScopes", () => {
  it("lists the held scopes and what their wildcards cover, once each", () => {
    expect([...grantedScopes(["api:read", "keys:read"], ["tests:read", "tests:write"])].sort()).toEqual(
      ["api:read", ...READS, "tests:read"].sort(),
    );
  });

  it("leaves out a product scope that is no longer listed: it grants nothing", () => {
    expect(grantedScopes(["tests:read", "keys:read"], ["reports:read"])).toEqual(["keys:read"]);
    expect(grantedScopes(["tests:read"], [])).toEqual([]);
  });

  it("answers again from memory for the same lists, and anew when the product's list is replaced", () => {
    const held = ["tests:read", "keys:read"];
    const listed = ["tests:read"];
    const first = grantedScopes(held, listed);
    expect(grantedScopes(held, listed)).toBe(first);
    expect(first).toEqual(["tests:read", "keys:read"]);
    // The operator removed tests:read: the cache of product scopes holds a new list.
    expect(grantedScopes(held, [])).toEqual(["keys:read"]);
    expect(grantedScopes(held, ["tests:read"])).toEqual(["tests:read", "keys:read"]);
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
