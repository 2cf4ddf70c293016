import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

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
  logLevel: string;
  maasName: string;
  version: string;
}

export const REGION_CONFIG = Symbol('REGION_CONFIG');

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function url(env: Env, name: string, dflt: string, protocols: string[]): string {
  const raw = env[name] || dflt;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a URL: "${raw}"`);
  }
  if (!protocols.includes(u.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(' or ')}, got "${u.protocol}"`);
  }
  return raw;
}

function secretKey(env: Env): Buffer {
  if (env.KILN_SECRET_KEY_FILE) {
    let text: string;
    try {
      text = readFileSync(env.KILN_SECRET_KEY_FILE, 'utf8').trim();
    } catch (e) {
      throw new ConfigError(`KILN_SECRET_KEY_FILE cannot be read: ${(e as Error).message}`);
    }
    return deriveKey(text, 'KILN_SECRET_KEY_FILE');
  }
  if (env.KILN_SECRET_KEY) return deriveKey(env.KILN_SECRET_KEY, 'KILN_SECRET_KEY');
  throw new ConfigError('KILN_SECRET_KEY or KILN_SECRET_KEY_FILE must be set (the key that encrypts BMC secrets)');
}

function natsServer(env: Env): RegionConfig['nats']['server'] {
  const configFile = env.KILN_NATS_SERVER_CONFIG;
  if (!configFile) return null;
  if (!env.KILN_NATS_NKEY_FILE) throw new ConfigError('KILN_NATS_SERVER_CONFIG needs KILN_NATS_NKEY_FILE (the region\'s own NATS identity)');
  const cert = env.KILN_NATS_TLS_CERT;
  const key = env.KILN_NATS_TLS_KEY;
  if (!!cert !== !!key) throw new ConfigError('KILN_NATS_TLS_CERT and KILN_NATS_TLS_KEY go together');
  return {
    configFile,
    pidFile: env.KILN_NATS_SERVER_PID_FILE || '/run/kiln/nats-server.pid',
    listen: env.KILN_NATS_SERVER_LISTEN || '0.0.0.0:4222',
    jetstreamDir: env.KILN_NATS_JETSTREAM_DIR || '/var/lib/kiln/nats',
    tls: cert && key ? { certFile: cert, keyFile: key } : null,
  };
}

function subjectPrefix(env: Env, name: string): string {
  const raw = env[name] ?? '';
  if (raw !== '' && !/^([A-Za-z0-9_-]+\.)+$/.test(raw)) {
    throw new ConfigError(`${name} must be dot-terminated subject tokens (e.g. "site1."), got "${raw}"`);
  }
  return raw;
}

function deriveKey(text: string, name: string): Buffer {
  if (text.length < 32) throw new ConfigError(`${name} must hold at least 32 characters`);
  return createHash('sha256').update(text).digest();
}

export function loadRegionConfig(env: Env): RegionConfig {
  return {
    http: { host: env.KILN_HTTP_HOST || '0.0.0.0', port: int(env, 'KILN_HTTP_PORT', 5240, 0, 65535) },
    db: {
      url: url(env, 'KILN_DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/kiln', ['postgres:', 'postgresql:']),
      poolSize: int(env, 'KILN_DATABASE_POOL', 20, 1, 500),
    },
    redis: {
      url: url(env, 'KILN_REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
      prefix: env.KILN_REDIS_PREFIX || 'kiln',
    },
    nats: {
      url: url(env, 'KILN_NATS_URL', 'nats://127.0.0.1:4222', ['nats:', 'tls:']),
      prefix: subjectPrefix(env, 'KILN_NATS_PREFIX'),
      nkeyFile: env.KILN_NATS_NKEY_FILE || null,
      server: natsServer(env),
    },
    racks: {
      heartbeatIntervalMs: int(env, 'KILN_RACK_HEARTBEAT_MS', 10_000, 100, 600_000),
    },
    secretKey: secretKey(env),
    lifecycle: {
      nodeTimeoutMinutes: int(env, 'KILN_NODE_TIMEOUT_MINUTES', 30, 1, 24 * 60),
      sweepIntervalMs: int(env, 'KILN_SWEEP_INTERVAL_MS', 30_000, 100, 3_600_000),
    },
    power: {
      pollIntervalMs: int(env, 'KILN_POWER_POLL_INTERVAL_MS', 300_000, 1000, 86_400_000),
      pollSpreadMs: int(env, 'KILN_POWER_POLL_SPREAD_MS', 30_000, 0, 3_600_000),
    },
    logLevel: env.KILN_LOG_LEVEL || 'info',
    maasName: env.KILN_NAME || 'kiln',
    version: '3.5.0',
  };
}
