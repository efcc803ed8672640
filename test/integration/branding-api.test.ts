import { afterEach, describe, expect, it } from "vitest";
import { call, expectProblem, fieldError, newTenant, operatorAudit } from "./helpers";

/**
 * The operator's brand: PUT/GET /admin/branding, its validation (the logo
 * by its bytes), its audit entry, problem types under problemTypeBase, and
 * the pages and logo the dashboard serves under it. Tests in this file share
 * storage, so each one returns to the defaults.
 */

afterEach(async () => {
  const res = await call("DELETE", "/admin/branding", { admin: true });
  expect(res.status).toBe(200);
});

const bytes = (...parts: (number[] | string)[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? [...new TextEncoder().encode(p)] : p)));
const b64 = (u: Uint8Array) => btoa(String.fromCharCode(...u));
const PNG = bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], [0, 0, 0, 13], "IHDR", [0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
const JPEG = bytes([0xff, 0xd8, 0xff, 0xe0, 0, 16], "JFIF", [0]);
const WEBP = bytes("RIFF", [26, 0, 0, 0], "WEBPVP8 ", [0, 0, 0, 0]);
const GIF = bytes("GIF89a", [1, 0, 1, 0, 0, 0, 0]);
const SVG = '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>\n';
const dataUrl = (type: string, u: Uint8Array) => `data:${type};base64,${b64(u)}`;
const png = dataUrl("image/png", PNG);

const put = (body: unknown) => call("PUT", "/admin/branding", { admin: true, body });
const FULL = {
  productName: "Acme",
  headerPrefix: "Acme",
  userAgent: "Acme-Webhooks/2.0",
  problemTypeBase: "https://docs.acme.example/errors/",
  accentColor: "#FFCC00",
  logo: png,
  supportUrl: "https://acme.example/support",
  docsUrl: "https://docs.acme.example/",
};

describe("GET/PUT /admin/branding", () => {
  it("answers the defaults while nothing is set", async () => {
    const res = await call("GET", "/admin/branding", { admin: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      productName: "Hookgate",
      headerPrefix: "Webhook",
      problemTypeBase: "https://hookgate.dev/problems/",
      accentColor: null,
      logo: null,
      logoUrl: null,
      supportUrl: null,
      docsUrl: null,
      custom: false,
      updatedAt: null,
    });
    expect(res.body.userAgent).toMatch(/^Hookgate\/\d+\.\d+\.\d+/);
  });

  it("is the operator's alone: no token, a bad token or a tenant's key gets 401", async () => {
    const { key } = await newTenant();
    for (const opts of [{}, { key }, { headers: { authorization: "Bearer nope" } }]) {
      expect((await call("GET", "/admin/branding", opts)).status).toBe(401);
      const refused = await call("PUT", "/admin/branding", { ...opts, body: { productName: "Evil" } });
      expectProblem(refused, 401, refused.body.code);
    }
    expect((await call("GET", "/admin/branding", { admin: true })).body.productName).toBe("Hookgate");
  });

  it("stores the whole brand, answers it, and darkens an accent text could not be read on", async () => {
    const res = await put(FULL);
    expect(res.status, res.text).toBe(200);
    // The accent is answered as given; the one in use is normalised (lowercase, darkened if need be).
    expect(res.body).toMatchObject({ ...FULL, accentColor: "#FFCC00", logoUrl: "/dashboard/brand/logo", custom: true });
    expect(res.body.accentColorUsed).toMatch(/^#[0-9a-f]{6}$/);
    expect(res.body.accentColorUsed).not.toBe("#ffcc00");
    expect(res.body.updatedAt).toMatch(/^\d{4}-/);
    expect((await call("GET", "/admin/branding", { admin: true })).body).toEqual(res.body);
    // A dark enough accent is used as given.
    expect((await put({ productName: "Acme", accentColor: "#1d4ed8" })).body.accentColorUsed).toBe("#1d4ed8");
  });

  it("fields left out return to their defaults", async () => {
    await put(FULL);
    const res = await put({ productName: "Acme Two" });
    expect(res.body).toMatchObject({ productName: "Acme Two", headerPrefix: "Webhook", logo: null, accentColor: null, supportUrl: null });
    expect(res.body.userAgent).toMatch(/^Hookgate\//);
  });

  it("refuses bad fields with 422 naming each, and leaves the stored brand as it was", async () => {
    await put(FULL);
    const cases: [Record<string, unknown>, string][] = [
      [{}, "productName"],
      [{ productName: "" }, "productName"],
      [{ productName: "   " }, "productName"],
      [{ productName: "x".repeat(41) }, "productName"],
      [{ productName: "A", headerPrefix: "X Acme" }, "headerPrefix"],
      [{ productName: "A", headerPrefix: "1Acme" }, "headerPrefix"],
      [{ productName: "A", headerPrefix: "Acme--Hooks" }, "headerPrefix"],
      [{ productName: "A", headerPrefix: "Acme-" }, "headerPrefix"],
      [{ productName: "A", headerPrefix: "Acme_Hooks" }, "headerPrefix"],
      [{ productName: "A", headerPrefix: "A".repeat(31) }, "headerPrefix"],
      [{ productName: "A", userAgent: "Acme\r\nX-Evil: 1" }, "userAgent"],
      [{ productName: "A", problemTypeBase: "http://acme.example/errors/" }, "problemTypeBase"],
      [{ productName: "A", problemTypeBase: "https://acme.example/errors" }, "problemTypeBase"],
      [{ productName: "A", problemTypeBase: "not a url/" }, "problemTypeBase"],
      [{ productName: "A", accentColor: "red" }, "accentColor"],
      [{ productName: "A", accentColor: "#fff" }, "accentColor"],
      [{ productName: "A", supportUrl: "javascript:alert(1)" }, "supportUrl"],
      [{ productName: "A", docsUrl: "http://docs.acme.example/" }, "docsUrl"],
      [{ productName: "A", unknown: 1 }, ""],
    ];
    for (const [body, path] of cases) {
      const res = await put(body);
      expectProblem(res, 422, "validation_failed");
      if (path) expect(fieldError(res, path).message.length, JSON.stringify(body)).toBeGreaterThan(0);
    }
    const stored = await call("GET", "/admin/branding", { admin: true });
    expect(stored.body).toMatchObject({ productName: "Acme", headerPrefix: "Acme", logo: png });
  });

  it("takes a logo by its bytes: PNG, JPEG, WebP and SVG (base64 or percent-encoded) pass; anything else is 422 naming logo", async () => {
    for (const [logo, type] of [
      [png, "image/png"],
      [dataUrl("image/jpeg", JPEG), "image/jpeg"],
      [dataUrl("image/webp", WEBP), "image/webp"],
      [dataUrl("image/svg+xml", bytes(SVG)), "image/svg+xml"],
      [`data:image/svg+xml,${encodeURIComponent(SVG)}`, "image/svg+xml"],
    ] as const) {
      const res = await put({ productName: "Acme", logo });
      expect(res.status, `${type}: ${res.text}`).toBe(200);
      expect(res.body.logo).toMatch(new RegExp(`^data:${type.replace("+", "\\+")};base64,`));
    }
    const refused = [
      "https://acme.example/logo.png",
      "data:image/png;base64,",
      "data:image/png;base64,%%%%",
      dataUrl("image/gif", GIF),
      dataUrl("image/png", GIF),
      dataUrl("text/html", PNG),
      dataUrl("image/png", bytes(SVG)), // an SVG labelled PNG: the label must agree with the bytes
      dataUrl("image/svg+xml", PNG),
      dataUrl("image/svg+xml", bytes("<html><body><svg></svg></body></html>")),
      dataUrl("image/svg+xml", bytes("<svg><script>x</script>")), // not a whole document
      dataUrl("image/svg+xml", bytes([0xff, 0xfe, 0x3c, 0x00])), // not UTF-8
      dataUrl("image/png", new Uint8Array([...PNG, ...new Uint8Array(64 * 1024 - PNG.length + 1)])),
    ];
    for (const logo of refused) {
      const res = await put({ productName: "Acme", logo });
      expectProblem(res, 422, "validation_failed");
      expect(fieldError(res, "logo").message, logo.slice(0, 40)).toBeTruthy();
    }
    // Exactly 64 KiB decoded is allowed.
    const max = await put({
      productName: "Acme",
      logo: dataUrl("image/png", new Uint8Array([...PNG, ...new Uint8Array(64 * 1024 - PNG.length)])),
    });
    expect(max.status, max.text).toBe(200);
    // The oversized one says why.
    const big = await put({ productName: "Acme", logo: dataUrl("image/png", new Uint8Array(70 * 1024).fill(1)) });
    expect(fieldError(big, "logo").message).toMatch(/64 KiB/);
  });

  it("is audited as branding.updated in the operator's log, with the logo summarised, never its bytes", async () => {
    const res = await put(FULL);
    const entry = (await operatorAudit("branding.updated"))[0];
    expect(entry).toMatchObject({ action: "branding.updated", target: "branding", actor: "operator" });
    expect(entry.requestId).toBe(res.headers.get("x-request-id"));
    expect(entry.details.changed).toEqual(expect.arrayContaining(["productName", "headerPrefix", "logo", "accentColor"]));
    expect(entry.details.logo).toEqual({ type: "image/png", bytes: PNG.length });
    expect(JSON.stringify(entry)).not.toContain(b64(PNG).slice(0, 12));
    await call("DELETE", "/admin/branding", { admin: true });
    expect((await operatorAudit("branding.updated"))[0].details).toEqual({ reset: true });
  });
});

describe("problem types under problemTypeBase", () => {
  it("are <problemTypeBase><slug> once set, and the default base again after a reset", async () => {
    const { key } = await newTenant();
    const before = await call("GET", "/v1/keys/key_nothere", { key });
    expectProblem(before, 404, "not_found");
    expect(before.body.type).toBe("https://hookgate.dev/problems/not-found");

    await put({ productName: "Acme", problemTypeBase: "https://docs.acme.example/errors/" });
    const after = await call("GET", "/v1/keys/key_nothere", { key });
    expect(after.body.type).toBe("https://docs.acme.example/errors/not-found");
    const invalid = await call("POST", "/v1/keys", { key, body: { name: "" } });
    expect(invalid.body.type).toBe("https://docs.acme.example/errors/validation-failed");
    const noRoute = await call("GET", "/v1/nothing-here", { key });
    expect(noRoute.body.type).toBe("https://docs.acme.example/errors/not-found");
    const anonymous = await call("GET", "/v1/keys");
    expect(anonymous.body.type).toBe("https://docs.acme.example/errors/unauthorized");

    await call("DELETE", "/admin/branding", { admin: true });
    expect((await call("GET", "/v1/keys/key_nothere", { key })).body.type).toBe("https://hookgate.dev/problems/not-found");
  });
});
