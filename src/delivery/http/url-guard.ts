/**
 * The SSRF guard for webhook URLs: decides whether a tenant may
 * point deliveries at a URL. It checks the URL as written; it does not resolve
 * DNS, so it stops literal internal targets (loopback, private ranges, cloud
 * metadata at 169.254.169.254) and internal-only names, in every spelling the
 * WHATWG URL parser accepts. The parser already canonicalises IPv4 written as
 * decimal (2130706433), hex (0x7f000001), octal (0177.0.0.1) or short (127.1)
 * into a dotted quad, and IPv6 into compressed lowercase, so the checks below
 * only ever see canonical forms.
 */
import { type Cidr, cidrContains, type IpAddress, parseCidr, parseIp } from "../../lib/ip";

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** Names that only ever resolve inside a host or a private network. */
const INTERNAL_SUFFIXES = ["localhost", "local", "internal", "localdomain", "home.arpa"] as const;

type BlockedRange = { cidr: Cidr; text: string; kind: string; loopback: boolean };

function mustCidr(text: string): Cidr {
  const cidr = parseCidr(text);
  if (!cidr) throw new Error(`url-guard: bad built-in range ${text}`);
  return cidr;
}

function range(text: string, kind: string, loopback = false): BlockedRange {
  return { cidr: mustCidr(text), text, kind, loopback };
}

const BLOCKED_V4: readonly BlockedRange[] = [
  range("0.0.0.0/8", "a 'this network' address"),
  range("10.0.0.0/8", "a private address"),
  range("100.64.0.0/10", "a carrier-grade NAT (shared) address"),
  range("127.0.0.0/8", "a loopback address", true),
  range("169.254.0.0/16", "a link-local or cloud metadata address"),
  range("172.16.0.0/12", "a private address"),
  range("192.0.0.0/24", "an IETF protocol assignment address"),
  range("192.0.2.0/24", "a documentation address"),
  range("192.168.0.0/16", "a private address"),
  range("198.18.0.0/15", "a benchmarking address"),
  range("198.51.100.0/24", "a documentation address"),
  range("203.0.113.0/24", "a documentation address"),
  range("224.0.0.0/4", "a multicast address"),
  range("240.0.0.0/4", "a reserved or broadcast address"),
];

const BLOCKED_V6: readonly BlockedRange[] = [
  range("::/128", "the unspecified address"),
  range("::1/128", "a loopback address", true),
  range("fe80::/10", "a link-local address"),
  range("fc00::/7", "a unique-local (private) address"),
  range("fec0::/10", "a site-local (deprecated private) address"),
  range("ff00::/8", "a multicast address"),
  range("2001:db8::/32", "a documentation address"),
  range("100::/64", "a discard-only address"),
  // RFC 8215: for translators inside one network, never routed on the Internet. Unlike the
  // well-known 64:ff9b::/96 (judged by the IPv4 address it carries), where the IPv4 address
  // sits depends on each network's own prefix length, so the whole range is refused.
  range("64:ff9b:1::/48", "a local-use NAT64 address"),
];

/**
 * IPv6 ranges that carry an IPv4 address inside them; such a host is judged
 * by that IPv4 address. (IPv4-mapped ::ffff:a.b.c.d needs no entry here:
 * parseIp already returns it as family 4.)
 */
const V4_CARRIERS: readonly { cidr: Cidr; name: string; extract: (v6: bigint) => bigint }[] = [
  { cidr: mustCidr("::/96"), name: "an IPv4-compatible address", extract: (v) => v & 0xffffffffn },
  { cidr: mustCidr("64:ff9b::/96"), name: "a NAT64 address", extract: (v) => v & 0xffffffffn },
  // SIIT (RFC 2765): ::ffff:0:a.b.c.d, one group off the IPv4-mapped ::ffff:a.b.c.d.
  { cidr: mustCidr("::ffff:0:0:0/96"), name: "an IPv4-translated address", extract: (v) => v & 0xffffffffn },
  // 6to4: 2002:AABB:CCDD::/48 carries AA.BB.CC.DD in bits 16..47.
  { cidr: mustCidr("2002::/16"), name: "a 6to4 address", extract: (v) => (v >> 80n) & 0xffffffffn },
];

