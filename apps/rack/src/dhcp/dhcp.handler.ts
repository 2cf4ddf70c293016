// The DHCP decisions (STYLE habit 10): from a decoded request, where it came from, the config
// snapshot, the lease state and a boot decision, to a reply (or a reason for silence) plus the
// lease events to report. No sockets, no logging: the server does I/O and counts the reasons.
// The boot decision is the loader the reply names (../boot/boot-decision.port.ts); the region's
// answer for the MAC does not shape it (see README.md, "What a machine boots").
//
// RFC 2131 4.3: DISCOVER -> OFFER; REQUEST in SELECTING / INIT-REBOOT / RENEWING / REBINDING ->
// ACK or NAK; DECLINE and RELEASE -> no reply; INFORM -> ACK without lease. The server is
// authoritative for its ranges: a REQUEST for an address that is free for the client is granted
// (so clients keep their address across a rack restart even if the journal lost it), one for an
// address on the wrong subnet or held by another client is refused with a NAK.
import {
  BootOp,
  buildAck,
  buildNak,
  buildOffer,
  clientArchName,
  Dhcp4Options,
  DhcpOption,
  Dhcp4Packet,
  Dhcp4Reply,
  DhcpMessageType,
  encodeDomainSearch,
  encodeIpxeOptions,
  formatClientId,
  isHttpBootArch,
  isIpxeClient,
  userClassStrings,
} from '@kiln/protocol';
import { BootDecision, BootDecisionSource, BootRequest } from '../boot/boot-decision.port';
import { DhcpConfig, DhcpSubnetConfig } from './dhcp-config.port';
import { cidrBroadcast, cidrContains, Cidr, intToIp, ipToInt, parseCidr, parseIp } from './ipv4.util';
import { LeaseEvent, LeaseEventType } from './lease-events.port';
import { Lease, LeaseStore, PoolSpec } from './lease.store';
import { KeyedRateLimiter } from './rate.limiter';

/** Where a datagram came from. */
export interface Ingress {
  /** The interface, when it arrived on a socket bound to one; undefined on the relay socket. */
  iface?: string;
  address: string;
  port: number;
}

/** Why a request got no reply. Each is counted; unusual ones are logged (rate limited). */
export type DropReason =
  /** BOOTREPLY (op 2) sent to the server port. */
  | 'not-request'
  /** BOOTP without option 53: not served. */
  | 'bootp'
  /** A message type servers do not receive (OFFER, ACK, NAK). */
  | 'unexpected-type'
  /** Neither chaddr nor a client identifier. */
  | 'no-client-key'
  /** The MAC is over its packet budget. */
  | 'rate-limited'
  /** giaddr (or ciaddr) on no subnet we serve. */
  | 'no-subnet'
  /** giaddr on a subnet the rack serves directly on an interface, not through a relay. */
  | 'relay-on-attached-subnet'
  /** A second copy of a relayed request already answered (a broadcast reaches two sockets). */
  | 'duplicate-relayed'
  /** Arrived on an interface that serves no subnet. */
  | 'unserved-interface'
  /** A broadcast copy on the relay socket; the interface socket handles it. */
  | 'not-relayed'
  /** No free address, even after taking back old offers. */
  | 'pool-exhausted'
  /** SELECTING a different server: our offer (if any) is withdrawn. */
  | 'other-server'
  /** A REQUEST for an address in the peer rack's share of the ranges: the peer answers it. */
  | 'peer-address'
  /** A REQUEST / DECLINE without the fields its state needs. */
  | 'bad-request'
  /** RELEASE / DECLINE for a lease we do not hold for that client. */
  | 'unknown-lease';

export interface HandlerResult {
  reply?: Dhcp4Reply;
  /** The reply depends on journal records: send it only after the store's flush. */
  durable: boolean;
  events: LeaseEvent[];
  drop?: DropReason;
  subnetId?: string;
  /** For logs: the NAK's reason. */
  message?: string;
  /** Outstanding offers taken back because this OFFER reached the subnet's bound. */
  reclaimedOffers?: number;
}

