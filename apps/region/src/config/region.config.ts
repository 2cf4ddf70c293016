import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { z } from 'zod';

/** Everything the region reads from its environment, parsed and validated once at start-up. */
export interface RegionConfig {
  http: { host: string; port: number };
  db: { url: string; poolSize: number };
  redis: { url: string; prefix: string };
  nats: {
    url: string;
    /** Prepended to every subject and stream name ('' in production; tests set a unique one). */
    prefix: string;
    /** The region's NATS nkey seed file (KILN_NATS_NKEY_FILE); null: connect without credentials. */
    nkeyFile: string | null;
    /**
     * The NATS server config this region keeps up to date from the database (enrolled racks and
     * their permissions), and how to make the server reload it; null: the operator manages NATS.
     */
    server: { configFile: string; pidFile: string; listen: string; jetstreamDir: string; tls: { certFile: string; keyFile: string } | null } | null;
  };
  racks: {
    /** How often racks heartbeat; a rack silent for three intervals is marked dead. */
    heartbeatIntervalMs: number;
  };
  /** 32-byte key that encrypts BMC secrets at rest. */
  secretKey: Buffer;
  lifecycle: { nodeTimeoutMinutes: number; sweepIntervalMs: number };
  /** Power polling: how often every BMC is queried, and over how long each round's queries are spread. */
  power: { pollIntervalMs: number; pollSpreadMs: number };
  /**
   * Where `sshkeys op=import` fetches public keys: Launchpad (`<launchpad>/~<user>/+sshkeys`) and
   * GitHub (`<github>/users/<user>/keys`), with a per-request timeout and a cap on the answer's size.
   */
  sshKeyImport: { launchpadUrl: string; githubUrl: string; timeoutMs: number; maxBytes: number };
  logLevel: string;
  maasName: string;
  version: string;
}

export const REGION_CONFIG = Symbol('REGION_CONFIG');

/** The environment is wrong; `problems` names every bad variable, one line each. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

type Env = Record<string, string | undefined>;

// Each variable has its own schema; an issue's path is the variable's name and its message
// reads on from it ("KILN_HTTP_PORT" + " must be an integer, got ..."). Unset and empty mean
// "use the default", as in a systemd EnvironmentFile.

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

function url(dflt: string, protocols: string[]) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      const raw = value || dflt;
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        return fail(ctx, `is not a URL: "${raw}"`);
      }
      if (!protocols.includes(u.protocol)) return fail(ctx, `must use ${protocols.join(' or ')}, got "${u.protocol}"`);
      return raw;
    });
}

/** A string variable; unset and empty give `dflt`. */
function text<D extends string | null>(dflt: D) {
  return z
    .string()
    .optional()
    .transform((raw) => raw || dflt);
}

const subjectPrefix = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const v = raw ?? '';
    if (v !== '' && !/^([A-Za-z0-9_-]+\.)+$/.test(v)) {
      return fail(ctx, `must be dot-terminated subject tokens (e.g. "site1."), got "${v}"`);
    }
    return v;
  });

/** The trimmed content of the file the variable names (undefined when unset). */
const fileText = z
  .string()
  .optional()
  .transform((path, ctx) => {
    if (!path) return undefined;
    try {
      return readFileSync(path, 'utf8').trim();
    } catch (e) {
      return fail(ctx, `cannot be read: ${(e as Error).message}`);
    }
  });

function fail(ctx: z.RefinementCtx, message: string): never {
  ctx.addIssue({ code: z.ZodIssueCode.custom, message });
  return z.NEVER;
}

const SECRET_MIN = 32;

