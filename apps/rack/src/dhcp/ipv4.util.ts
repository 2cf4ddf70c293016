// IPv4 addresses as unsigned 32-bit numbers: the lease store and pools index by number, the
// codec speaks dotted quads. Conversions are hand-rolled because they run per packet.

/** "10.0.0.1" -> 167772161. Returns -1 for anything that is not four decimal octets 0-255. */
export function ipToInt(ip: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= ip.length; i++) {
    const c = i === ip.length ? 46 : ip.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || parts > 3) return -1;
      value = value * 256 + octet;
      parts++;
      octet = 0;
      digits = 0;
      continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9 || digits >= 3) return -1;
    octet = octet * 10 + d;
    digits++;
    if (octet > 255) return -1;
  }
  return parts === 4 ? value : -1;
}

/** Like ipToInt but throws a TypeError naming `field`. For configuration, not packets. */
export function parseIp(ip: string, field: string): number {
  const n = typeof ip === 'string' ? ipToInt(ip) : -1;
  if (n < 0) throw new TypeError(`${field}: not an IPv4 address: ${JSON.stringify(ip)}`);
  return n;
}

export function intToIp(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export interface Cidr {
  /** Network address as a number. */
  network: number;
  prefix: number;
  /** Netmask as a number (0 for /0). */
  mask: number;
  text: string;
}

export function parseCidr(text: string, field: string): Cidr {
  const slash = typeof text === 'string' ? text.indexOf('/') : -1;
  if (slash < 0) throw new TypeError(`${field}: not an IPv4 CIDR: ${JSON.stringify(text)}`);
  const addr = parseIp(text.slice(0, slash), field);
  const prefixText = text.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d{1,2}$/.test(prefixText) || prefix > 32) throw new TypeError(`${field}: bad prefix length in ${JSON.stringify(text)}`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (addr & mask) >>> 0;
  return { network, prefix, mask, text: `${intToIp(network)}/${prefix}` };
}

export function cidrContains(c: Cidr, ip: number): boolean {
  return ((ip & c.mask) >>> 0) === c.network;
}

export function cidrBroadcast(c: Cidr): number {
  return (c.network | (~c.mask >>> 0)) >>> 0;
}
