import { parseCidr, parseIp } from '../networking/ip.address';

/** An address of a rack interface and the network it is on (canonical CIDR, host bits cleared). */
export interface ObservedLink {
  ip: string;
  cidr: string;
}

const V4_LOOPBACK = parseCidr('127.0.0.0/8')!;
const V4_LINK_LOCAL = parseCidr('169.254.0.0/16')!;
const V6_LINK_LOCAL = parseCidr('fe80::/10')!;

function inside(net: NonNullable<ReturnType<typeof parseCidr>>, ip: NonNullable<ReturnType<typeof parseIp>>): boolean {
  if (net.family !== ip.family) return false;
  const bits = BigInt((ip.family === 4 ? 32 : 128) - net.prefix);
  return ip.value >> bits === net.network >> bits;
}

/**
 * The addresses (ip/prefix) of a rack interface that put it on a network, as MAAS links a
 * controller's interfaces: loopback, link-local and unparsable addresses are ignored, and so are
 * host routes (/32, /128), which name no network. Duplicates are dropped.
 */
export function observedLinks(addresses: readonly string[]): ObservedLink[] {
  const out: ObservedLink[] = [];
  for (const a of addresses) {
    const cidr = parseCidr(a);
    const ip = parseIp(a.split('/')[0]);
    if (!cidr || !ip) continue;
    if (ip.family === 4 && (inside(V4_LOOPBACK, ip) || inside(V4_LINK_LOCAL, ip))) continue;
    if (ip.family === 6 && (ip.value === 1n || inside(V6_LINK_LOCAL, ip))) continue;
    if (cidr.prefix === (ip.family === 4 ? 32 : 128)) continue;
    const text = a.split('/')[0].trim().toLowerCase();
    if (out.some((l) => l.ip === text)) continue;
    out.push({ ip: text, cidr: cidr.text });
  }
  return out;
}

/** Untagged interfaces first, so a VLAN interface finds its parent's fabric; then by name. */
export function linkOrder<T extends { name: string; vlan: number | null }>(interfaces: readonly T[]): T[] {
  return [...interfaces].sort((a, b) => Number(a.vlan !== null) - Number(b.vlan !== null) || a.name.localeCompare(b.name));
}

/** JSON with object keys sorted, so a value compares equal to its jsonb round trip (which reorders keys). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