const REGION_ENV = z
  .object({
    KILN_HTTP_HOST: text('0.0.0.0'),
    KILN_HTTP_PORT: int(5240, 0, 65535),
    KILN_DATABASE_URL: url('postgres://postgres@127.0.0.1:5432/kiln', ['postgres:', 'postgresql:']),
    KILN_DATABASE_POOL: int(20, 1, 500),
    KILN_REDIS_URL: url('redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    KILN_REDIS_PREFIX: text('kiln'),
    KILN_NATS_URL: url('nats://127.0.0.1:4222', ['nats:', 'tls:']),
    KILN_NATS_PREFIX: subjectPrefix,
    KILN_NATS_NKEY_FILE: text(null),
    KILN_NATS_SERVER_CONFIG: text(null),
    KILN_NATS_SERVER_PID_FILE: text('/run/kiln/nats-server.pid'),
    KILN_NATS_SERVER_LISTEN: text('0.0.0.0:4222'),
    KILN_NATS_JETSTREAM_DIR: text('/var/lib/kiln/nats'),
    KILN_NATS_TLS_CERT: text(null),
    KILN_NATS_TLS_KEY: text(null),
    KILN_RACK_HEARTBEAT_MS: int(10_000, 100, 600_000),
    KILN_SECRET_KEY: text(null),
    KILN_SECRET_KEY_FILE: fileText,
    KILN_NODE_TIMEOUT_MINUTES: int(30, 1, 24 * 60),
    KILN_SWEEP_INTERVAL_MS: int(30_000, 100, 3_600_000),
    KILN_POWER_POLL_INTERVAL_MS: int(300_000, 1000, 86_400_000),
    KILN_POWER_POLL_SPREAD_MS: int(30_000, 0, 3_600_000),
    KILN_SSH_IMPORT_LAUNCHPAD_URL: url('https://launchpad.net', ['https:', 'http:']),
    KILN_SSH_IMPORT_GITHUB_URL: url('https://api.github.com', ['https:', 'http:']),
    KILN_SSH_IMPORT_TIMEOUT_MS: int(10_000, 100, 120_000),
    KILN_SSH_IMPORT_MAX_BYTES: int(1_048_576, 1024, 64 * 1_048_576),
    KILN_LOG_LEVEL: text('info'),
    KILN_NAME: text('kiln'),
  })
  // Rules across variables. They read only variables that cannot fail on their own (or check
  // that the value is a string), since a bad variable's value is not there.
  .superRefine((e, ctx) => {
    const problem = (name: keyof typeof e, message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path: [name], message });
    if (e.KILN_SECRET_KEY_FILE !== undefined) {
      if (typeof e.KILN_SECRET_KEY_FILE === 'string' && e.KILN_SECRET_KEY_FILE.length < SECRET_MIN) {
        problem('KILN_SECRET_KEY_FILE', `must hold at least ${SECRET_MIN} characters`);
      }
    } else if (e.KILN_SECRET_KEY !== null) {
      if (e.KILN_SECRET_KEY.length < SECRET_MIN) problem('KILN_SECRET_KEY', `must hold at least ${SECRET_MIN} characters`);
    } else {
      problem('KILN_SECRET_KEY', 'or KILN_SECRET_KEY_FILE must be set (the key that encrypts BMC secrets)');
    }
    if (e.KILN_NATS_SERVER_CONFIG !== null) {
      if (e.KILN_NATS_NKEY_FILE === null) problem('KILN_NATS_SERVER_CONFIG', "needs KILN_NATS_NKEY_FILE (the region's own NATS identity)");
      if ((e.KILN_NATS_TLS_CERT === null) !== (e.KILN_NATS_TLS_KEY === null)) problem('KILN_NATS_TLS_CERT', 'and KILN_NATS_TLS_KEY go together');
    }
  })
  .transform(
    (e): Omit<RegionConfig, 'version'> => ({
      http: { host: e.KILN_HTTP_HOST, port: e.KILN_HTTP_PORT },
      db: { url: e.KILN_DATABASE_URL, poolSize: e.KILN_DATABASE_POOL },
      redis: { url: e.KILN_REDIS_URL, prefix: e.KILN_REDIS_PREFIX },
      nats: {
        url: e.KILN_NATS_URL,
        prefix: e.KILN_NATS_PREFIX,
        nkeyFile: e.KILN_NATS_NKEY_FILE,
        server:
          e.KILN_NATS_SERVER_CONFIG === null
            ? null
            : {
                configFile: e.KILN_NATS_SERVER_CONFIG,
                pidFile: e.KILN_NATS_SERVER_PID_FILE,
                listen: e.KILN_NATS_SERVER_LISTEN,
                jetstreamDir: e.KILN_NATS_JETSTREAM_DIR,
                tls: e.KILN_NATS_TLS_CERT !== null && e.KILN_NATS_TLS_KEY !== null ? { certFile: e.KILN_NATS_TLS_CERT, keyFile: e.KILN_NATS_TLS_KEY } : null,
              },
      },
      racks: { heartbeatIntervalMs: e.KILN_RACK_HEARTBEAT_MS },
      secretKey: createHash('sha256')
        .update(e.KILN_SECRET_KEY_FILE ?? (e.KILN_SECRET_KEY as string))
        .digest(),
      lifecycle: { nodeTimeoutMinutes: e.KILN_NODE_TIMEOUT_MINUTES, sweepIntervalMs: e.KILN_SWEEP_INTERVAL_MS },
      power: { pollIntervalMs: e.KILN_POWER_POLL_INTERVAL_MS, pollSpreadMs: e.KILN_POWER_POLL_SPREAD_MS },
      sshKeyImport: {
        launchpadUrl: e.KILN_SSH_IMPORT_LAUNCHPAD_URL.replace(/\/+$/, ''),
        githubUrl: e.KILN_SSH_IMPORT_GITHUB_URL.replace(/\/+$/, ''),
        timeoutMs: e.KILN_SSH_IMPORT_TIMEOUT_MS,
        maxBytes: e.KILN_SSH_IMPORT_MAX_BYTES,
      },
      logLevel: e.KILN_LOG_LEVEL,
      maasName: e.KILN_NAME,
    }),
  );

/** Parses the region's environment once; throws `ConfigError` naming every bad variable. */
export function loadRegionConfig(env: Env): RegionConfig {
  const r = REGION_ENV.safeParse(env);
  if (!r.success) throw new ConfigError(r.error.issues.map((i) => `${i.path.join('.')} ${i.message}`));
  return { ...r.data, version: '3.5.0' };
}
