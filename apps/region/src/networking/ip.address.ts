/**
 * IPv4 and IPv6 addresses as numbers, for range and subnet arithmetic (Postgres' inet does the
 * storage; this does the validation messages). No dependencies.
 */

export type Family = 4 | 6;

export interface Ip {
  family: Family;
  value: bigint;
}

export interface Cidr {
  family: Family;
  network: bigint;
  prefix: number;
  /** Canonical text, host bits cleared: 10.0.0.0/24, 2001:db8::/64. */
  text: string;
}

const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function parseIp(text: string): Ip | null {
  const s = text.trim();
  if (V4.test(s)) {
    return { family: 4, value: s.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n) };
  }
  if (!s.includes(':') || !/^[0-9a-fA-F:.]+$/.test(s)) return null;
  let head = s;
  let tailV4: bigint | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const v4 = parseIp(s.slice(lastColon + 1));
    if (!v4 || v4.family !== 4) return null;
    tailV4 = v4.value;
    head = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const group = (part: string) => (part === '' ? [] : part.split(':'));
  const left = group(halves[0]);
  const right = halves.length === 2 ? group(halves[1]) : [];
  const missing = 8 - left.length - right.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) return null;
  const groups = [...left, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...right];
  let value = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    value = (value << 16n) | BigInt(parseInt(g, 16));
  }
  if (tailV4 !== null) value = (value & ~0xffffffffn) | tailV4;
  return { family: 6, value };
}

export function formatIp(ip: Ip): string {
  if (ip.family === 4) {
    return [24n, 16n, 8n, 0n].map((sh) => String((ip.value >> sh) & 255n)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  // Longest run of zero groups (length >= 2) becomes '::' (RFC 5952).
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

const bits = (f: Family) => (f === 4 ? 32 : 128);

export function parseCidr(text: string): Cidr | null {
  const [addr, len, ...rest] = text.trim().split('/');
  if (rest.length || len === undefined || !/^\d{1,3}$/.test(len)) return null;
  const ip = parseIp(addr);
  if (!ip) return null;
  const prefix = Number(len);
  if (prefix > bits(ip.family)) return null;
  const hostBits = BigInt(bits(ip.family) - prefix);
  const network = (ip.value >> hostBits) << hostBits;
  return { family: ip.family, network, prefix, text: `${formatIp({ family: ip.family, value: network })}/${prefix}` };
}

export function lastAddress(c: Cidr): bigint {
  return c.network | ((1n << BigInt(bits(c.family) - c.prefix)) - 1n);
}

export function cidrContains(c: Cidr, ip: Ip): boolean {
  return ip.family === c.family && ip.value >= c.network && ip.value <= lastAddress(c);
}

/** Addresses a host may use: IPv4 excludes the network and broadcast addresses (except /31, /32). */
export function usableRange(c: Cidr): { first: bigint; last: bigint } {
  const last = lastAddress(c);
  if (c.family === 4 && c.prefix < 31) return { first: c.network + 1n, last: last - 1n };
  if (c.family === 6 && c.prefix < 127) return { first: c.network + 1n, last };
  return { first: c.network, last };
}

export function sameIp(a: Ip, b: Ip): boolean {
  return a.family === b.family && a.value === b.value;
}
