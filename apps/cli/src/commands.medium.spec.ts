import { DataSource } from 'typeorm';
import { renderNatsServerConfig } from '@kiln/contracts';
import { createDataSource, UserEntity } from '@kiln/db';
import { createTestDatabase, newNkey, pollUntil, startPrivateNatsServer, TestDatabase } from '@kiln/testing';
import { createHash } from 'node:crypto';
import { connect, nkeyAuthenticator, nkeys } from 'nats';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiKey, applyNatsConfig, CliError, createAdmin, migrate, natsConfig, natsNkey, rackRevoke, rackToken } from './commands';

describe('kiln admin commands', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = createDataSource({ url: db.url, poolSize: 2 });
    await ds.initialize();
  });
  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  it('migrate is a no-op on an up-to-date database', async () => {
    expect(await migrate(ds)).toEqual([]);
  });

  it('creates an administrator once and refuses a duplicate or a missing password', async () => {
    // Long enough that a random salt or hash cannot contain it by chance (a two-letter one could).
    const password = 'kiln-admin-password-1f9c';
    const u = await createAdmin(ds, { username: 'root-admin', password, email: 'a@example.com' });
    expect(u.isAdmin).toBe(true);
    const stored = await ds.getRepository(UserEntity).findOneByOrFail({ username: 'root-admin' });
    expect(stored.passwordHash).not.toContain(password);
    await expect(createAdmin(ds, { username: 'root-admin', password: 'pw', email: '' })).rejects.toThrow(CliError);
    await expect(createAdmin(ds, { username: 'other', password: '', email: '' })).rejects.toThrow(/password/);
    await expect(createAdmin(ds, { username: 'bad name!', password: 'x', email: '' })).rejects.toThrow(/invalid username/);
  });

  it('prints the same key until asked to generate a new one', async () => {
    const [first] = await apiKey(ds, { username: 'root-admin', generate: false });
    expect(first.split(':').map((p) => p.length)).toEqual([18, 18, 32]);
    expect(await apiKey(ds, { username: 'root-admin', generate: false })).toEqual([first]);
    const [fresh] = await apiKey(ds, { username: 'root-admin', generate: true });
    expect(fresh).not.toEqual(first);
    expect(await apiKey(ds, { username: 'root-admin', generate: false })).toEqual([first, fresh]);
    await expect(apiKey(ds, { username: 'nobody', generate: false })).rejects.toThrow(/no such user/);
  });
  it('issues one-time rack tokens stored only as their hash, and revokes a rack by forgetting its keys', async () => {
    const { token, expires } = await rackToken(ds, { ttlHours: 2 });
    expect(expires.getTime()).toBeGreaterThan(Date.now() + 3600_000);
    const rows: { token_hash: string; used_by: string | null }[] = await ds.query(`SELECT token_hash, used_by FROM rack_enrollment_tokens`);
    expect(rows).toEqual([{ token_hash: createHash('sha256').update(token).digest('hex'), used_by: null }]);
    await expect(rackToken(ds, { ttlHours: 0 })).rejects.toBeInstanceOf(CliError);
    await ds.query(`INSERT INTO rack_controllers (system_id, hostname, status, nats_nkey, box_public_key) VALUES ('r1', 'r1', 'running', $1, 'k')`, [`U${'A'.repeat(55)}`]);
    await rackRevoke(ds, { rackId: 'r1' });
    expect(await ds.query(`SELECT nats_nkey, box_public_key, status FROM rack_controllers`)).toEqual([{ nats_nkey: null, box_public_key: null, status: 'dead' }]);
    await expect(rackRevoke(ds, { rackId: 'nope' })).rejects.toBeInstanceOf(CliError);
  });
  it('creates the region nkey once and writes a NATS server config nats-server accepts, with every enrolled rack', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-nats-'));
    try {
      const nkeyFile = join(dir, 'region.nk');
      const pub = natsNkey(nkeyFile);
      expect(natsNkey(nkeyFile)).toBe(pub);
      const rackKey = nkeys.createUser().getPublicKey();
      await ds.query(`INSERT INTO rack_controllers (system_id, hostname, status, nats_nkey) VALUES ('r2', 'r2', 'running', $1)`, [rackKey]);
      const text = await natsConfig(ds, { nkeyFile, listen: '127.0.0.1:14222', jetstreamDir: join(dir, 'js'), pidFile: join(dir, 'pid'), prefix: '' });
      expect(text).toContain(pub);
      expect(text).toContain(rackKey);
      const conf = join(dir, 'nats-server.conf');
      writeFileSync(conf, text);
      const check = spawnSync('nats-server', ['-t', '-c', conf], { encoding: 'utf8' });
      expect(`${check.status} ${check.stderr}`).toMatch(/^0 /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rack-revoke cuts the rack off at once where the NATS server config is kept, by reloading the server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-revoke-'));
    const nkeyFile = join(dir, 'region.nk');
    const regionKey = natsNkey(nkeyFile);
    const rack = newNkey();
    await ds.query(`INSERT INTO rack_controllers (system_id, hostname, status, nats_nkey) VALUES ('r3', 'r3', 'running', $1)`, [rack.publicKey]);
    // The server starts with the rack in its config, as the regions wrote it.
    const nats = await startPrivateNatsServer((s) =>
      renderNatsServerConfig({ listen: s.listen, jetstreamDir: s.storeDir, pidFile: s.pidFile, prefix: '', regionNkeys: [regionKey], racks: [{ rackId: 'r3', nkey: rack.publicKey }] }),
    );
    try {
      const nc = await connect({ servers: nats.url, authenticator: nkeyAuthenticator(rack.seed), inboxPrefix: '_INBOX_rack.r3', maxReconnectAttempts: 0 });
      const closed = nc.closed();
      await rackRevoke(ds, { rackId: 'r3' });
      const applied = await applyNatsConfig(ds, {
        nkeyFile,
        listen: nats.listen,
        jetstreamDir: nats.storeDir,
        pidFile: nats.pidFile,
        prefix: '',
        configFile: nats.configFile,
      });
      expect(applied).toBe('reloaded');
      await pollUntil(() => Promise.resolve(nc.isClosed()), (c) => c, { timeoutMs: 5000, what: 'the revoked rack to be cut off' });
      await closed;
      await expect(connect({ servers: nats.url, authenticator: nkeyAuthenticator(rack.seed), maxReconnectAttempts: 0 })).rejects.toMatchObject({
        code: 'AUTHORIZATION_VIOLATION',
      });
    } finally {
      await nats.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
