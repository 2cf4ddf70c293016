import { Cidr, formatIp, parseIp } from './ip.address';
import type { RangeRow, StaticIpRow, SubnetRow } from './networking.repository';

/** What a subnet's address usage is computed from. */
export interface SubnetUsage {
  cidr: Cidr;
  usable: { first: bigint; last: bigint };
  subnet: SubnetRow;
  ranges: RangeRow[];
  staticIps: StaticIpRow[];
}

interface Span {
  start: bigint;
  end: bigint;
  purpose: string[];
}

function spans(u: SubnetUsage): Span[] {
  const out: Span[] = [];
  const add = (start: string, end: string, purpose: string) => {
    const s = parseIp(start);
    const e = parseIp(end);
    if (!s || !e || s.family !== u.cidr.family) return;
    const found = out.find((x) => x.start === s.value && x.end === e.value);
    if (found) found.purpose.push(purpose);
    else out.push({ start: s.value, end: e.value, purpose: [purpose] });
  };
  for (const r of u.ranges) add(r.start_ip, r.end_ip, r.type);
  if (u.subnet.gateway_ip) add(u.subnet.gateway_ip, u.subnet.gateway_ip, 'gateway-ip');
  for (const d of u.subnet.dns_servers) {
    const ip = parseIp(d);
    if (ip && ip.family === u.cidr.family && ip.value >= u.cidr.network && ip.value <= u.usable.last) add(d, d, 'dns-server');
  }
  for (const x of u.staticIps) add(x.ip, x.ip, 'assigned-ip');
  return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/** Reserved spans merged into disjoint intervals, clipped to the usable addresses. */
function merged(u: SubnetUsage): { start: bigint; end: bigint }[] {
  const out: { start: bigint; end: bigint }[] = [];
  for (const s of spans(u)) {
    const start = s.start < u.usable.first ? u.usable.first : s.start;
    const end = s.end > u.usable.last ? u.usable.last : s.end;
    if (start > end) continue;
    const last = out[out.length - 1];
    if (last && start <= last.end + 1n) last.end = end > last.end ? end : last.end;
    else out.push({ start, end });
  }
  return out;
}

const ip = (u: SubnetUsage, v: bigint) => formatIp({ family: u.cidr.family, value: v });

/** GET subnets/{id}/?op=reserved_ip_ranges */
export function reservedRanges(u: SubnetUsage) {
  return spans(u).map((s) => ({ start: ip(u, s.start), end: ip(u, s.end), purpose: s.purpose, num_addresses: Number(s.end - s.start + 1n) }));
}

/** GET subnets/{id}/?op=unreserved_ip_ranges */
export function unreservedRanges(u: SubnetUsage) {
  const out: { start: string; end: string; num_addresses: number }[] = [];
  let next = u.usable.first;
  for (const m of merged(u)) {
    if (m.start > next) out.push({ start: ip(u, next), end: ip(u, m.start - 1n), num_addresses: Number(m.start - next) });
    next = m.end + 1n;
  }
  if (next <= u.usable.last) out.push({ start: ip(u, next), end: ip(u, u.usable.last), num_addresses: Number(u.usable.last - next + 1n) });
  return out;
}

/** GET subnets/{id}/?op=statistics */
export function subnetStatistics(u: SubnetUsage) {
  const total = u.usable.last - u.usable.first + 1n;
  const unavailable = merged(u).reduce((n, m) => n + (m.end - m.start + 1n), 0n);
  const free = unreservedRanges(u);
  const usage = total > 0n ? Number(unavailable) / Number(total) : 0;
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return {
    num_available: Number(total - unavailable),
    largest_available: free.reduce((n, f) => Math.max(n, f.num_addresses), 0),
    num_unavailable: Number(unavailable),
    total_addresses: Number(total),
    usage,
    usage_string: pct(usage),
    available_string: pct(1 - usage),
    first_address: ip(u, u.usable.first),
    last_address: ip(u, u.usable.last),
    ip_version: u.cidr.family,
  };
}
