import { describe, expect, it } from "vitest";
import { type Cidr, cidrContains, ipAllowed, parseCidr, parseIPv4, parseIPv6, parseIp } from "../../src/lib/ip";

const v6 = (hex: string) => BigInt(`0x${hex}`);

describe("parseIPv4", () => {
  it.each([
    ["0.0.0.0", 0n],
    ["1.2.3.4", 0x01020304n],
    ["203.0.113.7", 0xcb007107n],
    ["255.255.255.255", 0xffffffffn],
    ["10.0.0.1", 0x0a000001n],
  ])("parses %s", (s, value) => {
    expect(parseIPv4(s)).toBe(value);
  });

  it.each([
    "01.2.3.4",
    "1.2.3.04",
    "00.0.0.0",
    "256.1.1.1",
    "1.2.3.256",
    "1.2.3",
    "1.2.3.4.5",
    "1.2.3.",
    ".1.2.3",
    "1..2.3",
    "",
    "a.b.c.d",
    "1.2.3.4 ",
    " 1.2.3.4",
    "-1.2.3.4",
    "1.2.3.+4",
    "1.2.3.0x4",
    "1000.2.3.4",
    "1.2.3.4/32",
    "::1",
  ])("rejects %j", (s) => {
    expect(parseIPv4(s)).toBeNull();
  });
});

describe("parseIPv6", () => {
  it.each([
    ["::", 0n],
    ["::1", 1n],
    ["1::", v6("00010000000000000000000000000000")],
    ["2001:db8::1", v6("20010db8000000000000000000000001")],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", v6("20010db8000000000000000000000001")],
    ["2001:DB8::A", v6("20010db800000000000000000000000a")],
    ["1:2:3:4:5:6:7:8", v6("00010002000300040005000600070008")],
    ["1:2:3:4:5:6:7::", v6("00010002000300040005000600070000")],
    ["::2:3:4:5:6:7:8", v6("00000002000300040005000600070008")],
    ["fe80::1%eth0", v6("fe800000000000000000000000000001")],
    ["fe80::1%25", v6("fe800000000000000000000000000001")],
    ["::ffff:1.2.3.4", v6("00000000000000000000ffff01020304")],
    ["64:ff9b::192.0.2.33", v6("0064ff9b0000000000000000c0000221")],
    ["1:2:3:4:5:6:1.2.3.4", v6("00010002000300040005000601020304")],
    ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", (1n << 128n) - 1n],
  ])("parses %s", (s, value) => {
    expect(parseIPv6(s)).toBe(value);
  });

  it.each([
    ":::",
    "1::2::3",
    "::1::",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8::",
    "::1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7::8",
    ":1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:",
    "12345::",
    "g::1",
    "",
    ":",
    "::ffff:256.1.1.1",
    "::ffff:01.2.3.4",
    "::1.2.3",
    "::1.2.3.4:5",
    "1:2:3:4:5:6:7:1.2.3.4",
    "1.2.3.4",
    "[::1]",
    "::1 ",
    "2001:db8::/32",
  ])("rejects %j", (s) => {
    expect(parseIPv6(s)).toBeNull();
  });
});

describe("parseIp", () => {
  it("parses IPv4 as family 4", () => {
    expect(parseIp("203.0.113.7")).toEqual({ family: 4, value: 0xcb007107n });
  });

  it("parses IPv6 as family 6, bracketed or not", () => {
    const expected = { family: 6, value: v6("20010db8000000000000000000000001") };
    expect(parseIp("2001:db8::1")).toEqual(expected);
    expect(parseIp("[2001:db8::1]")).toEqual(expected);
    expect(parseIp(" 2001:db8::1 ")).toEqual(expected);
  });

  it("drops a zone id", () => {
    expect(parseIp("fe80::1%eth0")).toEqual({ family: 6, value: v6("fe800000000000000000000000000001") });
  });

  it("treats IPv4-mapped IPv6 as the IPv4 address", () => {
    expect(parseIp("::ffff:1.2.3.4")).toEqual({ family: 4, value: 0x01020304n });
    expect(parseIp("::ffff:102:304")).toEqual({ family: 4, value: 0x01020304n });
    expect(parseIp("[::FFFF:203.0.113.7]")).toEqual({ family: 4, value: 0xcb007107n });
  });

  it("does not treat other embedded IPv4 forms as IPv4", () => {
    expect(parseIp("::1.2.3.4")?.family).toBe(6);
    expect(parseIp("64:ff9b::1.2.3.4")?.family).toBe(6);
    expect(parseIp("::fffe:1.2.3.4")?.family).toBe(6);
  });

  it.each(["", "localhost", "01.2.3.4", "256.0.0.1", ":::", "[1.2.3.4", "1.2.3.4]", "[]", "1.2.3.4:80", "unknown"])("rejects %j", (s) => {
    expect(parseIp(s)).toBeNull();
  });
});

