import { z } from 'zod';

/** Network primitives shared by the contracts. IPv4 only where DHCPv4 is concerned. */

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
export const IPV4_PATTERN = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);
const MAC_PATTERN = /^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/;

/** A MAC address, accepted with ':' or '-' in any case, carried as lower-case colon form. */
export const macAddress = z
  .string()
  .regex(MAC_PATTERN, 'not a MAC address')
  .transform((s) => s.toLowerCase().replace(/-/g, ':'));

export const ipv4 = z.string().regex(IPV4_PATTERN, 'not an IPv4 address');

/** 10.0.0.0/24 */
export const cidr4 = z.string().refine((s) => {
  const [ip, len, ...rest] = s.split('/');
  return rest.length === 0 && IPV4_PATTERN.test(ip) && /^\d{1,2}$/.test(len ?? '') && Number(len) <= 32;
}, 'not an IPv4 CIDR');

/** An interface address with its prefix, IPv4 or IPv6 (10.0.0.2/24, fe80::1/64). */
export const interfaceAddress = z.string().refine((s) => {
  const [ip, len, ...rest] = s.split('/');
  if (rest.length !== 0 || !/^\d{1,3}$/.test(len ?? '')) return false;
  if (IPV4_PATTERN.test(ip)) return Number(len) <= 32;
  return /^[0-9a-fA-F:.]{2,45}$/.test(ip) && ip.includes(':') && Number(len) <= 128;
}, 'not an address with a prefix length');

/**
 * A rack's stable id. It is also the rack's system_id in the region and a NATS subject token,
 * so it is lower-case letters, digits and '-' only.
 */
export const rackId = z.string().regex(/^[a-z0-9][a-z0-9-]{3,40}$/, 'not a rack id');

/** Ids of durable events: unique per event, safe as a JetStream message id. */
export const eventId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'not an event id');

export const systemId = z.string().min(1).max(41);

/** ISO-8601 timestamp with zone, e.g. 2026-01-01T00:00:00.000Z. */
export const timestamp = z.string().datetime({ offset: true });
