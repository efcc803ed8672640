import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type CallOptions, callWithEnv, expectProblem, newRoomyTenant } from "./helpers";

/**
 * The SSRF guard seen through the API. The Worker runs with ALLOW_INSECURE_URLS
 * pinned (a developer's .dev.vars may set it to true for `wrangler dev`, and
 * the test pool would pick that up).
 */
const STRICT = { ALLOW_INSECURE_URLS: "false" };
const LAX = { ALLOW_INSECURE_URLS: "true" };
const strict = (method: string, path: string, opts: CallOptions = {}) => callWithEnv(STRICT, method, path, opts);

beforeEach(() => {
  // Nothing here should reach the network; queue consumption (if any) is kept quiet too.
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("ok", { status: 200 }));
});
afterEach(() => {
  vi.restoreAllMocks();
});

const OK = 201;
const REFUSED = 422;

const CASES: [url: string, expected: 201 | 422, why: string][] = [
  ["https://example.com/hook", OK, "public https host"],
  ["https://hooks.example.com:8443/path?x=1#frag", OK, "public host with port, query and fragment"],
  ["https://EXAMPLE.com./hook", OK, "public host, uppercase with trailing dot"],
  ["https://93.184.216.34/hook", OK, "public IPv4 literal"],
  ["https://[2606:4700::1111]/hook", OK, "public IPv6 literal"],
  ["https://8.8.8.8/", OK, "public IPv4 literal"],
  ["http://example.com/hook", REFUSED, "plain http"],
  ["ftp://example.com/hook", REFUSED, "ftp"],
  ["file:///etc/passwd", REFUSED, "file"],
  ["javascript:alert(1)", REFUSED, "javascript"],
  ["not a url", REFUSED, "not a URL"],
  ["//example.com/hook", REFUSED, "scheme-relative"],
  ["https://user:pass@example.com/hook", REFUSED, "credentials"],
  ["https://user@example.com/hook", REFUSED, "username only"],
  ["https://127.0.0.1:443@example.com/", REFUSED, "credentials that look like a host"],
  ["https://localhost/hook", REFUSED, "localhost"],
  ["https://localhost./hook", REFUSED, "localhost with trailing dot"],
  ["https://LOCALHOST/hook", REFUSED, "localhost uppercase"],
  ["https://sub.localhost/hook", REFUSED, "*.localhost"],
  ["https://foo.local/hook", REFUSED, "*.local"],
  ["https://foo.internal/hook", REFUSED, "*.internal"],
  ["https://metadata.google.internal/computeMetadata/v1/", REFUSED, "cloud metadata name"],
  ["https://intranet/hook", REFUSED, "single-label name"],
  ["https://127.0.0.1/hook", REFUSED, "loopback"],
  ["https://127.1/hook", REFUSED, "loopback, short form"],
  ["https://2130706433/hook", REFUSED, "loopback, decimal"],
  ["https://0x7f000001/hook", REFUSED, "loopback, hex"],
  ["https://0x7f.0.0.1/hook", REFUSED, "loopback, hex first octet"],
  ["https://0177.0.0.1/hook", REFUSED, "loopback, octal"],
  ["https://127.0.0.1./hook", REFUSED, "loopback with trailing dot"],
  ["https://%31%32%37.0.0.1/hook", REFUSED, "loopback, percent-encoded"],
  ["https://10.0.0.1/hook", REFUSED, "private 10/8"],
  ["https://172.16.5.4/hook", REFUSED, "private 172.16/12"],
  ["https://172.31.255.255/hook", REFUSED, "private 172.16/12, top"],
  ["https://192.168.1.1/hook", REFUSED, "private 192.168/16"],
  ["https://169.254.169.254/latest/meta-data/", REFUSED, "link-local / cloud metadata"],
  ["https://100.64.0.1/hook", REFUSED, "CGNAT"],
  ["https://0.0.0.0/hook", REFUSED, "unspecified"],
  ["https://0/hook", REFUSED, "unspecified, short form"],
  ["https://224.0.0.1/hook", REFUSED, "multicast"],
  ["https://255.255.255.255/hook", REFUSED, "broadcast"],
  ["https://[::1]/hook", REFUSED, "IPv6 loopback"],
  ["https://[0:0:0:0:0:0:0:1]/hook", REFUSED, "IPv6 loopback, long form"],
  ["https://[::]/hook", REFUSED, "IPv6 unspecified"],
  ["https://[fe80::1]/hook", REFUSED, "IPv6 link-local"],
  ["https://[fc00::1]/hook", REFUSED, "IPv6 unique-local"],
  ["https://[fd12:3456::1]/hook", REFUSED, "IPv6 unique-local fd"],
  ["https://[ff02::1]/hook", REFUSED, "IPv6 multicast"],
  ["https://[::ffff:127.0.0.1]/hook", REFUSED, "IPv4-mapped loopback"],
  ["https://[::ffff:7f00:1]/hook", REFUSED, "IPv4-mapped loopback, hex"],
  ["https://[0:0:0:0:0:ffff:7f00:1]/hook", REFUSED, "IPv4-mapped loopback, long form"],
  ["https://[::ffff:10.0.0.1]/hook", REFUSED, "IPv4-mapped private"],
  ["https://[::ffff:169.254.169.254]/hook", REFUSED, "IPv4-mapped metadata"],
  ["https://[64:ff9b::a00:1]/hook", REFUSED, "NAT64 of 10.0.0.1"],
  ["https://[64:ff9b::7f00:1]/hook", REFUSED, "NAT64 of 127.0.0.1"],
  ["https://[64:ff9b:1::a9fe:a9fe]/", REFUSED, "local-use NAT64 (64:ff9b:1::/48) of the metadata address"],
  ["https://[64:ff9b:1::169.254.169.254]/hook", REFUSED, "local-use NAT64, dotted IPv4 tail"],
  ["https://[64:FF9B:0001:0:0:0:a9fe:a9fe]/hook", REFUSED, "local-use NAT64, uppercase and zero-padded"],
  ["https://[64:ff9b:1::808:808]/hook", REFUSED, "local-use NAT64 of a public address: still local-use"],
  ["https://[64:ff9b:1:a9fe:a9:fe00::]/hook", REFUSED, "local-use NAT64 with a /48-style embedding"],
  ["https://[::127.0.0.1]/hook", REFUSED, "IPv4-compatible loopback"],
  ["https://[::ffff:0:7f00:1]/hook", REFUSED, "IPv4-translated (SIIT) loopback"],
  ["https://[fec0::1]/hook", REFUSED, "IPv6 site-local (deprecated private)"],
  ["https://①②⑦.0.0.1/hook", REFUSED, "loopback in Unicode digits (IDNA-mapped)"],
  ["https://127。0。0。1/hook", REFUSED, "loopback with ideographic full stops"],
  ["https://ｌｏｃａｌｈｏｓｔ/hook", REFUSED, "fullwidth localhost"],
  ["https://017700000001/hook", REFUSED, "loopback, one octal number"],
  ["https://10.1/hook", REFUSED, "private, short form"],
  ["https://[::ffff:a9fe:a9fe]/hook", REFUSED, "IPv4-mapped metadata, hex"],
  ["https://[::ffff:93.184.216.34]/hook", OK, "IPv4-mapped public address"],
  ["https://[2002:7f00:1::]/hook", REFUSED, "6to4 of 127.0.0.1"],
  ["https://[2002:a9fe:a9fe::]/hook", REFUSED, "6to4 of 169.254.169.254"],
];