describe("parseCidr", () => {
  it("parses IPv4 ranges and masks host bits", () => {
    expect(parseCidr("203.0.113.0/24")).toEqual({ family: 4, network: 0xcb007100n, prefix: 24 });
    expect(parseCidr("203.0.113.77/24")).toEqual({ family: 4, network: 0xcb007100n, prefix: 24 });
    expect(parseCidr("10.1.2.3/8")).toEqual({ family: 4, network: 0x0a000000n, prefix: 8 });
    expect(parseCidr("1.2.3.4/0")).toEqual({ family: 4, network: 0n, prefix: 0 });
  });

  it("treats a bare address as /32 or /128", () => {
    expect(parseCidr("1.2.3.4")).toEqual({ family: 4, network: 0x01020304n, prefix: 32 });
    expect(parseCidr("2001:db8::1")).toEqual({ family: 6, network: v6("20010db8000000000000000000000001"), prefix: 128 });
  });

  it("parses IPv6 ranges", () => {
    expect(parseCidr("2001:db8::/32")).toEqual({ family: 6, network: v6("20010db8000000000000000000000000"), prefix: 32 });
    expect(parseCidr("2001:db8:ffff::1/48")).toEqual({ family: 6, network: v6("20010db8ffff00000000000000000000"), prefix: 48 });
    expect(parseCidr("::/0")).toEqual({ family: 6, network: 0n, prefix: 0 });
  });

  it.each([
    "1.2.3.4/33",
    "1.2.3.4/-1",
    "1.2.3.4/",
    "1.2.3.4/08",
    "1.2.3.4/8/8",
    "1.2.3.4/a",
    "1.2.3.4/1000",
    "2001:db8::/129",
    "/24",
    "",
    "01.2.3.4/8",
    "256.0.0.0/8",
    ":::/64",
    "example.com/24",
    "1.2.3.4/ 24",
  ])("rejects %j", (s) => {
    expect(parseCidr(s)).toBeNull();
  });
});

