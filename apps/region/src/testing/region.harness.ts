import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiTokenEntity, hashPassword, newKeyPart, UserEntity } from '@kiln/db';
import { generateBoxKeyPair, LeaseEvents, rackInboxPrefix, renderNatsServerConfig } from '@kiln/contracts';
import { ContractBus } from '@kiln/contracts/nats';
import { connect, NatsConnection, nkeyAuthenticator } from 'nats';
import {
  createTestDatabase,
  newNkey,
  PrivateNatsServer,
  startPrivateNatsServer,
  TestDatabase,
  TestNkey,
  testServices,
  uniquePrefix,
} from '@kiln/testing';
import { createRegionApp } from '../bootstrap';
import { loadRegionConfig, RegionConfig } from '../config/region.config';
import { configureRootLogger } from '../logging/logger';
import { CONTRACT_BUS, regionSigner } from '../nats/nats.module';
import { RackEnrollmentService } from '../racks/rack-enrollment.service';

export interface ApiKey {
  consumerKey: string;
  tokenKey: string;
  tokenSecret: string;
  username: string;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: () => unknown;
}

/** A rack provisioned the way enrollment leaves it: its keys in the database and in its state dir. */
export interface ProvisionedRack {
  rackId: string;
  nkey: TestNkey;
  box: { publicKey: string; secretKey: string };
  /** Environment for a rack process started on this state dir (NATS URL, prefix, state dir). */
  env: Record<string, string>;
}

/**
 * A real region for medium tests: its own Postgres database (cloned from the migrated template),
 * its own Redis prefix, listening on an ephemeral loopback port, and its own nats-server with auth
 * on (the config Kiln renders: the region's nkey, then every enrolled rack's), which the region
 * rewrites and reloads on enrollment and revocation as in production.
 */
export class RegionHarness {
  app!: INestApplication;
  ds!: DataSource;
  db!: TestDatabase;
  config!: RegionConfig;
  baseUrl!: string;
  /** The private NATS server (null when the test gave KILN_NATS_URL itself). */
  nats: PrivateNatsServer | null = null;
  private readonly clients: NatsConnection[] = [];

  static async start(env: Record<string, string> = {}): Promise<RegionHarness> {
    const h = new RegionHarness();
    configureRootLogger(process.env.KILN_TEST_LOG_LEVEL ?? 'silent');
    h.db = await createTestDatabase();
    // Its own NATS subjects and JetStream stream as well, so that nothing depends on one server per file.
    const prefix = `${uniquePrefix('t').replace(/-/g, '_')}.`;
    const natsEnv: Record<string, string> = {};
    if (!env.KILN_NATS_URL) {
      const region = newNkey();
      h.nats = await startPrivateNatsServer((s) =>
        renderNatsServerConfig({ listen: s.listen, jetstreamDir: s.storeDir, pidFile: s.pidFile, prefix: env.KILN_NATS_PREFIX ?? prefix, regionNkeys: [region.publicKey], racks: [] }),
      );
      const seedFile = join(h.nats.dir, 'region.nk');
      writeFileSync(seedFile, new TextDecoder().decode(region.seed), { mode: 0o600 });
      Object.assign(natsEnv, {
        KILN_NATS_URL: h.nats.url,
        KILN_NATS_NKEY_FILE: seedFile,
        KILN_NATS_SERVER_CONFIG: h.nats.configFile,
        KILN_NATS_SERVER_PID_FILE: h.nats.pidFile,
        KILN_NATS_SERVER_LISTEN: h.nats.listen,
        KILN_NATS_JETSTREAM_DIR: h.nats.storeDir,
      });
    }
    h.config = loadRegionConfig({
      KILN_DATABASE_URL: h.db.url,
      KILN_REDIS_URL: testServices.redisUrl,
      KILN_REDIS_PREFIX: uniquePrefix('kiln-region'),
      KILN_SECRET_KEY: randomBytes(24).toString('hex'),
      KILN_HTTP_PORT: '0',
      KILN_DATABASE_POOL: '30',
      KILN_NATS_PREFIX: prefix,
      ...natsEnv,
      ...env,
    });
    try {
      await h.boot();
    } catch (e) {
      await h.nats?.stop();
      throw e;
    }
    return h;
  }

