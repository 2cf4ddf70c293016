// Port: the DHCP configuration this rack serves. The region pushes it over NATS (MAAS's "DHCP on
// a VLAN with a primary rack"); the rack core adapts those contract messages to this shape and
// calls `update` with each new snapshot. The server re-reads the snapshot per packet, so a change
// applies to the next packet, and the lease store keeps every lease across changes.
import { cidrContains, Cidr, parseCidr, parseIp } from './ipv4.util';

/** A rack interface that serves directly attached clients. */
export interface DhcpInterfaceConfig {
  /** Kernel name, e.g. "eth1" or "br-vlan20". */
  name: string;
  /** The rack's address on this interface: server identifier and boot server for its subnets. */
  address: string;
}

export interface DhcpRange {
  /** First and last address, inclusive. */
  start: string;
  end: string;
}

export interface DhcpReservation {
  mac: string;
  ip: string;
  hostname?: string;
}

export interface DhcpBootConfig {
  /** Answer network-boot clients with boot files at all (MAAS: VLAN DHCP with PXE). */
  enabled: boolean;
  /**
   * Option 93 architecture codes the operator switched off on this subnet (e.g. [0] to stop BIOS
   * PXE). Such clients still get an address, but no boot file.
   */
  disabledArchitectures?: number[];
}

export interface DhcpSubnetConfig {
  /** Stable id (the region's subnet id). Leases are keyed by it. */
  id: string;
  cidr: string;
  /**
   * Interface the subnet is directly attached to. Absent for subnets reached only through relays
   * (their requests carry a giaddr inside `cidr`).
   */
  interface?: string;
  /**
   * Server identifier (option 54) and boot server for this subnet. Defaults to the interface's
   * address, or for relayed subnets to the top-level `serverAddress`.
   */
  serverAddress?: string;
  ranges: DhcpRange[];
  /**
   * The share of the VLAN's dynamic ranges a peer rack (primary/secondary) hands out: never
   * allocated here, and requests for them are left to the peer instead of being refused.
   */
  peerRanges?: DhcpRange[];
  reservations?: DhcpReservation[];
  routers?: string[];
  dnsServers?: string[];
  domainName?: string;
  ntpServers?: string[];
  /** Option 119, from DHCP snippets. */
  domainSearch?: string[];
  mtu?: number;
  leaseSeconds?: number;
  boot?: DhcpBootConfig;
}

export interface DhcpConfig {
  interfaces: DhcpInterfaceConfig[];
  subnets: DhcpSubnetConfig[];
  /** Address relayed clients reach the rack at (server identifier for relayed subnets). */
  serverAddress?: string;
  /** Default lease length (seconds). MAAS uses 600 for dynamic ranges. */
  leaseSeconds?: number;
  /** How long an OFFER holds its address before it returns to the pool (seconds, default 10). */
  offerHoldSeconds?: number;
  /**
   * Most addresses of one subnet's dynamic ranges that OFFERs not yet requested may hold at once
   * (default 256, and never more than half the subnet's dynamic addresses). Past it the oldest
   * offer goes back to the pool.
   */
  maxOffersPerSubnet?: number;
  /** How long a declined address stays out of the pool (seconds). */
  declineHoldSeconds?: number;
  /** Per-MAC packet budget: burst size and refill per second. */
  perMacBurst?: number;
  perMacPerSecond?: number;
}

export interface DhcpConfigSource {
  current(): DhcpConfig;
  /** Called with every new snapshot; returns an unsubscribe function. */
  subscribe(listener: (config: DhcpConfig) => void): () => void;
}

/** A config held in memory: the fake for tests, and what the NATS adapter feeds. */
export class InMemoryDhcpConfigSource implements DhcpConfigSource {
  private config: DhcpConfig;
  private readonly listeners = new Set<(c: DhcpConfig) => void>();

  constructor(initial: DhcpConfig) {
    validateDhcpConfig(initial);
    this.config = initial;
  }

  current(): DhcpConfig {
    return this.config;
  }

  /** Validates, then applies. Throws (and keeps the old snapshot) on an invalid config. */
  update(next: DhcpConfig): void {
    validateDhcpConfig(next);
    this.config = next;
    for (const l of this.listeners) l(next);
  }