export function checkWebhookUrl(raw: string, opts: { allowInsecure: boolean }): UrlCheck {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) {
    return refuse(`The URL is longer than ${MAX_WEBHOOK_URL_LENGTH} characters.`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse("The URL is not a valid absolute URL.");
  }

  // `cli:<lsn_id>` is a `hookgate listen` session's; only GET /v1/listen makes one (never through this guard).
  if (url.protocol === "cli:") return refuse("cli: URLs belong to hookgate listen sessions; run hookgate listen to get one.");
  if (url.protocol !== "https:" && !(opts.allowInsecure && url.protocol === "http:")) {
    return refuse(opts.allowInsecure ? "The URL must use https:// or http://." : "The URL must use https://.");
  }
  if (url.username !== "" || url.password !== "") {
    return refuse("The URL must not contain a username or password.");
  }

  // `example.com.` is the same host as `example.com`; judge it without the dots.
  const host = url.hostname.replace(/\.+$/, "");
  if (host === "") return refuse("The URL has no host.");

  const ipVerdict = checkIpHost(host, opts.allowInsecure);
  if (ipVerdict !== undefined) return ipVerdict === null ? { ok: true, url } : refuse(ipVerdict);

  const suffix = INTERNAL_SUFFIXES.find((s) => host === s || host.endsWith(`.${s}`));
  if (suffix === "localhost") {
    // localhost and *.localhost always mean this machine (RFC 6761): loopback.
    return opts.allowInsecure ? { ok: true, url } : refuse(`The host ${host} is a loopback name.`);
  }
  if (suffix !== undefined) {
    return refuse(`The host ${host} is an internal name (.${suffix}); use a public hostname.`);
  }
  if (!host.includes(".")) {
    return refuse(`The host ${host} is a single-label name; use a fully qualified public hostname.`);
  }
  return { ok: true, url };
}

/**
 * For an IP-literal host: null when allowed, a reason when refused.
 * undefined when the host is a name rather than an IP literal.
 */
function checkIpHost(host: string, allowInsecure: boolean): string | null | undefined {
  const isLiteral = host.startsWith("[") || /^\d+\.\d+\.\d+\.\d+$/.test(host);
  if (!isLiteral) return undefined;
  const ip = parseIp(host);
  // The URL parser only emits canonical literals, so this is not expected.
  if (!ip) return `The host ${host} is not a valid IP address.`;

  if (ip.family === 6) {
    const direct = blockedRange(ip, BLOCKED_V6);
    if (direct) return direct.loopback && allowInsecure ? null : `The host ${host} is ${direct.kind} (${direct.text}).`;
    const carrier = V4_CARRIERS.find((c) => cidrContains(c.cidr, ip));
    if (!carrier) return null;
    const inner: IpAddress = { family: 4, value: carrier.extract(ip.value) };
    const embedded = blockedRange(inner, BLOCKED_V4);
    if (!embedded || (embedded.loopback && allowInsecure)) return null;
    return `The host ${host} is ${carrier.name} for ${formatIPv4(inner.value)}, ${embedded.kind} (${embedded.text}).`;
  }

  const blocked = blockedRange(ip, BLOCKED_V4);
  if (!blocked || (blocked.loopback && allowInsecure)) return null;
  // An IPv4-mapped IPv6 host arrives here as family 4; say what it stands for.
  const shown = host.startsWith("[") ? `${host} (${formatIPv4(ip.value)})` : host;
  return `The host ${shown} is ${blocked.kind} (${blocked.text}).`;
}

function blockedRange(ip: IpAddress, ranges: readonly BlockedRange[]): BlockedRange | undefined {
  return ranges.find((r) => cidrContains(r.cidr, ip));
}

function formatIPv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join(".");
}

function refuse(reason: string): UrlCheck {
  return { ok: false, reason };
}
