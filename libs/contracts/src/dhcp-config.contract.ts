import { z } from 'zod';
import { push, rpc } from './contract';
import { cidr4, ipv4, macAddress, rackId } from './net.schema';

/** A dynamic range the rack may lease addresses from. */
export const dhcpRange = z.object({
  id: z.number().int().positive(),
  start: ipv4,
  end: ipv4,
});
export type DhcpRange = z.output<typeof dhcpRange>;

/** A fixed address for one MAC (a machine interface's static IP or a reserved IP). */
export const dhcpReservation = z.object({
  id: z.number().int().positive(),
  mac: macAddress,
  ip: ipv4,
  hostname: z.string().max(255).nullable().default(null),
  systemId: z.string().max(41).nullable().default(null),
});
export type DhcpReservation = z.output<typeof dhcpReservation>;

/** One subnet a rack serves, without its ranges and reservations. */
export const dhcpSubnet = z.object({
  id: z.number().int().positive(),
  cidr: cidr4,
  gateway: ipv4.nullable(),
  dnsServers: z.array(ipv4).max(16).default([]),
  /** The domain handed to clients (option 15). */
  domain: z.string().max(255).nullable().default(null),
  mtu: z.number().int().min(552).max(65535).default(1500),
  vlan: z.object({ id: z.number().int().positive(), vid: z.number().int().min(0).max(4094), fabricId: z.number().int().positive() }),
  /**
   * True when the subnet's VLAN relays DHCP to a VLAN this rack serves: requests arrive through a
   * relay (giaddr) rather than on a directly attached interface.
   */
  relayed: z.boolean().default(false),
  /** Whether this rack is the primary (true) or the secondary (false) for the VLAN. */
  primary: z.boolean().default(true),
  /** The other rack serving the VLAN (failover peer), if any. */
  peerRackId: rackId.nullable().default(null),
  /** Boot methods (MAAS names, see boot-architectures.ts) the rack must not answer on this subnet. */
  disabledBootArchitectures: z.array(z.string().max(64)).max(32).default([]),
  leaseTimeS: z.number().int().positive().default(600),
  /** NTP servers handed to clients (option 42), from DHCP snippets. Absent: none. */
  ntpServers: z.array(ipv4).max(16).optional(),
  /** Domain search list (option 119), from DHCP snippets. Absent: none. */
  domainSearch: z.array(z.string().min(1).max(253)).max(16).optional(),
});
export type DhcpSubnet = z.output<typeof dhcpSubnet>;

export const dhcpSubnetConfig = dhcpSubnet.extend({
  ranges: z.array(dhcpRange).default([]),
  reservations: z.array(dhcpReservation).default([]),
});
export type DhcpSubnetConfig = z.output<typeof dhcpSubnetConfig>;

/** Everything one rack serves, at one revision. */
export const dhcpSnapshot = z.object({
  rackId,
  revision: z.number().int().nonnegative(),
  subnets: z.array(dhcpSubnetConfig),
});
export type DhcpSnapshot = z.output<typeof dhcpSnapshot>;

export const dhcpOp = z.discriminatedUnion('op', [
  /** Adds a subnet (with no ranges or reservations yet) or replaces its settings, keeping them. */
  z.object({ op: z.literal('upsertSubnet'), subnet: dhcpSubnet }),
  /** Stops serving a subnet, with its ranges and reservations. */
  z.object({ op: z.literal('removeSubnet'), subnetId: z.number().int().positive() }),
  z.object({ op: z.literal('upsertRange'), subnetId: z.number().int().positive(), range: dhcpRange }),
  z.object({ op: z.literal('removeRange'), subnetId: z.number().int().positive(), rangeId: z.number().int().positive() }),
  z.object({ op: z.literal('upsertReservation'), subnetId: z.number().int().positive(), reservation: dhcpReservation }),
  z.object({
    op: z.literal('removeReservation'),
    subnetId: z.number().int().positive(),
    reservationId: z.number().int().positive(),
  }),
]);
export type DhcpOp = z.output<typeof dhcpOp>;

export const dhcpUpdate = z.object({
  rackId,
  /** The revision these operations apply on top of. */
  baseRevision: z.number().int().nonnegative(),
  /** The revision after applying them (baseRevision + 1). */
  revision: z.number().int().positive(),
  ops: z.array(dhcpOp).max(100_000),
});
export type DhcpUpdate = z.output<typeof dhcpUpdate>;

/**
 * region.rack.<rackId>.dhcp.config — the full DHCP configuration of a rack, with its revision. A rack asks at
 * start, after registering, and whenever it detects a gap in the pushed updates.
 */
export const GetDhcpConfig = rpc({
  name: 'GetDhcpConfig',
  answeredBy: 'region',
  since: 1,
  subject: (rackId: string) => `region.rack.${rackId}.dhcp.config`,
  request: z.object({ rackId }),
  reply: dhcpSnapshot,
  errors: ['UNKNOWN_RACK'] as const,
});

/**
 * rack.<rackId>.dhcp.update — an incremental change pushed by the region after every change to
 * the networking model that affects the rack. Core NATS, no reply: a rack that misses one sees a
 * gap at the next update (baseRevision ahead of its own) or at the next heartbeat (the region's
 * revision ahead of its own), and fetches a snapshot.
 */
export const DhcpConfigUpdate = push({
  name: 'DhcpConfigUpdate',
  answeredBy: 'rack',
  since: 1,
  subject: (id: string) => `rack.${id}.dhcp.update`,
  message: dhcpUpdate,
});
