import { BOOT_ARCHITECTURES, DhcpSnapshot, RackInterface } from '@kiln/contracts';
import type { DhcpConfig, DhcpSubnetConfig as ServerSubnet } from './dhcp-config.port';
import { cidrContains, intToIp, ipToInt, parseCidr } from './ipv4.util';
import type { LeaseEvent as ServerLeaseEvent, LeaseEventSink } from './lease-events.port';
import type { TransferEvents } from '../tftp/transfer-events.port';
import type { RackEventsPublisher } from '../events/rack-events.publisher';

/**
 * Adapters between the rack core (contract-shaped) and the servers' ports: the region's DHCP
 * snapshot as the DHCP server's configuration, and the servers' lease and transfer reports as
 * the lease and boot events the region consumes.
 */

function inCidr(ip: string, cidr: string): boolean {
  return cidrContains(parseCidr(cidr, 'subnet'), ipToInt(ip));
}

type Range = { start: string; end: string };

/**
 * A VLAN served by a primary and a secondary rack: each dynamic range is split in two, the
 * primary handing out the lower half and the secondary the upper, so the two never give one
 * address to two machines, with no traffic between them (the split-scope arrangement of
 * RFC 2131 servers sharing a link). Each rack is told the peer's half so that it leaves
 * requests for those addresses to the peer instead of refusing them. `role` null: one rack
 * serves the whole range.
 */
export function shareOfRanges(ranges: readonly Range[], role: boolean | null): { ranges: Range[]; peerRanges?: Range[] } {
  if (role === null) return { ranges: ranges.map((r) => ({ start: r.start, end: r.end })) };
  const mine: Range[] = [];
  const peer: Range[] = [];
  for (const r of ranges) {
    const a = ipToInt(r.start);
    const b = ipToInt(r.end);
    const lowerEnd = a + Math.ceil((b - a + 1) / 2) - 1;
    const lower = { start: intToIp(a), end: intToIp(lowerEnd) };
    const upper = lowerEnd < b ? { start: intToIp(lowerEnd + 1), end: intToIp(b) } : null;
    const [own, other] = role ? [lower, upper] : [upper, lower];
    if (own) mine.push(own);
    if (other) peer.push(other);
  }
  return { ranges: mine, peerRanges: peer };
}

const ARCH_CODES = new Map<string, number | null>(BOOT_ARCHITECTURES.map((a) => [a.name, a.code]));

/**
 * The DHCP server's configuration for a snapshot: each subnet is served on the rack interface whose
 * IPv4 address lies in it (directly attached), or through relays (no interface). The rack's first
 * IPv4 address answers relayed clients.
 */
export function toDhcpServerConfig(snapshot: DhcpSnapshot, interfaces: RackInterface[]): DhcpConfig {
  const v4 = interfaces.flatMap((i) =>
    i.addresses.filter((a) => /^\d+\.\d+\.\d+\.\d+\//.test(a)).map((a) => ({ name: i.name, address: a.split('/')[0] })),
  );
  const used = new Map<string, string>();
  const subnets: ServerSubnet[] = snapshot.subnets.map((s) => {
    const iface = s.relayed ? undefined : v4.find((i) => inCidr(i.address, s.cidr));
    if (iface) used.set(iface.name, iface.address);
    return {
      id: String(s.id),
      cidr: s.cidr,
      ...(iface ? { interface: iface.name } : {}),
      ...shareOfRanges(s.ranges, s.peerRackId === null ? null : s.primary),
      reservations: s.reservations.map((r) => ({ mac: r.mac, ip: r.ip, ...(r.hostname ? { hostname: r.hostname } : {}) })),
      routers: s.gateway ? [s.gateway] : [],
      dnsServers: s.dnsServers,
      ...(s.domain ? { domainName: s.domain } : {}),
      ...(s.ntpServers?.length ? { ntpServers: s.ntpServers } : {}),
      ...(s.domainSearch?.length ? { domainSearch: s.domainSearch } : {}),
      mtu: s.mtu,
      leaseSeconds: s.leaseTimeS,
      boot: {
        enabled: true,
        disabledArchitectures: s.disabledBootArchitectures.map((n) => ARCH_CODES.get(n)).filter((c): c is number => typeof c === 'number'),
      },
    };
  });
  return {
    interfaces: [...used].map(([name, address]) => ({ name, address })),
    subnets,
    ...(v4.length ? { serverAddress: v4[0].address } : {}),
  };
}

/**
 * The DHCP server's lease reports as durable events: a bound address (ack) becomes a lease commit
 * (renew when the MAC already held that address), release/decline/expire pass through, and
 * offer/ack/nak are also boot steps on the machine.
 */
export function leaseEventSink(publisher: RackEventsPublisher): LeaseEventSink {
  const held = new Map<string, string>();
  return {
    publish(e: ServerLeaseEvent) {
      const at = new Date(e.at).toISOString();
      const common = {
        mac: e.mac,
        at,
        ...(e.interface ? { iface: e.interface } : {}),
        ...(e.clientArch !== undefined ? { clientArch: e.clientArch } : {}),
      };
      if (e.type === 'offer' || e.type === 'ack' || e.type === 'nak') {
        publisher.boot({
          ...common,
          step: e.type === 'offer' ? 'dhcp-offer' : e.type === 'ack' ? 'dhcp-ack' : 'dhcp-nak',
          ok: e.type !== 'nak',
          ...(e.ip && e.ip !== '0.0.0.0' ? { ip: e.ip } : {}),
          ...(e.bootFile ? { file: e.bootFile.slice(0, 1024) } : {}),
          ...(e.message ? { detail: e.message.slice(0, 1024) } : {}),
        });
      }
      if (e.type === 'offer' || e.type === 'nak') return;
      let action: 'commit' | 'renew' | 'release' | 'expire' | 'decline';
      if (e.type === 'ack') {
        action = held.get(e.mac) === e.ip ? 'renew' : 'commit';
        held.set(e.mac, e.ip);
      } else {
        action = e.type;
        if (held.get(e.mac) === e.ip) held.delete(e.mac);
      }
      publisher.lease({
        ...common,
        action,
        ip: e.ip,
        ...(e.hostname ? { hostname: e.hostname.slice(0, 255) } : {}),
        ...(e.expiresAt ? { expiresAt: new Date(e.expiresAt).toISOString() } : {}),
        subnet: e.subnetId.slice(0, 64),
      });
    },
  };
}

/** TFTP and HTTP deliveries (and failures) as boot steps. Deliveries without a MAC are not machine events. */
export function transferEvents(publisher: RackEventsPublisher): TransferEvents {
  return {
    served(e) {
      if (!e.mac) return;
      publisher.boot({
        step: e.protocol === 'tftp' ? 'tftp-file' : 'http-file',
        mac: e.mac,
        ok: true,
        at: new Date(e.startedAt).toISOString(),
        file: e.file.slice(0, 1024),
        bytes: e.bytes,
        durationMs: e.durationMs,
      });
    },
    failed(e) {
      if (!e.mac) return;
      publisher.boot({
        step: e.protocol === 'tftp' ? 'tftp-file' : 'http-file',
        mac: e.mac,
        ok: false,
        at: new Date(e.startedAt).toISOString(),
        file: e.file.slice(0, 1024),
        bytes: e.bytes,
        durationMs: e.durationMs,
        detail: `${e.reason}: ${e.message}`.slice(0, 1024),
      });
    },
  };
}