interface SubnetRuntime {
  id: string;
  cidr: Cidr;
  iface?: string;
  serverId: string;
  leaseSeconds: number;
  baseOptions: Dhcp4Options;
  bootEnabled: boolean;
  disabledArch: Set<number>;
  hostnames: Map<string, string>;
  /** The peer rack's share of this subnet's ranges (primary/secondary racks on one VLAN). */
  peerRanges: Array<{ start: number; end: number }>;
  /** Most addresses of the dynamic ranges that OFFERs not yet requested may hold at once. */
  maxOffers: number;
}

interface Runtime {
  subnets: SubnetRuntime[];
  byIface: Map<string, SubnetRuntime[]>;
  /** prefix length -> network -> subnet, for giaddr/ciaddr lookup in O(distinct prefixes). */
  byPrefix: Array<[number, Map<number, SubnetRuntime>]>;
  serverIds: Set<string>;
  offerHoldMs: number;
  declineHoldMs: number;
}

/** Default bound on outstanding offers per subnet (also capped at half its dynamic addresses). */
export const DEFAULT_MAX_OFFERS_PER_SUBNET = 256;
/** Default offer hold: clients REQUEST within a second or two, PXE ROMs within a few. */
export const DEFAULT_OFFER_HOLD_SECONDS = 10;
/** Copies of one relayed request closer together than this are answered once. */
const RELAY_DUPLICATE_WINDOW_MS = 500;

const IPXE_NO_PXEDHCP = encodeIpxeOptions({ noPxeDhcp: true });
const NO_EVENTS: LeaseEvent[] = [];

export interface HandlerDeps {
  store: LeaseStore;
  boot: BootDecisionSource;
  now?: () => number;
}

/** What phase 1 (pure config) worked out, carried over the (maybe async) boot decision. */
interface Prepared {
  prepared: true;
  pkt: Dhcp4Packet;
  ingress: Ingress;
  key: string;
  type: DhcpMessageType;
  subnets: SubnetRuntime[];
  relayed: boolean;
  netboot: boolean;
  ipxe: boolean;
  arch: number | undefined;
}

export class DhcpHandler {
  private rt!: Runtime;
  private readonly limiter = new KeyedRateLimiter(20, 5);
  /** Relayed requests answered recently (two generations of RELAY_DUPLICATE_WINDOW_MS). */
  private relayedRecent = new Set<string>();
  private relayedOlder = new Set<string>();
  private relayedRotatedAt = 0;
  private readonly store: LeaseStore;
  private readonly boot: BootDecisionSource;
  private readonly now: () => number;

  constructor(config: DhcpConfig, deps: HandlerDeps) {
    this.store = deps.store;
    this.boot = deps.boot;
    this.now = deps.now ?? Date.now;
    this.configure(config);
  }

  /** Compiles a config snapshot and re-shapes the lease store's pools (leases are kept). */
  configure(config: DhcpConfig): void {
    this.rt = compile(config);
    this.limiter.setRate(config.perMacBurst ?? 20, config.perMacPerSecond ?? 5);
    this.store.configure(poolSpecs(config));
  }

  /** The pool layout a config implies (the store is opened with it). */
  static poolSpecs(config: DhcpConfig): PoolSpec[] {
    return poolSpecs(config);
  }

  /** Handles one decoded request. Synchronous unless the boot decision source answers with a promise. */
  handle(pkt: Dhcp4Packet, ingress: Ingress): HandlerResult | Promise<HandlerResult> {
    const p = this.prepare(pkt, ingress);
    if (!isPrepared(p)) return p;
    if (!p.netboot || p.type === DhcpMessageType.DECLINE || p.type === DhcpMessageType.RELEASE) {
      return this.decide(p, undefined);
    }
    const s = p.subnets[0];
    if (!s.bootEnabled || (p.arch !== undefined && s.disabledArch.has(p.arch))) return this.decide(p, undefined);
    const request: BootRequest = {
      mac: p.key,
      clientArch: p.arch,
      userClass: userClassStrings(pkt.options.userClass),
      ipxe: p.ipxe,
      httpBoot: p.arch !== undefined && isHttpBootArch(p.arch),
      vendorClass: pkt.options.vendorClassId,
      subnetId: s.id,
      serverAddress: s.serverId,
      interface: ingress.iface,
      relayAddress: p.relayed ? pkt.giaddr : undefined,
    };
    const d = this.boot.decide(request);
    if (d instanceof Promise) return d.then((decision) => this.decide(p, decision));
    return this.decide(p, d);
  }

