import { z } from 'zod';
import { rpc } from './contract';
import { cidr4, ipv4, macAddress, rackId, systemId } from './net.schema';

/** What a machine is told to boot. */
export const BOOT_KINDS = ['enlist', 'ephemeral', 'installer', 'local', 'no-image'] as const;
export type BootKind = (typeof BOOT_KINDS)[number];

/** Why the ephemeral environment (or the installer) is booted; appears in logs and events. */
export const BOOT_PURPOSES = [
  'enlistment',
  'commissioning',
  'testing',
  'releasing',
  'disk-erasing',
  'rescue',
  'deploying',
  'local',
] as const;

const netboot = z.object({
  systemId: systemId.nullable(),
  hostname: z.string().max(255).nullable(),
  purpose: z.enum(BOOT_PURPOSES),
  /** Debian architecture of the image, e.g. amd64, arm64. */
  arch: z.string().min(1).max(32),
  /** Paths relative to the rack's boot-image root (served as /images/<path> over HTTP). */
  kernel: z.string().min(1).max(1024),
  initrd: z.string().min(1).max(1024),
  /** Kernel command line, URLs already pointing at the rack's address. */
  cmdline: z.string().max(8192),
});

export const bootConfig = z.discriminatedUnion('kind', [
  /** Unknown MAC: boot the ephemeral image and enlist. */
  netboot.extend({ kind: z.literal('enlist') }),
  /** New, Commissioning, Testing, Releasing, Disk erasing, Rescue: the ephemeral environment. */
  netboot.extend({ kind: z.literal('ephemeral') }),
  /** Deploying: the ephemeral environment that runs the installer. */
  netboot.extend({ kind: z.literal('installer') }),
  /** Deployed, or any other status: boot from the local disk. */
  z.object({
    kind: z.literal('local'),
    systemId: systemId.nullable(),
    hostname: z.string().max(255).nullable(),
    purpose: z.literal('local').default('local'),
  }),
  /**
   * The machine should netboot, but the region has no image for its architecture yet: the rack
   * tells the machine so on its console and sends it back to its firmware, and logs it.
   */
  z.object({
    kind: z.literal('no-image'),
    systemId: systemId.nullable(),
    hostname: z.string().max(255).nullable(),
    purpose: z.enum(BOOT_PURPOSES),
    arch: z.string().min(1).max(32),
    /** What is missing and what to do about it, for the console and the logs. */
    message: z.string().max(1024),
  }),
]);
export type BootConfig = z.output<typeof bootConfig>;

/**
 * region.rack.<rackId>.boot.config — "what should this MAC boot?". The rack asks on every boot request it sees
 * (DHCP, TFTP, HTTP), caches the answer per MAC, and boots from its cache when no region answers.
 * The region records the request as an event on the machine.
 */
export const GetBootConfig = rpc({
  name: 'GetBootConfig',
  answeredBy: 'region',
  since: 1,
  subject: (rackId: string) => `region.rack.${rackId}.boot.config`,
  request: z.object({
    rackId,
    mac: macAddress,
    /** RFC 4578 client system architecture (DHCP option 93), when the client sent one. */
    clientArch: z.number().int().min(0).max(0xffff).optional(),
    /** RFC 3004 user class (DHCP option 77), e.g. "iPXE". */
    userClass: z.string().max(255).optional(),
    /** Vendor class identifier (DHCP option 60), e.g. "PXEClient:Arch:00007:UNDI:003016". */
    vendorClass: z.string().max(255).optional(),
    /** The rack interface the request arrived on. */
    iface: z.string().max(255).optional(),
    /** The subnet the client is on (the ingress interface's, or the relay's). */
    subnet: cidr4.optional(),
    /** giaddr of a relayed request. */
    relayAddress: ipv4.optional(),
    /** The rack address the client reaches the rack on: boot URLs are built with it. */
    serverAddress: ipv4,
    /** The port of the rack's HTTP boot server (5248 unless the rack says otherwise). */
    httpPort: z.number().int().min(1).max(65535).optional(),
  }),
  reply: bootConfig,
});
