import { hostname } from 'node:os';
import { z } from 'zod';

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
  /** KILN_RACK_INTERFACES_POLL_SECONDS: how often the rack re-reads its interfaces and reports a change (1 to 30). */
  interfacesPollMs: number;
  /** Hosts seen by ARP on the served interfaces (apps/rack/src/neighbours), reported to the region as discoveries. */
  neighbours: {
    /** KILN_RACK_NEIGHBOURS_POLL_SECONDS: how often the rack reads the kernel's neighbour table; 0 turns reporting off. */
    pollMs: number;
    /** KILN_RACK_NEIGHBOURS_REPORT_SECONDS: how often the sightings gathered since the last report are sent, in one event. */
    reportMs: number;
  };
  ports: { dhcp: number; tftp: number; http: number };
  /** Addresses TFTP listens on; null: every IPv4 address of the served interfaces. */
  tftpAddresses: string[] | null;
  /** Which of the rack's services run (KILN_RACK_SERVICES, default all of them). */
  services: RackService[];
  bootConfig: {
    /** An answer younger than this is reused without asking the region (a boot asks several times). */
    freshMs: number;
  };
  /** The boot images the rack fetches from the region and serves (apps/rack/src/images). */
  images: {
    /** KILN_RACK_IMAGE_CACHE_BYTES: the most the image cache in the state dir may hold. */
    cacheBytes: number;
    /** KILN_RACK_IMAGE_SYNC_SECONDS: how often the rack asks the region which images to hold. */
    syncIntervalMs: number;
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

/** The environment is wrong; `problems` names every bad variable, one line each. */
export class RackConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

type Env = Record<string, string | undefined>;

// Each variable has its own schema; an issue's path is the variable's name and its message
// reads on from it. Unset and empty mean "use the default", as in a systemd EnvironmentFile.

function fail(ctx: z.RefinementCtx, message: string): never {
  ctx.addIssue({ code: z.ZodIssueCode.custom, message });
  return z.NEVER;
}

function int(dflt: number, min: number, max: number) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return dflt;
      if (!/^\d+$/.test(raw)) return fail(ctx, `must be an integer, got "${raw}"`);
      const n = Number(raw);
      if (n < min || n > max) return fail(ctx, `must be between ${min} and ${max}, got ${n}`);
      return n;
    });
}

/** A string variable; unset and empty give `dflt`. */
function text<D extends string | null | undefined>(dflt: D) {
  return z
    .string()
    .optional()
    .transform((raw) => raw || dflt);
}

/** A comma- or space-separated list whose items each pass `ok` (`what` names a bad one). */
function list(ok: (item: string) => boolean, what: string, dflt = '') {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const items = (raw ?? dflt).split(/[\s,]+/).filter(Boolean);
      const bad = items.find((i) => !ok(i));
      return bad === undefined ? items : fail(ctx, `: "${bad}" is not ${what}`);
    });
}