  /** Ends expired offers/leases; returns 'expire' events for bound leases that ran out. */
  sweep(): LeaseEvent[] {
    const now = this.now();
    const expired = this.store.sweep(now);
    if (expired.length === 0) return NO_EVENTS;
    return expired.map((l) => ({
      type: 'expire' as const,
      at: now,
      mac: l.mac,
      ip: intToIp(l.ip),
      subnetId: l.subnetId,
      hostname: l.hostname,
      expiresAt: l.expiresAt,
    }));
  }

  // -------------------------------------------------------------------------------------------

  private prepare(pkt: Dhcp4Packet, ingress: Ingress): Prepared | HandlerResult {
    if (pkt.op !== BootOp.REQUEST) return drop('not-request');
    const type = pkt.options.messageType;
    if (type === undefined) return drop('bootp');
    if (type === DhcpMessageType.OFFER || type === DhcpMessageType.ACK || type === DhcpMessageType.NAK) {
      return drop('unexpected-type');
    }
    const key = pkt.chaddr !== '' ? pkt.chaddr : pkt.options.clientId ? `id:${formatClientId(pkt.options.clientId)}` : '';
    if (key === '') return drop('no-client-key');

    const rt = this.rt;
    const relayed = pkt.giaddr !== '0.0.0.0';
    let subnets: SubnetRuntime[];
    const ciaddr = pkt.ciaddr !== '0.0.0.0' ? ipToInt(pkt.ciaddr) : -1;
    if (relayed) {
      const s = lookup(rt, ipToInt(pkt.giaddr));
      if (!s) return drop('no-subnet');
      // A relay serves a link the rack is not on. A giaddr on a subnet the rack serves directly
      // is made up (or a misconfigured relay whose clients the rack already answers itself).
      if (s.iface !== undefined) return drop('relay-on-attached-subnet', s.id);
      // A broadcast carrying a giaddr reaches both the interface's socket and the relay socket;
      // a relay agent that forwards through two paths sends two copies. Answer the first only.
      if (this.seenRelayed(`${pkt.giaddr}|${key}|${pkt.xid}|${type}`)) return drop('duplicate-relayed', s.id);
      subnets = [s];
    } else if (ingress.iface === undefined) {
      // The relay socket also gets a copy of every broadcast. Only a unicast from a client
      // renewing a relayed subnet's lease (it talks to us directly) is for this socket.
      const s = ciaddr >= 0 ? lookup(rt, ciaddr) : undefined;
      if (!s || s.iface !== undefined) return drop('not-relayed');
      subnets = [s];
    } else {
      const attached = rt.byIface.get(ingress.iface);
      if (!attached) return drop('unserved-interface');
      subnets = attached;
      if (ciaddr >= 0) {
        const s = lookup(rt, ciaddr);
        if (s && (s.iface === ingress.iface || s.iface === undefined)) subnets = [s];
        else if (type === DhcpMessageType.REQUEST) {
          // A client renewing an address from another link: tell it to start over.
          return this.nak(pkt, ingress, attached[0], key, 'address not on this link');
        } else return drop('no-subnet');
      }
    }

    if (!this.limiter.take(key, this.now())) return drop('rate-limited');

    const o = pkt.options;
    const arch = o.clientArch !== undefined && o.clientArch.length > 0 ? o.clientArch[0] : archFromVendorClass(o.vendorClassId);
    const ipxe = isIpxeClient(o);
    const vc = o.vendorClassId;
    const netboot =
      ipxe || arch !== undefined || (vc !== undefined && (vc.startsWith('PXEClient') || vc.startsWith('HTTPClient')));
    return { prepared: true, pkt, ingress, key, type, subnets, relayed, netboot, ipxe, arch };
  }

