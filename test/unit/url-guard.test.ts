import { describe, expect, it } from "vitest";
import { checkWebhookUrl, MAX_WEBHOOK_URL_LENGTH } from "../../src/delivery/http/url-guard";

/** `ok: true`, or the words the refusal reason must contain. */
type Case = { url: string; insecure?: boolean; ok: true } | { url: string; insecure?: boolean; refused: string };

const cases: Case[] = [
  // Public hosts, ports, queries, fragments, case and trailing dots.
  { url: "https://example.com/webhooks", ok: true },
  { url: "https://example.com:8443/hooks?x=1#frag", ok: true },
  { url: "https://api.example.co.uk:443/v1/hook", ok: true },
  { url: "HTTPS://EXAMPLE.COM", ok: true },
  { url: "https://example.com./", ok: true },
  { url: "https://localhost.example.com/", ok: true },
  { url: "https://printer.local.example.com/", ok: true },
  { url: "https://my.internal.example.com/", ok: true },
  // IDN hosts (the parser turns them into punycode).
  { url: "https://münchen.de/hook", ok: true },
  { url: "https://xn--mnchen-3ya.de/hook", ok: true },
  { url: "https://例え.jp/", ok: true },
  // Public IP literals, and the ones just outside blocked ranges.
  { url: "https://8.8.8.8/", ok: true },
  { url: "https://1.1.1.1:8443/hook", ok: true },
  { url: "https://[2606:4700::1111]/", ok: true },
  { url: "https://[2606:4700::1111]:8443/", ok: true },
  { url: "https://11.0.0.1/", ok: true },
  { url: "https://100.128.0.1/", ok: true },
  { url: "https://172.32.0.1/", ok: true },
  { url: "https://192.0.3.1/", ok: true },
  { url: "https://223.255.255.255/", ok: true },
  { url: "https://[::ffff:8.8.8.8]/", ok: true },
  { url: "https://[64:ff9b::808:808]/", ok: true },
  { url: "https://[2002:808:808::1]/", ok: true },

  // Not a URL at all.
  { url: "", refused: "not a valid absolute URL" },
  { url: "not a url", refused: "not a valid absolute URL" },
  { url: "https://", refused: "not a valid absolute URL" },
  { url: "//example.com/hook", refused: "not a valid absolute URL" },
  { url: "https://exa mple.com/", refused: "not a valid absolute URL" },
  { url: "https://999.1.1.1/", refused: "not a valid absolute URL" },
  // Schemes.
  { url: "http://example.com/", refused: "must use https://" },
  { url: "ftp://example.com/file", refused: "must use https://" },
  { url: "javascript:alert(1)", refused: "must use https://" },
  { url: "data:text/plain,hi", refused: "must use https://" },
  { url: "http://localhost:8787/", refused: "must use https://" },
  // Credentials.
  { url: "https://user:pass@example.com", refused: "username or password" },
  { url: "https://user@example.com/", refused: "username or password" },
  { url: "https://:pass@example.com/", refused: "username or password" },
  // Internal names, however spelled.
  { url: "https://localhost/", refused: "loopback name" },
  { url: "https://localhost./", refused: "loopback name" },
  { url: "https://localhost../", refused: "loopback name" },
  { url: "https://LOCALHOST:8080/", refused: "loopback name" },
  { url: "https://%6c%6fcalhost/", refused: "loopback name" },
  { url: "https://ⓛocalhost/", refused: "loopback name" },
  { url: "https://api.localhost/", refused: "loopback name" },
  { url: "https://printer.local/", refused: "internal name (.local)" },
  { url: "https://foo.internal/", refused: "internal name (.internal)" },
  { url: "https://metadata.google.internal/computeMetadata/v1/", refused: "internal name (.internal)" },
  { url: "https://router.localdomain/", refused: "internal name (.localdomain)" },
  { url: "https://nas.home.arpa/", refused: "internal name (.home.arpa)" },
  { url: "https://intranet/", refused: "single-label" },
  { url: "https://intranet./", refused: "single-label" },
  { url: "https://./", refused: "has no host" },
  // IPv4 loopback in every spelling the parser accepts.
  { url: "https://127.0.0.1/", refused: "loopback address (127.0.0.0/8)" },
  { url: "https://127.0.0.1./", refused: "loopback address" },
  { url: "https://127.255.255.254:8443/", refused: "loopback address" },
  { url: "https://127.1/", refused: "loopback address" },
  { url: "https://0177.0.0.1/", refused: "loopback address" },
  { url: "https://0x7f.0.0.1/", refused: "loopback address" },
  { url: "https://0x7f000001/", refused: "loopback address" },
  { url: "https://2130706433/", refused: "loopback address" },
  { url: "https://127。0。0。1/", refused: "loopback address" },
  // Other refused IPv4 ranges.
  { url: "https://0.0.0.0/", refused: "'this network' address (0.0.0.0/8)" },
  { url: "https://0/", refused: "'this network' address" },
  { url: "https://10.1.2.3/", refused: "private address (10.0.0.0/8)" },
  { url: "https://100.64.0.1/", refused: "carrier-grade NAT" },
  { url: "https://100.127.255.255/", refused: "carrier-grade NAT" },
  { url: "https://169.254.169.254/latest/meta-data", refused: "link-local or cloud metadata address (169.254.0.0/16)" },
  { url: "https://172.16.0.1/", refused: "private address (172.16.0.0/12)" },
  { url: "https://172.31.255.255/", refused: "private address (172.16.0.0/12)" },
  { url: "https://192.0.0.8/", refused: "IETF protocol assignment" },
  { url: "https://192.0.2.1/", refused: "documentation address (192.0.2.0/24)" },
  { url: "https://192.168.1.1/", refused: "private address (192.168.0.0/16)" },
  { url: "https://198.18.0.1/", refused: "benchmarking address" },
  { url: "https://198.19.255.255/", refused: "benchmarking address" },
  { url: "https://198.51.100.7/", refused: "documentation address (198.51.100.0/24)" },
  { url: "https://203.0.113.9/", refused: "documentation address (203.0.113.0/24)" },
  { url: "https://224.0.0.1/", refused: "multicast address" },
  { url: "https://239.255.255.250/", refused: "multicast address" },
  { url: "https://240.0.0.1/", refused: "reserved or broadcast address" },
  { url: "https://255.255.255.255/", refused: "reserved or broadcast address" },
  // IPv6 ranges.
  { url: "https://[::]/", refused: "unspecified address" },
  { url: "https://[::1]/", refused: "loopback address (::1/128)" },
  { url: "https://[0:0:0:0:0:0:0:1]:8443/", refused: "loopback address" },
  { url: "https://[fe80::1]/", refused: "link-local address (fe80::/10)" },
  { url: "https://[febf:ffff::1]/", refused: "link-local address (fe80::/10)" },
  { url: "https://[fc00::1]/", refused: "unique-local" },
  { url: "https://[fd12:3456:789a::1]/", refused: "unique-local" },
  { url: "https://[ff02::1]/", refused: "multicast address (ff00::/8)" },
  { url: "https://[2001:db8::1]/", refused: "documentation address (2001:db8::/32)" },
  { url: "https://[100::1]/", refused: "discard-only address" },
  // IPv6 forms that carry an IPv4 address are judged by it.
  { url: "https://[::ffff:127.0.0.1]/", refused: "(127.0.0.1) is a loopback address" },
  { url: "https://[::ffff:7f00:1]/", refused: "(127.0.0.1) is a loopback address" },
  { url: "https://[::ffff:169.254.169.254]/", refused: "link-local or cloud metadata address (169.254.0.0/16)" },
  { url: "https://[::ffff:10.0.0.1]/", refused: "private address" },
  { url: "https://[::127.0.0.1]/", refused: "an IPv4-compatible address for 127.0.0.1, a loopback address" },
  { url: "https://[::10.0.0.1]/", refused: "an IPv4-compatible address for 10.0.0.1, a private address" },
  { url: "https://[64:ff9b::127.0.0.1]/", refused: "a NAT64 address for 127.0.0.1" },
  { url: "https://[64:ff9b::a9fe:a9fe]/", refused: "a NAT64 address for 169.254.169.254" },
  // The local-use NAT64 prefix (RFC 8215) is refused whatever it carries, in every spelling.
  { url: "https://[64:ff9b:1::a9fe:a9fe]/", refused: "a local-use NAT64 address (64:ff9b:1::/48)" },
  { url: "https://[64:ff9b:1::169.254.169.254]/", refused: "a local-use NAT64 address" },
  { url: "https://[64:FF9B:1:0:0:0:A9FE:A9FE]/", refused: "a local-use NAT64 address" },
  { url: "https://[0064:ff9b:0001:0000::a9fe:a9fe]:8443/", refused: "a local-use NAT64 address" },
  { url: "https://[64:ff9b:1::808:808]/", refused: "a local-use NAT64 address" },
  { url: "https://[64:ff9b:1:a9fe:a9:fe00::]/", refused: "a local-use NAT64 address" },
  { url: "https://[64:ff9b:1:ffff:ffff:ffff:ffff:ffff]/", refused: "a local-use NAT64 address" },
  { url: "https://[64:ff9b:1::1]/", insecure: true, refused: "a local-use NAT64 address" },
  // Just outside it: the well-known prefix with a public address, and the next /48.
  { url: "https://[64:ff9b:2::1]/", ok: true },
  { url: "https://[2002:7f00:1::]/", refused: "a 6to4 address for 127.0.0.1" },
  { url: "https://[2002:c0a8:101::1]/", refused: "a 6to4 address for 192.168.1.1" },

  // ALLOW_INSECURE_URLS: http:// and loopback, nothing else private.
  { url: "http://example.com/", insecure: true, ok: true },
  { url: "https://example.com/", insecure: true, ok: true },
  { url: "http://localhost:8787/hook", insecure: true, ok: true },
  { url: "http://localhost./hook", insecure: true, ok: true },
  { url: "https://localhost/", insecure: true, ok: true },
  { url: "http://api.localhost:8787/", insecure: true, ok: true },
  { url: "http://127.0.0.1:8787/", insecure: true, ok: true },
  { url: "http://127.1/", insecure: true, ok: true },
  { url: "http://2130706433/", insecure: true, ok: true },
  { url: "http://[::1]:8787/", insecure: true, ok: true },
  { url: "http://[::ffff:127.0.0.1]/", insecure: true, ok: true },
  { url: "ftp://example.com/", insecure: true, refused: "must use https:// or http://" },
  { url: "http://user:pass@localhost/", insecure: true, refused: "username or password" },
  { url: "http://10.0.0.1/", insecure: true, refused: "private address" },
  { url: "http://192.168.1.10:8080/", insecure: true, refused: "private address" },
  { url: "http://169.254.169.254/latest/meta-data", insecure: true, refused: "link-local or cloud metadata address (169.254.0.0/16)" },
  { url: "http://0.0.0.0:8787/", insecure: true, refused: "'this network' address" },
  { url: "http://[::]/", insecure: true, refused: "unspecified address" },
  { url: "http://[fd00::1]/", insecure: true, refused: "unique-local" },
  { url: "http://[::ffff:10.0.0.1]/", insecure: true, refused: "private address" },
  { url: "http://printer.local/", insecure: true, refused: "internal name (.local)" },
  { url: "http://intranet/", insecure: true, refused: "single-label" },
];