  /**
   * Enrolls a rack the way `POST /rack-enrollment` does (a one-time token spent on its public
   * keys, the NATS server config rewritten and reloaded) and, when `stateDir` is given, leaves
   * there what an enrolled rack keeps: its id, nkey seed, box key and the pinned region key.
   */
  async provisionRack(opts: { rackId?: string; hostname?: string; stateDir?: string } = {}): Promise<ProvisionedRack> {
    const rackId = opts.rackId ?? `r${randomBytes(4).toString('hex')}`;
    const nkey = newNkey();
    const box = generateBoxKeyPair();
    const enrollment = this.app.get(RackEnrollmentService);
    const { token } = await enrollment.createToken();
    await enrollment.enroll({ token, rackId, hostname: opts.hostname ?? rackId, nkey: nkey.publicKey, boxPublicKey: box.publicKey });
    const env: Record<string, string> = { KILN_NATS_URL: this.config.nats.url, KILN_NATS_PREFIX: this.config.nats.prefix };
    if (opts.stateDir) {
      mkdirSync(opts.stateDir, { recursive: true });
      const files: Record<string, string> = {
        'rack-id': rackId,
        'rack-nats.nk': new TextDecoder().decode(nkey.seed),
        'rack-box.key': JSON.stringify(box),
        'region-signing.pub': regionSigner(this.config).publicKey,
      };
      for (const [name, text] of Object.entries(files)) writeFileSync(join(opts.stateDir, name), `${text}\n`, { mode: 0o600 });
      env.KILN_RACK_STATE_DIR = opts.stateDir;
    }
    return { rackId, nkey, box, env };
  }

  /** A NATS connection with a rack's own nkey and inbox (what the rack process would open); closed at stop(). */
  async connectAsRack(rack: Pick<ProvisionedRack, 'rackId' | 'nkey'>, opts: { reconnect?: boolean } = {}): Promise<NatsConnection> {
    const nc = await connect({
      servers: this.config.nats.url,
      authenticator: nkeyAuthenticator(rack.nkey.seed),
      inboxPrefix: rackInboxPrefix(this.config.nats.prefix, rack.rackId),
      reconnect: opts.reconnect ?? false,
    });
    this.clients.push(nc);
    return nc;
  }

  /** Starts (or restarts) the region process on the same database and Redis prefix. */
  async boot(): Promise<void> {
    this.app = await createRegionApp(this.config);
    await this.app.listen(0, '127.0.0.1');
    const port = (this.app.getHttpServer().address() as AddressInfo).port;
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.ds = this.app.get(DataSource);
  }

  async stopApp(): Promise<void> {
    await this.app.close();
  }

  /** The region's NATS bus (its subject prefix is the harness's). */
  get bus(): ContractBus {
    return this.app.get(CONTRACT_BUS);
  }

  async stop(): Promise<void> {
    for (const nc of this.clients.splice(0)) if (!nc.isClosed()) await nc.close();
    try {
      await this.bus.deleteStream(LeaseEvents);
      await this.app.close();
      await this.db.drop();
    } finally {
      await this.nats?.stop();
    }
  }

  async createUser(username: string, isAdmin: boolean, password = 'pw'): Promise<ApiKey> {
    const users = this.ds.getRepository(UserEntity);
    const u = await users.save(
      users.create({ username, email: `${username}@example.com`, passwordHash: await hashPassword(password), isAdmin }),
    );
    const tokens = this.ds.getRepository(ApiTokenEntity);
    const t = await tokens.save(
      tokens.create({ userId: u.id, name: 'test', consumerKey: newKeyPart(18), tokenKey: newKeyPart(18), tokenSecret: newKeyPart(32) }),
    );
    return { consumerKey: t.consumerKey, tokenKey: t.tokenKey, tokenSecret: t.tokenSecret, username };
  }

  static oauthHeader(key: ApiKey, opts: { nonce?: string; timestamp?: number; signature?: string; realm?: string } = {}): string {
    const parts = [
      opts.realm ? `realm="${opts.realm}"` : null,
      `oauth_version="1.0"`,
      `oauth_signature_method="PLAINTEXT"`,
      `oauth_consumer_key="${key.consumerKey}"`,
      `oauth_token="${key.tokenKey}"`,
      `oauth_signature="${opts.signature ?? `%26${key.tokenSecret}`}"`,
      `oauth_nonce="${opts.nonce ?? randomBytes(12).toString('hex')}"`,
      `oauth_timestamp="${opts.timestamp ?? Math.floor(Date.now() / 1000)}"`,
    ].filter(Boolean);
    return `OAuth ${parts.join(', ')}`;
  }

  /** One API call. `body` as an object is sent urlencoded (arrays repeat the key). */
  async call(
    key: ApiKey | null,
    method: string,
    path: string,
    body?: Record<string, string | string[]> | { raw: Buffer | string; contentType: string },
    headers: Record<string, string> = {},
  ): Promise<Reply> {
    const h: Record<string, string> = { ...headers };
    if (key) h.authorization = RegionHarness.oauthHeader(key);
    let payload: Buffer | string | undefined;
    if (body && 'raw' in body && 'contentType' in body) {
      payload = body.raw as Buffer | string;
      h['content-type'] = body.contentType as string;
    } else if (body) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(body)) for (const x of Array.isArray(v) ? v : [v]) q.append(k, x);
      payload = q.toString();
      h['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers: h, body: payload });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  }
}