const RACK_ENV = z
  .object({
    KILN_NATS_URL: z
      .string()
      .optional()
      .transform((value, ctx) => {
        const raw = value || 'nats://127.0.0.1:4222';
        let u: URL;
        try {
          u = new URL(raw);
        } catch {
          return fail(ctx, `is not a URL: "${raw}"`);
        }
        return u.protocol === 'nats:' || u.protocol === 'tls:' ? raw : fail(ctx, `must use nats: or tls:, got "${u.protocol}"`);
      }),
    KILN_NATS_PREFIX: z
      .string()
      .optional()
      .transform((raw, ctx) => {
        const v = raw ?? '';
        return v === '' || /^([A-Za-z0-9_-]+\.)+$/.test(v) ? v : fail(ctx, `must be dot-terminated subject tokens (e.g. "site1."), got "${v}"`);
      }),
    KILN_RACK_REQUEST_TIMEOUT_MS: int(2000, 50, 60_000),
    KILN_REGION_SIGNING_KEY: list((k) => /^[A-Za-z0-9_-]{43}$/.test(k), 'a region signing public key (43 base64url characters)'),
    KILN_RACK_ENROLL_TOKEN: text(null),
    KILN_RACK_STATE_DIR: z
      .string()
      .optional()
      .transform((raw, ctx) => {
        const dir = raw || '/var/lib/kiln-rack';
        return dir.startsWith('/') || dir.startsWith('.') ? dir : fail(ctx, `must be a path, got "${dir}"`);
      }),
    KILN_RACK_BOOT_ROOT: text(undefined),
    KILN_REGION_URL: z
      .string()
      .optional()
      .transform((raw, ctx) => {
        if (!raw) return null;
        let ok = false;
        try {
          const u = new URL(raw);
          ok = u.protocol === 'http:' || u.protocol === 'https:';
        } catch {
          // reported below
        }
        return ok ? raw.replace(/\/+$/, '') : fail(ctx, `must be an http(s) URL, got "${raw}"`);
      }),
    KILN_RACK_HOSTNAME: text(undefined),
    KILN_RACK_INTERFACES: list((i) => /^[\w.@:-]{1,15}$/.test(i), 'an interface name'),
    KILN_DHCP_PORT: int(67, 0, 65535),
    KILN_TFTP_PORT: int(69, 0, 65535),
    KILN_RACK_HTTP_PORT: int(5248, 0, 65535),
    KILN_RACK_SERVICES: z
      .string()
      .optional()
      .transform((raw, ctx) => {
        const items = (raw ?? RACK_SERVICES.join(',')).split(/[\s,]+/).filter(Boolean);
        const bad = items.find((svc) => !(RACK_SERVICES as readonly string[]).includes(svc));
        return bad === undefined ? (items as RackService[]) : fail(ctx, `: "${bad}" is not one of ${RACK_SERVICES.join(', ')}`);
      }),
    KILN_RACK_TFTP_ADDRESSES: list((a) => /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(a), 'an IPv4 address'),
    KILN_BOOT_CONFIG_FRESH_MS: int(2000, 0, 3_600_000),
    KILN_DHCP_MAX_OFFERS: int(256, 1, 1_000_000),
    KILN_RACK_IMAGE_CACHE_BYTES: int(20 * 1024 ** 3, 1024 * 1024, Number.MAX_SAFE_INTEGER),
    KILN_RACK_IMAGE_SYNC_SECONDS: int(60, 1, 86_400),
    KILN_RACK_INTERFACES_POLL_SECONDS: int(10, 1, 30),
    KILN_DHCP_OFFER_HOLD_SECONDS: int(10, 1, 300),
    KILN_RACK_NEIGHBOURS_POLL_SECONDS: int(5, 0, 3600),
    KILN_RACK_NEIGHBOURS_REPORT_SECONDS: int(30, 1, 3600),
    KILN_LOG_LEVEL: text('info'),
  })
  .transform(
    (e): Omit<RackConfig, 'version'> => ({
      nats: {
        url: e.KILN_NATS_URL,
        prefix: e.KILN_NATS_PREFIX,
        requestTimeoutMs: e.KILN_RACK_REQUEST_TIMEOUT_MS,
        regionSigningKeys: e.KILN_REGION_SIGNING_KEY,
      },
      enrollToken: e.KILN_RACK_ENROLL_TOKEN,
      stateDir: e.KILN_RACK_STATE_DIR,
      bootRoot: e.KILN_RACK_BOOT_ROOT ?? `${e.KILN_RACK_STATE_DIR}/boot`,
      regionUrl: e.KILN_REGION_URL,
      hostname: e.KILN_RACK_HOSTNAME ?? hostname(),
      interfaces: e.KILN_RACK_INTERFACES.length ? e.KILN_RACK_INTERFACES : null,
      interfacesPollMs: e.KILN_RACK_INTERFACES_POLL_SECONDS * 1000,
      neighbours: { pollMs: e.KILN_RACK_NEIGHBOURS_POLL_SECONDS * 1000, reportMs: e.KILN_RACK_NEIGHBOURS_REPORT_SECONDS * 1000 },
      ports: { dhcp: e.KILN_DHCP_PORT, tftp: e.KILN_TFTP_PORT, http: e.KILN_RACK_HTTP_PORT },
      services: e.KILN_RACK_SERVICES,
      tftpAddresses: e.KILN_RACK_TFTP_ADDRESSES.length ? e.KILN_RACK_TFTP_ADDRESSES : null,
      bootConfig: { freshMs: e.KILN_BOOT_CONFIG_FRESH_MS },
      images: { cacheBytes: e.KILN_RACK_IMAGE_CACHE_BYTES, syncIntervalMs: e.KILN_RACK_IMAGE_SYNC_SECONDS * 1000 },
      dhcp: { maxOffersPerSubnet: e.KILN_DHCP_MAX_OFFERS, offerHoldSeconds: e.KILN_DHCP_OFFER_HOLD_SECONDS },
      logLevel: e.KILN_LOG_LEVEL,
    }),
  );

/** Parses the rack's environment once; throws `RackConfigError` naming every bad variable. */
export function loadRackConfig(env: Env): RackConfig {
  const r = RACK_ENV.safeParse(env);
  if (!r.success) {
    // "NAME must ...", or "NAME: "item" is not ..." for an item of a list.
    throw new RackConfigError(r.error.issues.map((i) => `${i.path.join('.')}${i.message.startsWith(':') ? '' : ' '}${i.message}`));
  }
  return { ...r.data, version: '3.5.0' };
}