describe("checkWebhookUrl", () => {
  it.each(cases)("$url (allowInsecure: $insecure)", (c) => {
    const result = checkWebhookUrl(c.url, { allowInsecure: c.insecure ?? false });
    if ("ok" in c) {
      expect(result).toMatchObject({ ok: true });
      if (result.ok) expect(result.url).toBeInstanceOf(URL);
    } else {
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.reason).toContain(c.refused);
        expect(result.reason).toMatch(/^The .*\.$/);
      }
    }
  });

  it("has a table of at least 40 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it("admits a URL of exactly the maximum length and refuses one longer", () => {
    const base = "https://example.com/";
    const longest = base + "a".repeat(MAX_WEBHOOK_URL_LENGTH - base.length);
    expect(longest).toHaveLength(2048);
    expect(checkWebhookUrl(longest, { allowInsecure: false }).ok).toBe(true);
    const tooLong = checkWebhookUrl(`${longest}a`, { allowInsecure: false });
    expect(tooLong).toEqual({ ok: false, reason: "The URL is longer than 2048 characters." });
  });

  it("refuses a cli: URL (a hookgate listen session's), insecure mode or not", () => {
    for (const allowInsecure of [false, true]) {
      const result = checkWebhookUrl("cli:lsn_AAAAAAAAAAAAAAAAAAAA", { allowInsecure });
      expect(result.ok).toBe(false);
      expect(!result.ok && result.reason).toMatch(/hookgate listen/);
    }
  });

  it("returns the parsed, normalised URL", () => {
    const result = checkWebhookUrl("HTTPS://EXAMPLE.COM:443/Hook?a=1", { allowInsecure: false });
    expect(result.ok && result.url.href).toBe("https://example.com/Hook?a=1");
    const idn = checkWebhookUrl("https://münchen.de/", { allowInsecure: false });
    expect(idn.ok && idn.url.hostname).toBe("xn--mnchen-3ya.de");
  });
});

