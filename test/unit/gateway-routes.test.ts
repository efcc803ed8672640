import { describe, expect, it } from "vitest";
import { isHookgatePath, matchRoute, normalizeHost } from "../../src/gateway/routes";

describe("isHookgatePath", () => {
  it("takes each of Hookgate's paths exactly and everything below it", () => {
    for (const path of [
      "/v1",
      "/v1/",
      "/v1/keys",
      "/admin/tenants/ten_1",
      "/oauth/token",
      "/in/src_1",
      "/dashboard",
      "/dashboard/assets/a.js",
    ])
      expect(isHookgatePath(path), path).toBe(true);
    for (const path of ["/docs", "/docs/assets/x.css", "/openapi.json", "/health", "/health/"])
      expect(isHookgatePath(path), path).toBe(true);
  });

  it("leaves every other path to the gateway, look-alikes included", () => {
    for (const path of [
      "/",
      "/items/1",
      "/v1x",
      "/v2/keys",
      "/healthz",
      "/openapiXjson",
      "/dashboards",
      "/x/v1/keys",
      "/in-flight",
      "/admin2",
    ])
      expect(isHookgatePath(path), path).toBe(false);
  });
});

describe("matchRoute", () => {
  const route = (method: string, path: string) => ({ method, path, scope: null, cost: 1 });
  it("prefers an exact path, then the longer prefix, then the route for this method", () => {
    const routes = [route("*", "/*"), route("*", "/items/*"), route("GET", "/items/*"), route("*", "/items/special")];
    expect(matchRoute(routes, "GET", "/items/special")?.path).toBe("/items/special");
    expect(matchRoute(routes, "GET", "/items/1")).toEqual(route("GET", "/items/*"));
    expect(matchRoute(routes, "HEAD", "/items/1")).toEqual(route("GET", "/items/*"));
    expect(matchRoute(routes, "POST", "/items/1")).toEqual(route("*", "/items/*"));
    expect(matchRoute(routes, "POST", "/other")).toEqual(route("*", "/*"));
    expect(matchRoute([route("GET", "/items/*")], "GET", "/itemsx")).toBeUndefined();
  });

  it("normalizes hosts as the gateway compares them", () => {
    expect(normalizeHost("API.Example.com.")).toBe("api.example.com");
  });
});