  private decide(p: Prepared, boot: BootDecision | undefined): HandlerResult {
    switch (p.type) {
      case DhcpMessageType.DISCOVER:
        return this.discover(p, boot);
      case DhcpMessageType.REQUEST:
        return this.request(p, boot);
      case DhcpMessageType.DECLINE:
        return this.decline(p);
      case DhcpMessageType.RELEASE:
        return this.release(p);
      case DhcpMessageType.INFORM:
        return this.inform(p, boot);
      default:
        return drop('unexpected-type');
    }
  }

  private discover(p: Prepared, boot: BootDecision | undefined): HandlerResult {
    const now = this.now();
    let s: SubnetRuntime | undefined;
    let ip = -1;
    for (const candidate of p.subnets) {
      ip = this.chooseAddress(candidate, p, now);
      if (ip >= 0) {
        s = candidate;
        break;
      }
    }
    if (!s || ip < 0) return drop('pool-exhausted', p.subnets[0].id);
    const hostname = s.hostnames.get(p.key);
    const lease = this.store.offer(s.id, p.key, ip, now + this.rt.offerHoldMs, this.info(p));
    // Bound the addresses outstanding offers hold: the oldest offers go back to the pool. The new
    // offer is the newest, so it is never the one taken back.
    let reclaimed = 0;
    while (this.store.offeredCount(s.id) > s.maxOffers && this.store.reclaimOldestOffer(s.id)) reclaimed++;
    const yiaddr = intToIp(ip);
    const options = this.replyOptions(s, p, boot, hostname);
    const reply = buildOffer(p.pkt, {
      serverId: s.serverId,
      yiaddr,
      leaseTime: s.leaseSeconds,
      siaddr: options.siaddr,
      file: options.file,
      options: options.options,
    });
    const ev = this.event('offer', p, s, yiaddr, now, options.file, lease.state === 'bound' ? lease.expiresAt : undefined);
    const r: HandlerResult = { reply, durable: false, events: [ev], subnetId: s.id };
    if (reclaimed > 0) r.reclaimedOffers = reclaimed;
    return r;
  }

  /** Whether `id` was seen within the duplicate window; remembers it. */
  private seenRelayed(id: string): boolean {
    const now = this.now();
    if (now - this.relayedRotatedAt >= RELAY_DUPLICATE_WINDOW_MS) {
      this.relayedOlder = now - this.relayedRotatedAt >= 2 * RELAY_DUPLICATE_WINDOW_MS ? new Set() : this.relayedRecent;
      this.relayedRecent = new Set();
      this.relayedRotatedAt = now;
    }
    if (this.relayedRecent.has(id) || this.relayedOlder.has(id)) return true;
    this.relayedRecent.add(id);
    return false;
  }

  /** Reservation, then the client's own (current or remembered) address, then the one it asks for, then a free one. */
  private chooseAddress(s: SubnetRuntime, p: Prepared, now: number): number {
    const store = this.store;
    const reserved = store.reservationOf(s.id, p.key);
    if (reserved >= 0) return reserved;
    const l = store.byMac(s.id, p.key);
    if (l && cidrContains(s.cidr, l.ip) && store.availableFor(s.id, l.ip, p.key, now)) return l.ip;
    const asked = p.pkt.options.requestedIp;
    if (asked !== undefined) {
      const ip = ipToInt(asked);
      if (ip >= 0 && cidrContains(s.cidr, ip) && store.availableFor(s.id, ip, p.key, now)) return ip;
    }
    return store.pickFree(s.id);
  }

