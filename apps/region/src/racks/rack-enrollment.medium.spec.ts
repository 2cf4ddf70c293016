import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect, NatsConnection, nkeyAuthenticator } from 'nats';
import {
  ContractError,
  generateBoxKeyPair,
  MessageVerifier,
  RACK_ENROLLMENT_PATH,
  rackInboxPrefix,
  RegisterRack,
  renderNatsServerConfig,
} from '@kiln/contracts';
import { ContractBus } from '@kiln/contracts/nats';
import { newNkey, pollUntil, PrivateNatsServer, startPrivateNatsServer } from '@kiln/testing';
import { RegionHarness } from '../testing/region.harness';
import { regionSigner } from '../nats/nats.module';
import { RackEnrollmentService } from './rack-enrollment.service';

/**
 * Enrollment and revocation end to end: a region that owns the config of a private nats-server
 * with auth on, a rack that enrolls over HTTP with a one-time token and then talks on the bus with
 * its own nkey, and an administrator who revokes it.
 */
describe('rack enrollment and revocation, against a NATS server with auth on', () => {
  let nats: PrivateNatsServer;
  let h: RegionHarness;
  const region = newNkey();
  const rack = newNkey();
  const box = generateBoxKeyPair();
  const open: NatsConnection[] = [];

  beforeAll(async () => {
    nats = await startPrivateNatsServer((s) =>
      renderNatsServerConfig({ listen: s.listen, jetstreamDir: s.storeDir, pidFile: s.pidFile, prefix: '', regionNkeys: [region.publicKey], racks: [] }),
    );
    const seedFile = join(nats.dir, 'region.nk');
    writeFileSync(seedFile, new TextDecoder().decode(region.seed), { mode: 0o600 });
    h = await RegionHarness.start({
      KILN_NATS_URL: nats.url,
      KILN_NATS_NKEY_FILE: seedFile,
      KILN_NATS_SERVER_CONFIG: nats.configFile,
      KILN_NATS_SERVER_PID_FILE: nats.pidFile,
      KILN_NATS_SERVER_LISTEN: nats.listen,
      KILN_NATS_JETSTREAM_DIR: nats.storeDir,
    });
  }, 60_000);
  afterAll(async () => {
    for (const nc of open) if (!nc.isClosed()) await nc.close();
    await h?.stop();
    await nats?.stop();
  });

  const enroll = (body: unknown) =>
    fetch(`${h.baseUrl}${RACK_ENROLLMENT_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const asRack = async () => {
    const nc = await connect({
      servers: nats.url,
      authenticator: nkeyAuthenticator(rack.seed),
      inboxPrefix: rackInboxPrefix(h.config.nats.prefix, 'rack-new'),
      reconnect: false,
    });
    open.push(nc);
    return nc;
  };

  it('lets a rack in only after it enrolled with a token the region issued, once', async () => {
    await expect(asRack()).rejects.toThrow(/Authorization/i);
    const request = { rackId: 'rack-new', hostname: 'rack-new', nkey: rack.publicKey, boxPublicKey: box.publicKey };
    expect((await enroll({ ...request, token: 'x'.repeat(32) })).status).toBe(403);
    expect((await enroll({ ...request, token: 'x'.repeat(32), nkey: `U${'A'.repeat(55)}` })).status).toBe(400);
    const { token } = await h.app.get(RackEnrollmentService).createToken();
    const r = await enroll({ ...request, token });
    expect(r.status).toBe(200);
    const reply = (await r.json()) as { regionSigningKey: string };
    expect(reply).toEqual({ rackId: 'rack-new', regionSigningKey: regionSigner(h.config).publicKey });
    // Spent: the same token enrolls nothing else.
    expect((await enroll({ ...request, rackId: 'rack-other', nkey: newNkey().publicKey, token })).status).toBe(403);
    const [{ token_hash }] = await h.ds.query(`SELECT token_hash FROM rack_enrollment_tokens`);
    expect(token_hash).not.toContain(token);

    // The region rewrote the server's config and made it reload: the rack gets in with its nkey.
    const nc = await pollUntil(() => asRack().catch(() => null), (c) => c !== null, { timeoutMs: 10_000, what: 'the enrolled rack to be let in' });
    // It registers under its own id, with the region's replies checked against the key it pinned.
    const bus = new ContractBus(nc!, { prefix: h.config.nats.prefix, timeoutMs: 3000, verifier: new MessageVerifier([reply.regionSigningKey]) });
    const registration = {
      rackId: 'rack-new',
      hostname: 'rack-new',
      interfaces: [],
      boxPublicKey: box.publicKey,
    };
    await expect(bus.request(RegisterRack, ['rack-new'], registration)).resolves.toMatchObject({ rackId: 'rack-new' });
    // Not under another rack's id: the server does not let the request through.
    const forged = await bus.request(RegisterRack, ['rack-other'], { ...registration, rackId: 'rack-other' }).catch((e: unknown) => e);
    expect(forged).toBeInstanceOf(ContractError);
    expect(await h.ds.query(`SELECT 1 FROM rack_controllers WHERE system_id = 'rack-other'`)).toHaveLength(0);
  });

  it('cuts a revoked rack off the bus at once and keeps it out', async () => {
    const nc = await asRack();
    const closed = nc.closed().then(() => 'closed');
    expect(await h.app.get(RackEnrollmentService).revoke('rack-new')).toBe(true);
    let timer: NodeJS.Timeout | undefined;
    const still = new Promise((r) => (timer = setTimeout(() => r('still open'), 5000)));
    await expect(Promise.race([closed, still])).resolves.toBe('closed');
    clearTimeout(timer);
    await expect(asRack()).rejects.toThrow(/Authorization/i);
    const [row] = await h.ds.query(`SELECT nats_nkey, box_public_key FROM rack_controllers WHERE system_id = 'rack-new'`);
    expect(row).toEqual({ nats_nkey: null, box_public_key: null });
  });
  it('a rack process enrolls with its token on first start, then registers over NATS with its own nkey and the pinned region key', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'kiln-rack-enroll-'));
    const { token } = await h.app.get(RackEnrollmentService).createToken();
    let proc: ChildProcess | null = spawn(process.execPath, ['-r', './tools/register.js', 'apps/rack/src/main.ts'], {
      cwd: resolve(__dirname, '../../../..'),
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        PATH: process.env.PATH,
        KILN_NATS_URL: nats.url,
        KILN_NATS_PREFIX: h.config.nats.prefix,
        KILN_REGION_URL: h.baseUrl,
        KILN_RACK_ENROLL_TOKEN: token,
        KILN_RACK_STATE_DIR: stateDir,
        KILN_RACK_HOSTNAME: 'rack-enrolling',
        KILN_RACK_SERVICES: 'power',
        KILN_LOG_LEVEL: 'warn',
      },
    });
    try {
      const [row] = await pollUntil(
        (): Promise<{ system_id: string; nats_nkey: string; box_public_key: string }[]> =>
          h.ds.query(`SELECT system_id, nats_nkey, box_public_key FROM rack_controllers WHERE hostname = 'rack-enrolling' AND status = 'running'`),
        (rows) => rows.length === 1,
        { timeoutMs: 30_000, what: 'the rack to enroll and register' },
      );
      const rackId = readFileSync(join(stateDir, 'rack-id'), 'utf8').trim();
      expect(row.system_id).toBe(rackId);
      expect(readFileSync(join(stateDir, 'region-signing.pub'), 'utf8').trim()).toBe(regionSigner(h.config).publicKey);
      expect(row.box_public_key).toBe(JSON.parse(readFileSync(join(stateDir, 'rack-box.key'), 'utf8')).publicKey);
      expect(readFileSync(join(stateDir, 'rack-nats.nk'), 'utf8')).toMatch(/^SU/);
      expect(row.nats_nkey).toMatch(/^U/);
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc!.once('exit', r));
      proc = null;
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 60_000);
});
