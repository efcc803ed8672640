import { describe, expect, it } from "vitest";
import pkg from "../../package.json";
import { callUrl, putGateway, stubOrigin } from "./gateway-kit";
import { BASE, call, expectProblem } from "./helpers";

/** `GET /`: where a developer lands after `npm start`, pointing at the dashboard and the API docs. */
describe("GET /", () => {
  it("answers JSON with the links (curl and other API clients)", async () => {
    const res = await call("GET", "/", { headers: { accept: "*/*" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    expect(res.body).toEqual({
      name: "Hookgate",
      version: pkg.version,
      dashboard: `${BASE}/dashboard`,
      docs: `${BASE}/docs`,
      openapi: `${BASE}/openapi.json`,
      health: `${BASE}/health`,
    });
  });

  it("links only to pages that answer", async () => {
    const { body } = await call("GET", "/");
    for (const link of [body.dashboard, body.docs, body.openapi, body.health]) {
      const res = await callUrl("GET", link);
      expect(res.status, link).toBe(200);
    }
  });

  it("answers a browser with a small page linking to /dashboard and /docs, under a CSP that runs nothing", async () => {
    const res = await call("GET", "/", { headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.text).toContain('<a href="/dashboard">');
    expect(res.text).toContain('<a href="/docs">');
    expect(res.text).not.toMatch(/<script|<style|\sstyle=|\son\w+=/i);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("answers HEAD like GET, without a body", async () => {
    const res = await call("HEAD", "/");
    expect(res.status).toBe(200);
    expect(res.text).toBe("");
  });

  it("is GET only: another method is a 404 problem, as for any unknown route", async () => {
    for (const method of ["POST", "PUT", "DELETE"]) {
      expectProblem(await call(method, "/", { body: {} }), 404, "not_found");
    }
  });

  it("on a host given whole to the operator's API, / is the API's, not Hookgate's page", async () => {
    const origin = stubOrigin();
    try {
      expect((await putGateway({ hosts: ["api.example.test"], routes: [{ path: "/tests/*" }] })).status).toBe(200);
      // No route covers / on the gateway's host: the gateway's own 404, never Hookgate's page.
      const res = await callUrl("GET", "https://api.example.test/", { headers: { accept: "text/html" } });
      expectProblem(res, 404, "not_found");
      expect(origin.calls).toEqual([]);
      // Hookgate's own hostname keeps its page.
      expect((await call("GET", "/")).body).toMatchObject({ name: "Hookgate" });
    } finally {
      origin.spy.mockRestore();
    }
  });
});
