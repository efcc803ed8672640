import { describe, expect, it } from "vitest";
import { accessibleAccent, contrastRatio, MIN_CONTRAST, relativeLuminance } from "../../src/branding/contrast";
import { detectImageType, parseLogoDataUrl } from "../../src/branding/logo";
import { brandedHeaderNames, HEADER_PREFIX_PATTERN } from "../../src/common/branding";
import { rebrandText } from "../../src/http/openapi-document";

describe("contrast (WCAG 2)", () => {
  it("computes relative luminance and contrast ratios as WCAG defines them", () => {
    expect(relativeLuminance("#000000")).toBe(0);
    expect(relativeLuminance("#ffffff")).toBeCloseTo(1, 10);
    expect(contrastRatio("#000000", "#ffffff")).toBeCloseTo(21, 10);
    expect(contrastRatio("#ffffff", "#000000")).toBeCloseTo(21, 10);
    expect(contrastRatio("#777777", "#777777")).toBe(1);
    // Reference values (WebAIM's checker): #767676 on white is 4.54:1, #777777 4.48:1.
    expect(contrastRatio("#767676", "#ffffff")).toBeCloseTo(4.54, 2);
    expect(contrastRatio("#777777", "#ffffff")).toBeCloseTo(4.48, 2);
    expect(contrastRatio("#1d4ed8", "#ffffff")).toBeCloseTo(6.7, 1);
  });

  it("keeps an accent that already passes, exactly as given (lower-cased)", () => {
    expect(accessibleAccent("#1D4ED8")).toEqual({ accent: "#1d4ed8", text: "#ffffff", darkened: false });
    expect(accessibleAccent("#000000").darkened).toBe(false);
  });

  it("darkens one that fails until white text on it, and it on the page and panels, reach 4.5:1, keeping the hue", () => {
    for (const hex of ["#ffcc00", "#ffffff", "#ff6600", "#00ff00", "#87ceeb", "#777777", "#f4f4f5", "#ff0000"]) {
      const { accent, darkened } = accessibleAccent(hex);
      expect(darkened, hex).toBe(true);
      expect(contrastRatio(accent, "#ffffff"), hex).toBeGreaterThanOrEqual(MIN_CONTRAST);
      expect(contrastRatio(accent, "#f4f4f5"), hex).toBeGreaterThanOrEqual(MIN_CONTRAST);
      // Darker, not black: the lightest shade that passes is found (a step lighter fails).
      expect(relativeLuminance(accent)).toBeLessThan(relativeLuminance(hex));
      expect(contrastRatio(accent, "#f4f4f5"), hex).toBeLessThan(MIN_CONTRAST + 0.2);
    }
    // Same hue: the channels keep their proportions (within rounding).
    const { accent } = accessibleAccent("#ff6600");
    const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(accent.slice(i, i + 2), 16));
    expect(b).toBe(0);
    expect(g! / r!).toBeCloseTo(0x66 / 0xff, 1);
  });

  it("refuses anything but #rrggbb", () => {
    expect(() => accessibleAccent("red")).toThrow();
    expect(() => accessibleAccent("#fff")).toThrow();
  });
});

const enc = (s: string) => new TextEncoder().encode(s);
const b64 = (u: Uint8Array) => btoa(String.fromCharCode(...u));

describe("logo detection by bytes", () => {
  it("knows PNG, JPEG, WebP and SVG by their content; nothing else", () => {
    expect(detectImageType(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]))).toBe("image/png");
    expect(detectImageType(new Uint8Array([0xff, 0xd8, 0xff, 0xdb]))).toBe("image/jpeg");
    expect(detectImageType(new Uint8Array([...enc("RIFF"), 0, 0, 0, 0, ...enc("WEBPVP8L")]))).toBe("image/webp");
    expect(detectImageType(new Uint8Array([...enc("RIFF"), 0, 0, 0, 0, ...enc("WAVEfmt ")]))).toBeNull();
    expect(detectImageType(enc("GIF89a"))).toBeNull();
    expect(detectImageType(enc('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBe("image/svg+xml");
    expect(detectImageType(enc('\uFEFF<?xml version="1.0"?><!-- by hand --><!DOCTYPE svg><svg viewBox="0 0 1 1"></svg><!-- end -->'))).toBe(
      "image/svg+xml",
    );
    expect(detectImageType(enc("<svg><script>alert(1)</script></svg>"))).toBe("image/svg+xml");
    for (const notSvg of ["<html><svg></svg></html>", "<svgfoo></svgfoo>", "<svg></svg><script>x</script>", "hello <svg></svg>", "<svg>"]) {
      expect(detectImageType(enc(notSvg)), notSvg).toBeNull();
    }
  });

  it("parses data URLs: base64 or percent-encoded; the label must agree with the bytes; 64 KiB at most", () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"></svg>';
    expect(parseLogoDataUrl(`data:image/svg+xml;base64,${b64(enc(svg))}`)).toMatchObject({ ok: true, logo: { type: "image/svg+xml" } });
    expect(parseLogoDataUrl(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`)).toMatchObject({ ok: true });
    expect(parseLogoDataUrl(`data:image/png;base64,${b64(enc(svg))}`)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/labelled image\/png/),
    });
    expect(parseLogoDataUrl("data:image/png;base64,!!!")).toMatchObject({ ok: false });
    expect(parseLogoDataUrl("https://example.com/logo.png")).toMatchObject({ ok: false });
    const png = (n: number) => new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Uint8Array(n - 8)]);
    expect(parseLogoDataUrl(`data:image/png;base64,${b64(png(65536))}`)).toMatchObject({ ok: true });
    expect(parseLogoDataUrl(`data:image/png;base64,${b64(png(65537))}`)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/64 KiB/),
    });
  });
});

describe("branded header names", () => {
  it("are X-<prefix>-*, declared once", () => {
    expect(brandedHeaderNames()).toMatchObject({
      signature: "X-Webhook-Signature",
      eventId: "X-Webhook-Event-Id",
      tenantId: "X-Webhook-Tenant-Id",
    });
    expect(brandedHeaderNames("Acme")).toMatchObject({
      signature: "X-Acme-Signature",
      attempt: "X-Acme-Attempt",
      mode: "X-Acme-Mode",
      version: "X-Acme-Version",
    });
  });

  it("prefixes follow the pattern", () => {
    for (const ok of ["Acme", "Acme-Hooks", "A1-B2-C3", "a"]) expect(HEADER_PREFIX_PATTERN.test(ok), ok).toBe(true);
    for (const bad of ["", "1Acme", "Acme-", "-Acme", "Acme--Hooks", "Acme Hooks", "Acme_Hooks", "Acme:"])
      expect(HEADER_PREFIX_PATTERN.test(bad), bad).toBe(false);
  });

  it("the API document is retold in the brand's words, identifiers and other names left alone", () => {
    const text = JSON.stringify({
      d: "Hookgate's scopes; X-Webhook-Signature and X-Webhook-*; X-Hookgate-Tenant-Id; isHookgateScope; hookgate.endpoint.disabled",
    });
    expect(JSON.parse(rebrandText(text, { productName: 'Acme "Pro"', headerPrefix: "Acme" })).d).toBe(
      'Acme "Pro"\'s scopes; X-Acme-Signature and X-Acme-*; X-Hookgate-Tenant-Id; isHookgateScope; hookgate.endpoint.disabled',
    );
  });
});