describe("cidrContains / ipAllowed", () => {
  const contains = (cidr: string, ip: string) => {
    const c = parseCidr(cidr) as Cidr;
    const a = parseIp(ip);
    if (!c || !a) throw new Error(`bad fixture ${cidr} ${ip}`);
    return cidrContains(c, a);
  };

  it.each([
    ["203.0.113.0/24", "203.0.113.0", true],
    ["203.0.113.0/24", "203.0.113.7", true],
    ["203.0.113.0/24", "203.0.113.255", true],
    ["203.0.113.0/24", "203.0.114.0", false],
    ["203.0.113.0/24", "203.0.112.255", false],
    ["203.0.113.0/24", "198.51.100.1", false],
    ["10.0.0.0/8", "10.255.255.255", true],
    ["10.0.0.0/8", "11.0.0.0", false],
    ["192.168.0.0/16", "192.168.200.1", true],
    ["192.168.0.0/16", "192.169.0.1", false],
    ["172.16.0.0/12", "172.31.255.255", true],
    ["172.16.0.0/12", "172.32.0.0", false],
    ["203.0.113.7/32", "203.0.113.7", true],
    ["203.0.113.7/32", "203.0.113.8", false],
    ["203.0.113.7/31", "203.0.113.6", true],
    ["203.0.113.7/31", "203.0.113.8", false],
    ["203.0.113.7", "203.0.113.7", true],
    ["203.0.113.7", "203.0.113.6", false],
    ["0.0.0.0/0", "1.2.3.4", true],
    ["0.0.0.0/0", "255.255.255.255", true],
    ["128.0.0.0/1", "127.255.255.255", false],
    ["128.0.0.0/1", "128.0.0.0", true],
  ])("v4: %s contains %s → %s", (cidr, ip, expected) => {
    expect(contains(cidr, ip)).toBe(expected);
  });

  it.each([
    ["2001:db8::/32", "2001:db8::1", true],
    ["2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true],
    ["2001:db8::/32", "2001:db9::1", false],
    ["2001:db8::/32", "2001:db7:ffff::1", false],
    ["2001:db8:abcd::/48", "2001:db8:abcd:12::1", true],
    ["2001:db8:abcd::/48", "2001:db8:abce::1", false],
    ["2001:db8::/127", "2001:db8::1", true],
    ["2001:db8::/127", "2001:db8::2", false],
    ["2001:db8::1", "2001:db8::1", true],
    ["2001:db8::1", "2001:db8:0:0:0:0:0:1", true],
    ["2001:db8::1", "2001:db8::2", false],
    ["2001:db8::/32", "[2001:db8::5]", true],
    ["fe80::/10", "fe80::1%eth0", true],
    ["fe80::/10", "fec0::1", false],
    ["::/0", "2001:db8::1", true],
    ["::/0", "::", true],
  ])("v6: %s contains %s → %s", (cidr, ip, expected) => {
    expect(contains(cidr, ip)).toBe(expected);
  });

  it("never matches across families", () => {
    expect(contains("0.0.0.0/0", "2001:db8::1")).toBe(false);
    expect(contains("2001:db8::/32", "203.0.113.7")).toBe(false);
    expect(contains("1.2.3.4", "::1.2.3.4")).toBe(false);
  });

  it("matches an IPv4-mapped client against an IPv4 range", () => {
    expect(contains("203.0.113.0/24", "::ffff:203.0.113.7")).toBe(true);
    expect(contains("203.0.113.0/24", "[::ffff:203.0.113.7]")).toBe(true);
    expect(contains("203.0.113.0/24", "::ffff:cb00:7107")).toBe(true);
    expect(contains("203.0.113.0/24", "::ffff:198.51.100.1")).toBe(false);
  });

  it("matches IPv4 clients against IPv4-mapped IPv6 ranges", () => {
    expect(contains("::ffff:0:0/96", "1.2.3.4")).toBe(true);
    expect(contains("::ffff:203.0.113.0/120", "203.0.113.7")).toBe(true);
    expect(contains("::ffff:203.0.113.0/120", "::ffff:203.0.113.7")).toBe(true);
    expect(contains("::ffff:203.0.113.0/120", "203.0.114.7")).toBe(false);
    expect(contains("::ffff:1.2.3.4", "1.2.3.4")).toBe(true);
    expect(contains("::ffff:1.2.3.4", "1.2.3.5")).toBe(false);
    // A non-mapped v6 range never covers a v4 client.
    expect(contains("2001:db8::/32", "1.2.3.4")).toBe(false);
    expect(contains("64:ff9b::/96", "1.2.3.4")).toBe(false);
  });

  it("ipAllowed checks any range and refuses missing or bad addresses", () => {
    const list = ["198.51.100.0/24", "2001:db8::/32"];
    expect(ipAllowed("198.51.100.9", list)).toBe(true);
    expect(ipAllowed("2001:db8::9", list)).toBe(true);
    expect(ipAllowed("::ffff:198.51.100.9", list)).toBe(true);
    expect(ipAllowed("203.0.113.7", list)).toBe(false);
    expect(ipAllowed("2001:db9::9", list)).toBe(false);
    expect(ipAllowed(undefined, list)).toBe(false);
    expect(ipAllowed("", list)).toBe(false);
    expect(ipAllowed("not-an-ip", list)).toBe(false);
    expect(ipAllowed("198.51.100.9", [])).toBe(false);
    // An unparsable entry is skipped, not treated as "allow all".
    expect(ipAllowed("198.51.100.9", ["garbage", "1.2.3.4/99"])).toBe(false);
    expect(ipAllowed("198.51.100.9", ["garbage", "198.51.100.9"])).toBe(true);
  });
});
