/**
 * IP address parsing and CIDR matching for IPv4 and IPv6, used by credential
 * allowlists and (later) the webhook SSRF guard. Addresses are held as bigint
 * with their family so v4 and v6 never match each other by accident; an
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) is treated as the IPv4 address.
 */
export type IpAddress = { family: 4 | 6; value: bigint };
export type Cidr = { family: 4 | 6; network: bigint; prefix: number };

export function parseIPv4(s: string): bigint | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

export function parseIPv6(input: string): bigint | null {
  let s = input;
  const zone = s.indexOf("%");
  if (zone !== -1) s = s.slice(0, zone);
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return null;
  // A trailing dotted quad stands for the last two groups: rewrite it as hex.
  if (s.includes(".")) {
    const lastColon = s.lastIndexOf(":");
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (v4 === null) return null;
    s = `${s.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const parseGroups = (h: string): number[] | null => {
    if (h === "") return [];
    const groups = h.split(":");
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parseGroups(halves[0]!);
  const rest = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !rest) return null;
  const explicit = head.length + rest.length;
  let groups: number[];
  if (halves.length === 2) {
    if (explicit > 7) return null;
    groups = [...head, ...new Array<number>(8 - explicit).fill(0), ...rest];
  } else {
    groups = head;
    if (groups.length !== 8) return null;
  }
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  return value;
}

const V4_MAPPED_PREFIX = 0xffffn << 32n;

/** Parses an IPv4 or IPv6 literal (IPv6 may be bracketed). */
export function parseIp(input: string): IpAddress | null {
  const s = input.trim().replace(/^\[(.*)\]$/, "$1");
  const v4 = parseIPv4(s);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = parseIPv6(s);
  if (v6 === null) return null;
  if (v6 >> 32n === V4_MAPPED_PREFIX >> 32n) return { family: 4, value: v6 & 0xffffffffn };
  return { family: 6, value: v6 };
}

/** Parses `a.b.c.d/n`, `x::y/n`, or a bare address (a /32 or /128). */
export function parseCidr(input: string): Cidr | null {
  const [addr, len, extra] = input.trim().split("/");
  if (extra !== undefined || addr === undefined) return null;
  const v4 = parseIPv4(addr);
  const family: 4 | 6 = v4 !== null ? 4 : 6;
  const value = v4 ?? parseIPv6(addr);
  if (value === null) return null;
  const bits = family === 4 ? 32 : 128;
  let prefix = bits;
  if (len !== undefined) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(len)) return null;
    prefix = Number(len);
    if (prefix > bits) return null;
  }
  return { family, network: value & mask(bits, prefix), prefix };
}

function mask(bits: number, prefix: number): bigint {
  if (prefix === 0) return 0n;
  const all = (1n << BigInt(bits)) - 1n;
  return (all >> BigInt(bits - prefix)) << BigInt(bits - prefix);
}

export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.family !== ip.family) {
    // A v4 client (mapped clients are parsed as v4) falls in a v6 range that
    // covers its mapped form: ::ffff:0:0/96, ::ffff:203.0.113.0/120, ::/0...
    if (cidr.family === 6 && ip.family === 4) {
      const mapped = V4_MAPPED_PREFIX | ip.value;
      return (mapped & mask(128, cidr.prefix)) === cidr.network;
    }
    return false;
  }
  const bits = cidr.family === 4 ? 32 : 128;
  return (ip.value & mask(bits, cidr.prefix)) === cidr.network;
}

/** True when `ip` (a literal) falls in any of `cidrs` (strings). */
export function ipAllowed(ip: string | undefined, cidrs: readonly string[]): boolean {
  if (!ip) return false;
  const addr = parseIp(ip);
  if (!addr) return false;
  return cidrs.some((c) => {
    const parsed = parseCidr(c);
    return parsed !== null && cidrContains(parsed, addr);
  });
}

/** True when every address of `inner` is also in `outer` (an IPv4 range counts inside a v6 range covering its mapped form). */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  if (inner.family === outer.family) {
    return outer.prefix <= inner.prefix && cidrContains(outer, { family: inner.family, value: inner.network });
  }
  if (inner.family === 4 && outer.family === 6) {
    return outer.prefix <= inner.prefix + 96 && cidrContains(outer, { family: 4, value: inner.network });
  }
  return false;
}

/** True when every range of `inner` lies inside some range of `outer`. */
export function rangesWithin(inner: readonly string[], outer: readonly string[]): boolean {
  const outs = outer.map(parseCidr).filter((c): c is Cidr => c !== null);
  return inner.every((s) => {
    const c = parseCidr(s);
    return c !== null && outs.some((o) => cidrWithin(c, o));
  });
}