  private request(p: Prepared, boot: BootDecision | undefined): HandlerResult {
    const o = p.pkt.options;
    const s = p.subnets[0];
    let target: string | undefined;
    if (o.serverId !== undefined) {
      // SELECTING.
      if (!this.rt.serverIds.has(o.serverId)) {
        for (const c of p.subnets) {
          const l = this.store.byMac(c.id, p.key);
          if (l && l.state === 'offered') this.store.withdrawOffer(l);
        }
        return drop('other-server', s.id);
      }
      target = o.requestedIp;
    } else if (o.requestedIp !== undefined) {
      target = o.requestedIp; // INIT-REBOOT
    } else if (p.pkt.ciaddr !== '0.0.0.0') {
      target = p.pkt.ciaddr; // RENEWING / REBINDING
    }
    if (target === undefined) return drop('bad-request', s.id);
    const ip = ipToInt(target);
    if (ip < 0) return drop('bad-request', s.id);
    // On a shared link the address picks the subnet.
    const subnet = p.subnets.length === 1 ? s : (p.subnets.find((c) => cidrContains(c.cidr, ip)) ?? s);
    if (!cidrContains(subnet.cidr, ip)) return this.nak(p.pkt, p.ingress, subnet, p.key, 'address not on this subnet');
    const now = this.now();
    const reserved = this.store.reservationOf(subnet.id, p.key);
    if (reserved >= 0 && reserved !== ip) return this.nak(p.pkt, p.ingress, subnet, p.key, 'client has a reserved address');
    if (!this.store.availableFor(subnet.id, ip, p.key, now)) {
      // RFC 2131 4.3.2: a server that has no record of the client's address stays silent. The
      // peer rack handed it out and answers; a NAK here would take a good lease away.
      if (subnet.peerRanges.some((r) => ip >= r.start && ip <= r.end) && this.store.byMac(subnet.id, p.key)?.ip !== ip) {
        return drop('peer-address', subnet.id);
      }
      return this.nak(p.pkt, p.ingress, subnet, p.key, 'address not available');
    }
    const hostname = subnet.hostnames.get(p.key);
    const until = now + subnet.leaseSeconds * 1000;
    this.store.bind(subnet.id, p.key, ip, until, this.info(p));
    const options = this.replyOptions(subnet, p, boot, hostname);
    const reply = buildAck(p.pkt, {
      serverId: subnet.serverId,
      yiaddr: target,
      leaseTime: subnet.leaseSeconds,
      siaddr: options.siaddr,
      file: options.file,
      options: options.options,
    });
    const ev = this.event('ack', p, subnet, target, now, options.file, until);
    ev.leaseSeconds = subnet.leaseSeconds;
    return { reply, durable: true, events: [ev], subnetId: subnet.id };
  }

  private decline(p: Prepared): HandlerResult {
    const o = p.pkt.options;
    if (o.requestedIp === undefined) return drop('bad-request', p.subnets[0].id);
    const ip = ipToInt(o.requestedIp);
    for (const s of p.subnets) {
      const l = this.store.byMac(s.id, p.key);
      if (l && l.ip === ip && (l.state === 'bound' || l.state === 'offered')) {
        const now = this.now();
        const until = now + this.rt.declineHoldMs;
        this.store.decline(s.id, ip, until);
        const ev = this.event('decline', p, s, o.requestedIp, now, undefined, until);
        if (o.message !== undefined) ev.message = o.message;
        return { durable: false, events: [ev], subnetId: s.id };
      }
    }
    return drop('unknown-lease', p.subnets[0].id);
  }

  private release(p: Prepared): HandlerResult {
    const ip = ipToInt(p.pkt.ciaddr);
    for (const s of p.subnets) {
      const l: Lease | undefined = this.store.byMac(s.id, p.key);
      if (l && l.ip === ip && (l.state === 'bound' || l.state === 'offered')) {
        const now = this.now();
        this.store.release(l, now);
        return { durable: false, events: [this.event('release', p, s, p.pkt.ciaddr, now)], subnetId: s.id };
      }
    }
    return drop('unknown-lease', p.subnets[0].id);
  }

  private inform(p: Prepared, boot: BootDecision | undefined): HandlerResult {
    const s = p.subnets[0];
    const options = this.replyOptions(s, p, boot, s.hostnames.get(p.key));
    const reply = buildAck(p.pkt, {
      serverId: s.serverId,
      yiaddr: '0.0.0.0',
      siaddr: options.siaddr,
      file: options.file,
      options: options.options,
    });
    return { reply, durable: false, events: NO_EVENTS, subnetId: s.id };
  }

