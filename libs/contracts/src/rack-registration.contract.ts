import { z } from 'zod';
import { rpc } from './contract';
import { isBoxPublicKey } from './crypto/sealed-box';
import { interfaceAddress, macAddress, rackId } from './net.schema';

/** A network interface of a rack, as the rack sees it. */
export const rackInterface = z.object({
  name: z.string().min(1).max(255),
  mac: macAddress,
  /** Addresses with prefix length, e.g. 10.0.0.2/24. */
  addresses: z.array(interfaceAddress).max(256).default([]),
  /** 802.1Q VLAN id of a VLAN interface; null for an untagged (physical) one. */
  vlan: z.number().int().min(0).max(4094).nullable().default(null),
  /** The interface a VLAN interface sits on. */
  parent: z.string().max(255).optional(),
});
export type RackInterface = z.output<typeof rackInterface>;

/**
 * region.rack.<rackId>.register — a rack introduces itself (at start and after every NATS reconnect).
 * The region upserts it by `rackId`, marks it running and tells it how often to heartbeat.
 */
export const RegisterRack = rpc({
  name: 'RegisterRack',
  answeredBy: 'region',
  since: 1,
  subject: (rackId: string) => `region.rack.${rackId}.register`,
  request: z.object({
    /** Stable id the rack keeps on its own disk; its system_id in the region. */
    rackId,
    hostname: z.string().min(1).max(255),
    version: z.string().max(64).default(''),
    /** Debian architecture of the rack host, e.g. amd64. */
    architecture: z.string().max(64).default(''),
    interfaces: z.array(rackInterface).max(1024),
    /** The protocol version the rack speaks. */
    protocol: z.number().int().min(1).default(1),
    /**
     * The rack's X25519 box public key (its secret key never leaves the rack): the region seals
     * BMC credentials and other secrets for this rack to it. A rack without one gets no secrets.
     */
    boxPublicKey: z.string().max(64).refine(isBoxPublicKey, 'an X25519 public key (base64url, 32 bytes)').optional(),
    /**
     * Power types this rack cannot drive, with why (e.g. `{ ipmi: "ipmipower is not installed" }`).
     * Absent from older racks: the region then assumes the rack can drive every type.
     */
    powerUnavailable: z
      .record(z.string().min(1).max(64), z.string().max(1024))
      .refine((p) => Object.keys(p).length <= 64, 'too many power types')
      .optional(),
  }),
  reply: z.object({
    rackId,
    /** How often the region expects a heartbeat; it marks the rack dead after three missed. */
    heartbeatIntervalMs: z.number().int().positive(),
    /** The DHCP configuration revision the region holds for this rack. */
    dhcpRevision: z.number().int().nonnegative(),
  }),
  errors: ['AUTH_FAILED', 'UNSUPPORTED_PROTOCOL'] as const,
});

/**
 * region.rack.<rackId>.heartbeat — a registered rack is alive. The reply carries the rack's current DHCP
 * revision so that a rack which missed the last pushed update notices and fetches a snapshot.
 */
export const RackHeartbeat = rpc({
  name: 'RackHeartbeat',
  answeredBy: 'region',
  since: 1,
  subject: (rackId: string) => `region.rack.${rackId}.heartbeat`,
  request: z.object({
    rackId,
    /** The DHCP revision the rack has applied. */
    dhcpRevision: z.number().int().nonnegative().default(0),
    uptimeMs: z.number().int().nonnegative().optional(),
  }),
  reply: z.object({
    dhcpRevision: z.number().int().nonnegative(),
    heartbeatIntervalMs: z.number().int().positive(),
  }),
  /** UNKNOWN_RACK: the region has no such rack (deleted, or a fresh database): register again. */
  errors: ['UNKNOWN_RACK'] as const,
});

/**
 * region.rack.<rackId>.interfaces — a registered rack's interfaces changed (an address added or
 * removed, a VLAN interface created...). Sent when the rack's periodic re-read differs from what it
 * last reported. The region links them to fabrics, VLANs and subnets as MAAS does for controllers.
 */
export const ReportRackInterfaces = rpc({
  name: 'ReportRackInterfaces',
  answeredBy: 'region',
  since: 1,
  subject: (rackId: string) => `region.rack.${rackId}.interfaces`,
  request: z.object({
    rackId,
    interfaces: z.array(rackInterface).max(1024),
  }),
  reply: z.object({
    /** False when the region already had exactly these interfaces. */
    changed: z.boolean(),
  }),
  /** UNKNOWN_RACK: the region has no such rack: register again. */
  errors: ['UNKNOWN_RACK'] as const,
});
