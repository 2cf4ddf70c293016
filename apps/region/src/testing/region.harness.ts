import { randomBytes } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiTokenEntity, hashPassword, newKeyPart, UserEntity } from '@kiln/db';
import { LeaseEvents } from '@kiln/contracts';
import { ContractBus } from '@kiln/contracts/nats';
import { createTestDatabase, TestDatabase, testServices, uniquePrefix } from '@kiln/testing';
import { createRegionApp } from '../bootstrap';
import { loadRegionConfig, RegionConfig } from '../config/region.config';
import { configureRootLogger } from '../logging/logger';
import { CONTRACT_BUS } from '../racks/nats.module';

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

/**
 * A real region for medium tests: its own Postgres database (cloned from the migrated template),
 * its own Redis prefix, listening on an ephemeral loopback port.
 */
export class RegionHarness {
  app!: INestApplication;
  ds!: DataSource;
  db!: TestDatabase;
  config!: RegionConfig;
  baseUrl!: string;

  static async start(env: Record<string, string> = {}): Promise<RegionHarness> {
    const h = new RegionHarness();
    configureRootLogger(process.env.KILN_TEST_LOG_LEVEL ?? 'silent');
    h.db = await createTestDatabase();
    h.config = loadRegionConfig({
      KILN_DATABASE_URL: h.db.url,
      KILN_REDIS_URL: testServices.redisUrl,
      KILN_REDIS_PREFIX: uniquePrefix('kiln-region'),
      KILN_SECRET_KEY: randomBytes(24).toString('hex'),
      KILN_HTTP_PORT: '0',
      KILN_DATABASE_POOL: '30',
      // Its own NATS subjects and JetStream stream, so that test files never answer each other's racks.
      KILN_NATS_URL: testServices.natsUrl,
      KILN_NATS_PREFIX: `${uniquePrefix('t').replace(/-/g, '_')}.`,
      KILN_RACK_SECRET: randomBytes(16).toString('hex'),
      ...env,
    });
    await h.boot();
    return h;
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
    await this.bus.deleteStream(LeaseEvents);
    await this.app.close();
    await this.db.drop();
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