// The guard relies on the WHATWG parser to canonicalise IPv4 and IPv6 hosts;
// pin that behaviour so a runtime that differed would fail here first.
describe("WHATWG URL host normalisation", () => {
  it.each([
    ["https://2130706433/", "127.0.0.1"],
    ["https://0x7f000001/", "127.0.0.1"],
    ["https://0x7f.0.0.1/", "127.0.0.1"],
    ["https://0177.0.0.1/", "127.0.0.1"],
    ["https://127.1/", "127.0.0.1"],
    ["https://0x7f.1/", "127.0.0.1"],
    ["https://127.0.0.1./", "127.0.0.1"],
    ["https://127。0。0。1/", "127.0.0.1"],
    ["https://0/", "0.0.0.0"],
    ["https://0xa9fea9fe/", "169.254.169.254"],
    ["https://[::ffff:127.0.0.1]/", "[::ffff:7f00:1]"],
    ["https://[0:0:0:0:0:0:0:1]/", "[::1]"],
    ["https://[::127.0.0.1]/", "[::7f00:1]"],
    ["https://%6c%6fcalhost/", "localhost"],
    ["https://ⓛocalhost/", "localhost"],
    ["HTTPS://EXAMPLE.COM", "example.com"],
  ])("%s has hostname %s", (raw, hostname) => {
    expect(new URL(raw).hostname).toBe(hostname);
  });
});
