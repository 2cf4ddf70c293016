import { hostname } from 'node:os';

/** Everything the rack reads from its environment, parsed and validated once at start-up (main.ts). */
export interface RackConfig {
  nats: {
    url: string;
    /** Prepended to every subject and stream name ('' in production; tests set a unique one). */
    prefix: string;
    /** How long a request to the region may take before the rack falls back (boot config: its cache). */
    requestTimeoutMs: number;
    /**
     * The region's message-signing public keys (KILN_REGION_SIGNING_KEY, comma-separated; `kiln
     * region-signing-key` prints it), besides the one pinned at enrollment. The rack acts only on
     * requests, pushes and replies a region signed; with no key at all it does not connect to NATS.
     */
    regionSigningKeys: string[];
  };
  /** One-time token an administrator issued (`kiln rack-token`), spent on the first start to enroll. */
  enrollToken: string | null;
  /** Where the rack keeps its id, boot-config cache, DHCP configuration and leases. */
  stateDir: string;
  /** Boot loaders (served over TFTP) and images under images/ (served over HTTP). */
  bootRoot: string;
  /** The region's URL, for the metadata and API proxy on the HTTP boot port; null: not proxied. */
  regionUrl: string | null;
  hostname: string;
  /** Interfaces to serve and report; null means every non-loopback interface. */
  interfaces: string[] | null;
  ports: { dhcp: number; tftp: number; http: number };
  /** Addresses TFTP listens on; null: every IPv4 address of the served interfaces. */
  tftpAddresses: string[] | null;
  /** Which of the rack's services run (KILN_RACK_SERVICES, default all of them). */
  services: RackService[];
  bootConfig: {
    /** An answer younger than this is reused without asking the region (a boot asks several times). */
    freshMs: number;
  };
  /** DHCP server limits (see apps/rack/src/dhcp/README.md, "Offers"). */
  dhcp: {
    /** KILN_DHCP_MAX_OFFERS: most outstanding OFFERs per subnet (also capped at half its dynamic addresses). */
    maxOffersPerSubnet: number;
    /** KILN_DHCP_OFFER_HOLD_SECONDS: how long an OFFER holds its address. */
    offerHoldSeconds: number;
  };
  logLevel: string;
  version: string;
}

export const RACK_SERVICES = ['dhcp', 'tftp', 'http', 'power'] as const;
export type RackService = (typeof RACK_SERVICES)[number];

export const RACK_CONFIG = Symbol('RACK_CONFIG');

export class RackConfigError extends Error {}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw)) throw new RackConfigError(`${name} must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new RackConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function addressList(raw: string | undefined): string[] | null {
  const list = (raw ?? '').split(/[\s,]+/).filter(Boolean);
  for (const a of list) {
    if (!/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(a)) throw new RackConfigError(`KILN_RACK_TFTP_ADDRESSES: "${a}" is not an IPv4 address`);
  }
  return list.length ? list : null;
}

function signingKeys(raw: string | undefined): string[] {
  const keys = (raw ?? '').split(/[\s,]+/).filter(Boolean);
  for (const k of keys) {
    if (!/^[A-Za-z0-9_-]{43}$/.test(k)) throw new RackConfigError(`KILN_REGION_SIGNING_KEY: "${k}" is not a region signing public key (43 base64url characters)`);
  }
  return keys;
}

function regionUrl(raw: string | undefined): string | null {
  if (!raw) return null;
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new RackConfigError(`KILN_REGION_URL must be an http(s) URL, got "${raw}"`);
  }
  return raw.replace(/\/+$/, '');
}

export function loadRackConfig(env: Env): RackConfig {
  const natsUrl = env.KILN_NATS_URL || 'nats://127.0.0.1:4222';
  let u: URL;
  try {
    u = new URL(natsUrl);
  } catch {
    throw new RackConfigError(`KILN_NATS_URL is not a URL: "${natsUrl}"`);
  }
  if (u.protocol !== 'nats:' && u.protocol !== 'tls:') throw new RackConfigError(`KILN_NATS_URL must use nats: or tls:, got "${u.protocol}"`);
  const prefix = env.KILN_NATS_PREFIX ?? '';
  if (prefix !== '' && !/^([A-Za-z0-9_-]+\.)+$/.test(prefix)) {
    throw new RackConfigError(`KILN_NATS_PREFIX must be dot-terminated subject tokens (e.g. "site1."), got "${prefix}"`);
  }
  const stateDir = env.KILN_RACK_STATE_DIR || '/var/lib/kiln-rack';
  if (!stateDir.startsWith('/') && !stateDir.startsWith('.')) throw new RackConfigError(`KILN_RACK_STATE_DIR must be a path, got "${stateDir}"`);
  const interfaces = (env.KILN_RACK_INTERFACES ?? '')
    .split(/[\s,]+/)
    .filter(Boolean);
  for (const i of interfaces) if (!/^[\w.@:-]{1,15}$/.test(i)) throw new RackConfigError(`KILN_RACK_INTERFACES: "${i}" is not an interface name`);
  const services = (env.KILN_RACK_SERVICES ?? RACK_SERVICES.join(','))
    .split(/[\s,]+/)
    .filter(Boolean);
  for (const svc of services) {
    if (!(RACK_SERVICES as readonly string[]).includes(svc)) {
      throw new RackConfigError(`KILN_RACK_SERVICES: "${svc}" is not one of ${RACK_SERVICES.join(', ')}`);
    }
  }
  return {
    nats: {
      url: natsUrl,
      prefix,
      requestTimeoutMs: int(env, 'KILN_RACK_REQUEST_TIMEOUT_MS', 2000, 50, 60_000),
      regionSigningKeys: signingKeys(env.KILN_REGION_SIGNING_KEY),
    },
    enrollToken: env.KILN_RACK_ENROLL_TOKEN || null,
    stateDir,
    bootRoot: env.KILN_RACK_BOOT_ROOT || `${stateDir}/boot`,
    regionUrl: regionUrl(env.KILN_REGION_URL),
    hostname: env.KILN_RACK_HOSTNAME || hostname(),
    interfaces: interfaces.length ? interfaces : null,
    ports: {
      dhcp: int(env, 'KILN_DHCP_PORT', 67, 0, 65535),
      tftp: int(env, 'KILN_TFTP_PORT', 69, 0, 65535),
      http: int(env, 'KILN_RACK_HTTP_PORT', 5248, 0, 65535),
    },
    services: services as RackService[],
    tftpAddresses: addressList(env.KILN_RACK_TFTP_ADDRESSES),
    bootConfig: { freshMs: int(env, 'KILN_BOOT_CONFIG_FRESH_MS', 2000, 0, 3_600_000) },
    dhcp: {
      maxOffersPerSubnet: int(env, 'KILN_DHCP_MAX_OFFERS', 256, 1, 1_000_000),
      offerHoldSeconds: int(env, 'KILN_DHCP_OFFER_HOLD_SECONDS', 10, 1, 300),
    },
    logLevel: env.KILN_LOG_LEVEL || 'info',
    version: '3.5.0',
  };
}