describe("webhook URL rules (SSRF guard) through POST /v1/webhooks", () => {
  it(`the table has at least 30 cases (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
    expect(new Set(CASES.map(([u]) => u)).size).toBe(CASES.length);
  });

  it("accepts public https URLs and refuses everything else with 422 on `url`", async () => {
    const { key } = await newRoomyTenant({ quotas: { webhooks: 100 } });
    const wrong: string[] = [];
    for (const [url, expected, why] of CASES) {
      const res = await strict("POST", "/v1/webhooks", { key, body: { url, eventTypes: ["*"] } });
      if (res.status !== expected) {
        wrong.push(`${why}: ${url} → ${res.status} (expected ${expected}) ${res.text.slice(0, 200)}`);
        continue;
      }
      if (expected === REFUSED) {
        expectProblem(res, 422, "validation_failed");
        expect(res.body.errors[0].path, url).toBe("url");
        expect(res.body.errors[0].message, url).toBeTruthy();
      } else {
        expect(res.body.id, url).toMatch(/^wh_/);
      }
    }
    expect(wrong).toEqual([]);

    const list = await strict("GET", "/v1/webhooks?limit=100", { key });
    expect(list.body.data).toHaveLength(CASES.filter(([, e]) => e === OK).length);
    // One create after another, a few dozen of them: more than the default 5 s on a busy 2-core machine.
  }, 30_000);

  it("stores the URL as parsed (normalised), so what is checked is what is called", async () => {
    const { key } = await newRoomyTenant();
    const res = await strict("POST", "/v1/webhooks", { key, body: { url: "https://Hooks.Example.COM/A%20b?q=1", eventTypes: ["*"] } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.url).toBe("https://hooks.example.com/A%20b?q=1");
  });

  it("refuses URLs over 2048 characters", async () => {
    const { key } = await newRoomyTenant();
    const res = await strict("POST", "/v1/webhooks", { key, body: { url: `https://example.com/${"a".repeat(2100)}`, eventTypes: ["*"] } });
    expectProblem(res, 422, "validation_failed");
    expect(res.body.errors[0].path).toBe("url");
  });

  it("PATCH with a bad URL is a 422 and leaves the stored URL unchanged", async () => {
    const { key } = await newRoomyTenant();
    const created = await strict("POST", "/v1/webhooks", { key, body: { url: "https://example.com/ok", eventTypes: ["*"] } });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id;
    for (const url of [
      "http://example.com/ok",
      "https://localhost/",
      "https://[::ffff:127.0.0.1]/",
      "https://169.254.169.254/",
      "https://0x7f000001/",
      "https://a:b@example.com/",
    ]) {
      const res = await strict("PATCH", `/v1/webhooks/${id}`, { key, body: { url, description: "should not stick" } });
      expectProblem(res, 422, "validation_failed");
      expect(res.body.errors[0].path, url).toBe("url");
    }
    const got = await strict("GET", `/v1/webhooks/${id}`, { key });
    expect(got.body.url).toBe("https://example.com/ok");
    expect(got.body.description).toBeNull();

    const ok = await strict("PATCH", `/v1/webhooks/${id}`, { key, body: { url: "https://[2606:4700::1111]/new" } });
    expect(ok.status, ok.text).toBe(200);
    expect((await strict("GET", `/v1/webhooks/${id}`, { key })).body.url).toBe("https://[2606:4700::1111]/new");
  });

  it("the local-use NAT64 prefix 64:ff9b:1::/48 is refused on create and PATCH, naming the range, even with ALLOW_INSECURE_URLS", async () => {
    const { key } = await newRoomyTenant();
    const url = "https://[64:ff9b:1::a9fe:a9fe]/";
    const created = await strict("POST", "/v1/webhooks", { key, body: { url, eventTypes: ["*"] } });
    expectProblem(created, 422, "validation_failed");
    expect(created.body.errors[0]).toMatchObject({ path: "url" });
    expect(created.body.errors[0].message).toContain("local-use NAT64 address (64:ff9b:1::/48)");
    const lax = await callWithEnv(LAX, "POST", "/v1/webhooks", { key, body: { url: "http://[64:ff9b:1::7f00:1]/", eventTypes: ["*"] } });
    expectProblem(lax, 422, "validation_failed");

    const ok = await strict("POST", "/v1/webhooks", { key, body: { url: "https://example.com/ok", eventTypes: ["*"] } });
    expect(ok.status, ok.text).toBe(201);
    const patched = await strict("PATCH", `/v1/webhooks/${ok.body.id}`, {
      key,
      body: { url: "https://[64:ff9b:1:0:0:0:169.254.169.254]/" },
    });
    expectProblem(patched, 422, "validation_failed");
    expect(patched.body.errors[0].message).toContain("local-use NAT64");
    expect((await strict("GET", `/v1/webhooks/${ok.body.id}`, { key })).body.url).toBe("https://example.com/ok");
    expect((await strict("GET", "/v1/webhooks", { key })).body.data).toHaveLength(1);
  });

  it("ALLOW_INSECURE_URLS=true admits http:// and loopback, but still no private, metadata or credentialed URLs", async () => {
    const { key } = await newRoomyTenant({ quotas: { webhooks: 20 } });
    const lax = (url: string) => callWithEnv(LAX, "POST", "/v1/webhooks", { key, body: { url, eventTypes: ["*"] } });
    for (const url of [
      "http://example.com/hook",
      "http://localhost:8787/hook",
      "http://127.0.0.1:9000/",
      "https://[::1]/",
      "http://sub.localhost/",
    ]) {
      const res = await lax(url);
      expect(res.status, `${url}: ${res.text}`).toBe(201);
    }
    for (const url of [
      "http://10.0.0.1/",
      "http://192.168.1.1/",
      "http://169.254.169.254/",
      "http://[::ffff:10.0.0.1]/",
      "http://foo.internal/",
      "http://user:pw@localhost/",
      "ftp://localhost/",
    ]) {
      const res = await lax(url);
      expectProblem(res, 422, "validation_failed");
      expect(res.body.errors[0].path, url).toBe("url");
    }
  });
});