  private nak(pkt: Dhcp4Packet, ingress: Ingress, s: SubnetRuntime, key: string, message: string): HandlerResult {
    const reply = buildNak(pkt, { serverId: s.serverId, message });
    const ev: LeaseEvent = {
      type: 'nak',
      at: this.now(),
      mac: key,
      ip: pkt.options.requestedIp ?? pkt.ciaddr,
      subnetId: s.id,
      xid: pkt.xid,
      message,
    };
    if (ingress.iface !== undefined) ev.interface = ingress.iface;
    if (pkt.giaddr !== '0.0.0.0') ev.relayAddress = pkt.giaddr;
    return { reply, durable: false, events: [ev], subnetId: s.id, message };
  }

  private info(p: Prepared): { clientId?: string; hostname?: string } {
    const o = p.pkt.options;
    return {
      clientId: o.clientId ? formatClientId(o.clientId) : undefined,
      hostname: o.hostname,
    };
  }

  private replyOptions(
    s: SubnetRuntime,
    p: Prepared,
    boot: BootDecision | undefined,
    hostname: string | undefined,
  ): { options: Dhcp4Options; siaddr?: string; file?: string } {
    const options: Dhcp4Options = Object.assign({}, s.baseOptions);
    if (hostname !== undefined) options.hostname = hostname;
    if (!boot) return { options };
    if (p.ipxe && boot.ipxeScriptUrl) {
      options.ipxe = IPXE_NO_PXEDHCP;
      return { options, file: boot.ipxeScriptUrl };
    }
    if (!boot.bootFile) return { options };
    if (p.arch !== undefined && isHttpBootArch(p.arch)) options.vendorClassId = 'HTTPClient';
    return { options, file: boot.bootFile, siaddr: boot.nextServer ?? s.serverId };
  }

  private event(
    type: LeaseEventType,
    p: Prepared,
    s: SubnetRuntime,
    ip: string,
    now: number,
    bootFile?: string,
    expiresAt?: number,
  ): LeaseEvent {
    const o = p.pkt.options;
    const ev: LeaseEvent = { type, at: now, mac: p.key, ip, subnetId: s.id, xid: p.pkt.xid };
    if (p.ingress.iface !== undefined) ev.interface = p.ingress.iface;
    if (p.relayed) ev.relayAddress = p.pkt.giaddr;
    const hostname = s.hostnames.get(p.key) ?? o.hostname;
    if (hostname !== undefined) ev.hostname = hostname;
    if (p.arch !== undefined) {
      ev.clientArch = p.arch;
      ev.clientArchName = clientArchName(p.arch);
    }
    if (o.userClass) ev.userClass = userClassStrings(o.userClass);
    if (o.vendorClassId !== undefined) ev.vendorClass = o.vendorClassId;
    if (bootFile !== undefined) ev.bootFile = bootFile;
    if (expiresAt !== undefined) ev.expiresAt = expiresAt;
    return ev;
  }
}

function isPrepared(p: Prepared | HandlerResult): p is Prepared {
  return (p as Prepared).prepared === true;
}

function drop(reason: DropReason, subnetId?: string): HandlerResult {
  return { durable: false, events: NO_EVENTS, drop: reason, subnetId };
}

/** "PXEClient:Arch:00007:UNDI:003016" -> 7 (clients that send option 60 but not 93). */
function archFromVendorClass(vc: string | undefined): number | undefined {
  if (vc === undefined) return undefined;
  const m = /^(?:PXEClient|HTTPClient):Arch:(\d{5})/.exec(vc);
  return m ? Number(m[1]) : undefined;
}

function lookup(rt: Runtime, ip: number): SubnetRuntime | undefined {
  for (const [prefix, map] of rt.byPrefix) {
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    const s = map.get((ip & mask) >>> 0);
    if (s) return s;
  }
  return undefined;
}

function poolSpecs(config: DhcpConfig): PoolSpec[] {
  return config.subnets.map((s) => ({
    subnetId: s.id,
    ranges: s.ranges.map((r) => ({ start: parseIp(r.start, 'range'), end: parseIp(r.end, 'range') })),
    reservations: (s.reservations ?? []).map((r) => ({ mac: r.mac, ip: parseIp(r.ip, 'reservation') })),
  }));
}