  subscribe(listener: (config: DhcpConfig) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Throws a TypeError naming the first problem. */
export function validateDhcpConfig(c: DhcpConfig): void {
  if (!c || !Array.isArray(c.interfaces) || !Array.isArray(c.subnets)) {
    throw new TypeError('dhcp config: interfaces and subnets must be arrays');
  }
  const ifaces = new Set<string>();
  for (const i of c.interfaces) {
    if (typeof i.name !== 'string' || i.name.length === 0 || i.name.length > 15) {
      throw new TypeError(`dhcp config: bad interface name ${JSON.stringify(i.name)}`);
    }
    if (ifaces.has(i.name)) throw new TypeError(`dhcp config: interface ${i.name} listed twice`);
    ifaces.add(i.name);
    parseIp(i.address, `interface ${i.name} address`);
  }
  if (c.serverAddress !== undefined) parseIp(c.serverAddress, 'serverAddress');
  const ids = new Set<string>();
  const cidrs: Cidr[] = [];
  for (const s of c.subnets) {
    const where = `subnet ${JSON.stringify(s.id)}`;
    if (typeof s.id !== 'string' || s.id.length === 0) throw new TypeError('dhcp config: subnet without id');
    if (ids.has(s.id)) throw new TypeError(`dhcp config: ${where} listed twice`);
    ids.add(s.id);
    const cidr = parseCidr(s.cidr, `${where} cidr`);
    for (const other of cidrs) {
      if (cidrContains(other, cidr.network) || cidrContains(cidr, other.network)) {
        throw new TypeError(`dhcp config: ${where} ${cidr.text} overlaps ${other.text}`);
      }
    }
    cidrs.push(cidr);
    if (s.interface !== undefined && !ifaces.has(s.interface)) {
      throw new TypeError(`dhcp config: ${where} names interface ${s.interface}, which is not in interfaces`);
    }
    if (s.serverAddress !== undefined) parseIp(s.serverAddress, `${where} serverAddress`);
    if (s.interface === undefined && s.serverAddress === undefined && c.serverAddress === undefined) {
      throw new TypeError(`dhcp config: relayed ${where} needs serverAddress (or a top-level serverAddress)`);
    }
    if (!Array.isArray(s.ranges)) throw new TypeError(`dhcp config: ${where} ranges must be an array`);
    const spans: Array<[number, number]> = [];
    for (const r of s.ranges) {
      const a = parseIp(r.start, `${where} range start`);
      const b = parseIp(r.end, `${where} range end`);
      if (b < a) throw new TypeError(`dhcp config: ${where} range ${r.start}-${r.end} ends before it starts`);
      if (!cidrContains(cidr, a) || !cidrContains(cidr, b)) {
        throw new TypeError(`dhcp config: ${where} range ${r.start}-${r.end} is not inside ${cidr.text}`);
      }
      for (const [x, y] of spans) {
        if (a <= y && b >= x) throw new TypeError(`dhcp config: ${where} ranges overlap at ${r.start}-${r.end}`);
      }
      spans.push([a, b]);
    }
    for (const r of s.peerRanges ?? []) {
      const a = parseIp(r.start, `${where} peer range start`);
      const b = parseIp(r.end, `${where} peer range end`);
      if (b < a || !cidrContains(cidr, a) || !cidrContains(cidr, b)) {
        throw new TypeError(`dhcp config: ${where} peer range ${r.start}-${r.end} is not a range inside ${cidr.text}`);
      }
      for (const [x, y] of spans) {
        if (a <= y && b >= x) throw new TypeError(`dhcp config: ${where} peer range ${r.start}-${r.end} overlaps a range of ours`);
      }
    }
    const macs = new Set<string>();
    const ips = new Set<number>();
    for (const r of s.reservations ?? []) {
      if (typeof r.mac !== 'string' || !MAC_RE.test(r.mac)) {
        throw new TypeError(`dhcp config: ${where} reservation MAC ${JSON.stringify(r.mac)} is not lower-case aa:bb:cc:dd:ee:ff`);
      }
      const ip = parseIp(r.ip, `${where} reservation ${r.mac}`);
      if (!cidrContains(cidr, ip)) throw new TypeError(`dhcp config: ${where} reservation ${r.ip} is not inside ${cidr.text}`);
      if (macs.has(r.mac) || ips.has(ip)) throw new TypeError(`dhcp config: ${where} reservation ${r.mac} / ${r.ip} duplicated`);
      macs.add(r.mac);
      ips.add(ip);
    }
    for (const list of [s.routers, s.dnsServers, s.ntpServers]) for (const ip of list ?? []) parseIp(ip, `${where} option address`);
    if (s.mtu !== undefined && (!Number.isInteger(s.mtu) || s.mtu < 68 || s.mtu > 65535)) {
      throw new TypeError(`dhcp config: ${where} mtu must be 68..65535`);
    }
    for (const [k, v] of [['leaseSeconds', s.leaseSeconds]] as const) {
      if (v !== undefined && (!Number.isInteger(v) || v < 30)) throw new TypeError(`dhcp config: ${where} ${k} must be an integer >= 30`);
    }
  }
  for (const [k, v] of Object.entries({
    leaseSeconds: c.leaseSeconds,
    offerHoldSeconds: c.offerHoldSeconds,
    maxOffersPerSubnet: c.maxOffersPerSubnet,
    declineHoldSeconds: c.declineHoldSeconds,
    perMacBurst: c.perMacBurst,
    perMacPerSecond: c.perMacPerSecond,
  })) {
    if (v !== undefined && (typeof v !== 'number' || !(v > 0))) throw new TypeError(`dhcp config: ${k} must be a positive number`);
  }
}
