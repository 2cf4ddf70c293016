import { z } from 'zod';
import { stream } from './contract';
import { eventId, ipv4, macAddress, rackId, timestamp } from './net.schema';

/**
 * Durable facts racks report to the region through JetStream. At-least-once: the rack publishes
 * with an ack (and the event id as the JetStream message id), the region consumes with a durable
 * consumer and records each event id, so a redelivered event changes nothing twice.
 */
export const RACK_EVENTS_STREAM = 'KILN_RACK_EVENTS';
const STREAM_SUBJECTS = ['region.events.>'] as const;

export const LEASE_ACTIONS = ['commit', 'renew', 'release', 'expire', 'decline'] as const;

export const leaseEvent = z.object({
  eventId,
  rackId,
  /** When the rack saw it. */
  at: timestamp,
  action: z.enum(LEASE_ACTIONS),
  mac: macAddress,
  ip: ipv4,
  hostname: z.string().max(255).optional(),
  /** Lease expiry, for commit and renew. */
  expiresAt: timestamp.optional(),
  iface: z.string().max(255).optional(),
  subnet: z.string().max(64).optional(),
  clientArch: z.number().int().min(0).max(0xffff).optional(),
});
export type LeaseEvent = z.output<typeof leaseEvent>;

/**
 * region.events.lease.<rackId> — a DHCP lease was granted, renewed, released, expired or
 * declined. The region sets the machine interface's IP and records an event.
 */
export const LeaseEvents = stream({
  name: 'LeaseEvents',
  answeredBy: 'region',
  since: 1,
  subject: (id: string) => `region.events.lease.${id}`,
  stream: RACK_EVENTS_STREAM,
  streamSubjects: STREAM_SUBJECTS,
  message: leaseEvent,
  id: (m) => m.eventId,
});

/** Boot steps a rack observes, so that operators see where a boot stopped. */
export const BOOT_STEPS = [
  'dhcp-discover',
  'dhcp-offer',
  'dhcp-request',
  'dhcp-ack',
  'dhcp-nak',
  'tftp-file',
  'http-file',
  'boot-script',
  'metadata',
] as const;

export const bootEvent = z.object({
  eventId,
  rackId,
  at: timestamp,
  step: z.enum(BOOT_STEPS),
  mac: macAddress,
  /** False for failures (file not found, transfer aborted, NAK...). */
  ok: z.boolean().default(true),
  iface: z.string().max(255).optional(),
  clientArch: z.number().int().min(0).max(0xffff).optional(),
  ip: ipv4.optional(),
  file: z.string().max(1024).optional(),
  bytes: z.number().int().nonnegative().optional(),
  durationMs: z.number().nonnegative().optional(),
  /** Free text: the error, the boot file offered... */
  detail: z.string().max(1024).optional(),
});
export type BootEvent = z.output<typeof bootEvent>;

/** region.events.boot.<rackId> — one boot step seen by the rack (DHCP, TFTP, HTTP, metadata). */
export const BootEvents = stream({
  name: 'BootEvents',
  answeredBy: 'region',
  since: 1,
  subject: (id: string) => `region.events.boot.${id}`,
  stream: RACK_EVENTS_STREAM,
  streamSubjects: STREAM_SUBJECTS,
  message: bootEvent,
  id: (m) => m.eventId,
});

/** One host a rack saw on a served interface, aggregated over a report period. */
export const neighbourSighting = z.object({
  /** The rack's interface the host was seen on. */
  iface: z.string().min(1).max(15),
  ip: ipv4,
  mac: macAddress,
  /** How many distinct times it was seen during the period (at least once). */
  count: z.number().int().min(1).max(1_000_000),
  firstSeen: timestamp,
  lastSeen: timestamp,
});
export type NeighbourSighting = z.output<typeof neighbourSighting>;

export const MAX_NEIGHBOURS_PER_EVENT = 500;

export const neighbourEvent = z.object({
  eventId,
  rackId,
  at: timestamp,
  /** Where the sightings come from: the rack's kernel neighbour (ARP) table. */
  source: z.enum(['arp']),
  neighbours: z.array(neighbourSighting).min(1).max(MAX_NEIGHBOURS_PER_EVENT),
});
export type NeighbourEvent = z.output<typeof neighbourEvent>;

/**
 * region.events.neighbours.<rackId> — hosts a rack saw by ARP on the interfaces it serves
 * (MAAS's neighbours), de-duplicated per (interface, IP, MAC) over a report period. The region
 * records them as discoveries with source 'arp'.
 */
export const NeighbourEvents = stream({
  name: 'NeighbourEvents',
  answeredBy: 'region',
  since: 1,
  subject: (id: string) => `region.events.neighbours.${id}`,
  stream: RACK_EVENTS_STREAM,
  streamSubjects: STREAM_SUBJECTS,
  message: neighbourEvent,
  id: (m) => m.eventId,
});