function compile(config: DhcpConfig): Runtime {
  const ifaceAddress = new Map(config.interfaces.map((i) => [i.name, i.address]));
  const maxOffers = config.maxOffersPerSubnet ?? DEFAULT_MAX_OFFERS_PER_SUBNET;
  const subnets: SubnetRuntime[] = config.subnets.map((s) => compileSubnet(config, s, ifaceAddress, maxOffers));
  const byIface = new Map<string, SubnetRuntime[]>();
  const prefixes = new Map<number, Map<number, SubnetRuntime>>();
  const serverIds = new Set<string>();
  for (const s of subnets) {
    if (s.iface !== undefined) {
      const list = byIface.get(s.iface) ?? [];
      list.push(s);
      byIface.set(s.iface, list);
    }
    let m = prefixes.get(s.cidr.prefix);
    if (!m) prefixes.set(s.cidr.prefix, (m = new Map()));
    m.set(s.cidr.network, s);
    serverIds.add(s.serverId);
  }
  for (const i of config.interfaces) serverIds.add(i.address);
  if (config.serverAddress) serverIds.add(config.serverAddress);
  return {
    subnets,
    byIface,
    // Longest prefix first.
    byPrefix: [...prefixes.entries()].sort((a, b) => b[0] - a[0]),
    serverIds,
    offerHoldMs: (config.offerHoldSeconds ?? DEFAULT_OFFER_HOLD_SECONDS) * 1000,
    declineHoldMs: (config.declineHoldSeconds ?? 600) * 1000,
  };
}

function compileSubnet(config: DhcpConfig, s: DhcpSubnetConfig, ifaceAddress: Map<string, string>, maxOffers: number): SubnetRuntime {
  let dynamic = 0;
  for (const r of s.ranges) dynamic += parseIp(r.end, 'range') - parseIp(r.start, 'range') + 1;
  const cidr = parseCidr(s.cidr, `subnet ${s.id}`);
  const serverId = s.serverAddress ?? (s.interface !== undefined ? ifaceAddress.get(s.interface) : undefined) ?? config.serverAddress;
  if (serverId === undefined) throw new TypeError(`subnet ${s.id}: no server address`);
  const leaseSeconds = s.leaseSeconds ?? config.leaseSeconds ?? 600;
  const base: Dhcp4Options = {
    subnetMask: intToIp(cidr.mask),
    broadcastAddress: intToIp(cidrBroadcast(cidr)),
    renewalTime: Math.floor(leaseSeconds / 2),
    rebindingTime: Math.floor((leaseSeconds * 7) / 8),
  };
  if (s.routers?.length) base.routers = s.routers;
  if (s.dnsServers?.length) base.dnsServers = s.dnsServers;
  if (s.domainName) base.domainName = s.domainName;
  if (s.mtu !== undefined) base.interfaceMtu = s.mtu;
  // Canonical dotted quads: the config reader accepts leading zeros, the codec does not.
  if (s.ntpServers?.length) base.ntpServers = s.ntpServers.map((ip) => intToIp(parseIp(ip, 'ntp')));
  if (s.domainSearch?.length) base.raw = [{ code: DhcpOption.DOMAIN_SEARCH, data: encodeDomainSearch(s.domainSearch) }];
  return {
    id: s.id,
    cidr,
    iface: s.interface,
    serverId,
    leaseSeconds,
    baseOptions: base,
    bootEnabled: s.boot?.enabled ?? true,
    disabledArch: new Set(s.boot?.disabledArchitectures ?? []),
    hostnames: new Map((s.reservations ?? []).filter((r) => r.hostname).map((r) => [r.mac, r.hostname as string])),
    peerRanges: (s.peerRanges ?? []).map((r) => ({ start: parseIp(r.start, 'peer range'), end: parseIp(r.end, 'peer range') })),
    maxOffers: Math.max(1, Math.min(Math.floor(maxOffers), Math.floor(dynamic / 2))),
  };
}
