import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplicationContext } from '@nestjs/common';
import { connect, NatsConnection, nkeyAuthenticator, Subscription } from 'nats';
import {
  BootConfig,
  generateBoxKeyPair,
  MessageSigner,
  renderNatsServerConfig,
  ContractError,
  DhcpConfigUpdate,
  DhcpSnapshot,
  GetBootConfig,
  GetDhcpConfig,
  LeaseEvents,
  PowerOn,
  PowerQuery,
  RackHeartbeat,
  RegisterRack,
  RequestOf,
  sealPowerParameters,
} from '@kiln/contracts';
import { ContractBus } from '@kiln/contracts/nats';
import { newNkey, pollUntil, PrivateNatsServer, startPrivateNatsServer } from '@kiln/testing';
import { BOOT_CONFIG_SOURCE, BootConfigSource, BootConfigUnavailableError } from './boot/boot-config.source';
import { createRackApp } from './bootstrap';
import { loadRackConfig, RackConfig } from './config/rack.config';
import { RackEventsPublisher } from './events/rack-events.publisher';
import { configureRootLogger } from './logging/logger';
import { CapturedLines, repeatedKeys } from './logging/testing/log-lines';
import { PowerModule } from './power/power.module';
import { RackNatsConnection } from './nats/rack-nats.connection';
import { DhcpConfigFeed } from './dhcp/dhcp-config.feed';
import { RACK_IDENTITY, RackIdentity } from './registration/rack.identity';

const subnet = (id: number) => ({
  id,
  cidr: `10.${id}.0.0/24`,
  gateway: `10.${id}.0.1`,
  dnsServers: [],
  domain: 'maas',
  mtu: 1500,
  vlan: { id: 1, vid: 0, fabricId: 1 },
  relayed: false,
  primary: true,
  peerRackId: null,
  disabledBootArchitectures: [],
  leaseTimeS: 600,
});

/** A region stand-in answering the rack's contracts on the test's subject prefix. */
class FakeRegion {
  registrations: RequestOf<typeof RegisterRack>[] = [];
  heartbeats: RequestOf<typeof RackHeartbeat>[] = [];
  bootQueries: RequestOf<typeof GetBootConfig>[] = [];
  snapshotsServed = 0;
  known = new Set<string>();
  snapshot: DhcpSnapshot | null = null;
  dhcpRevision = 0;
  /** What heartbeats report, when a test wants it to differ from dhcpRevision. */
  heartbeatRevision: number | null = null;
  private subs: Subscription[] = [];

  constructor(readonly bus: ContractBus) {}

  start() {
    this.subs = [
      this.bus.serve(RegisterRack, ['*'], (req) => {
        this.registrations.push(req);
        this.known.add(req.rackId);
        return { rackId: req.rackId, heartbeatIntervalMs: 100, dhcpRevision: this.dhcpRevision };
      }),
      this.bus.serve(RackHeartbeat, ['*'], (req) => {
        if (!this.known.has(req.rackId)) throw new ContractError('UNKNOWN_RACK', 'who?');
        this.heartbeats.push(req);
        return { dhcpRevision: this.heartbeatRevision ?? this.dhcpRevision, heartbeatIntervalMs: 100 };
      }),
      this.bus.serve(GetDhcpConfig, ['*'], (req) => {
        this.snapshotsServed++;
        return this.snapshot ?? { rackId: req.rackId, revision: this.dhcpRevision, subnets: [] };
      }),
      this.bus.serve(GetBootConfig, ['*'], (req): BootConfig => {
        this.bootQueries.push(req);
        return { kind: 'local', purpose: 'local', systemId: 'abc123', hostname: 'node1' };
      }),
    ];
  }

  /** Unsubscribes, and waits until the server knows (else a request racing it would just time out). */
  async stop() {
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
    await this.bus.nc.flush();
  }
}

describe('the rack daemon against a fake region over real NATS (auth on)', () => {
  let server: PrivateNatsServer;
  let nc: NatsConnection;
  let bus: ContractBus;
  let region: FakeRegion;
  let stateDir: string;
  let config: RackConfig;
  let rack: INestApplicationContext | null = null;
  /** The rack's box key pair, which the region seals power parameters to. */
  const box = generateBoxKeyPair();

  beforeAll(async () => {
    configureRootLogger(process.env.KILN_TEST_LOG_LEVEL ?? 'silent');
    const prefix = `t${randomBytes(4).toString('hex')}.`;
    // A NATS server with auth on that knows the region stand-in and this rack, as enrollment
    // leaves them: the rack's id, nkey, box key and the pinned region key are in its state dir.
    const regionNkey = newNkey();
    const rackNkey = newNkey();
    const rackId = `r${randomBytes(4).toString('hex')}`;
    const signer = MessageSigner.fromSecret(randomBytes(16).toString('hex'));
    server = await startPrivateNatsServer((s) =>
      renderNatsServerConfig({
        listen: s.listen,
        jetstreamDir: s.storeDir,
        pidFile: s.pidFile,
        prefix,
        regionNkeys: [regionNkey.publicKey],
        racks: [{ rackId, nkey: rackNkey.publicKey }],
      }),
    );
    nc = await connect({ servers: server.url, authenticator: nkeyAuthenticator(regionNkey.seed) });
    bus = new ContractBus(nc, { prefix, signer });
    stateDir = await mkdtemp(join(tmpdir(), 'kiln-rack-state-'));
    await writeFile(join(stateDir, 'rack-id'), `${rackId}\n`);
    await writeFile(join(stateDir, 'rack-nats.nk'), `${new TextDecoder().decode(rackNkey.seed)}\n`, { mode: 0o600 });
    await writeFile(join(stateDir, 'rack-box.key'), `${JSON.stringify(box)}\n`, { mode: 0o600 });
    await writeFile(join(stateDir, 'region-signing.pub'), `${signer.publicKey}\n`);
    config = loadRackConfig({
      KILN_NATS_URL: server.url,
      KILN_NATS_PREFIX: prefix,
      KILN_RACK_STATE_DIR: stateDir,
      KILN_RACK_HOSTNAME: 'rack-under-test',
      KILN_RACK_REQUEST_TIMEOUT_MS: '3000',
      KILN_BOOT_CONFIG_FRESH_MS: '0',
    });
  });

  beforeEach(() => {
    region = new FakeRegion(bus);
    region.start();
  });

  afterEach(async () => {
    await region.stop();
    await rack?.close();
    rack = null;
  });

  afterAll(async () => {
    await nc?.drain();
    await server?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('registers with a stable id and its interfaces, heartbeats, and keeps its id across restarts', async () => {
    rack = await createRackApp(config, []);
    const id = rack.get<RackIdentity>(RACK_IDENTITY).rackId;
    await pollUntil(() => region.heartbeats.length, (n) => n >= 2, { what: 'two heartbeats' });
    expect(region.registrations[0]).toMatchObject({ rackId: id, hostname: 'rack-under-test', protocol: 1 });
    expect(region.registrations[0].interfaces.length).toBeGreaterThan(0);
    expect(region.registrations[0].interfaces.every((i) => /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(i.mac))).toBe(true);
    await rack.close();
    rack = await createRackApp(config, []);
    expect(rack.get<RackIdentity>(RACK_IDENTITY).rackId).toBe(id);
    await pollUntil(() => region.registrations.length, (n) => n >= 2, { what: 'second registration' });
    expect(region.registrations[1].rackId).toBe(id);
  });

  it('does not connect to NATS at all without a pinned region key, and says how to enroll (never acts on unsigned messages)', async () => {
    // The same enrolled identity, but no region key pinned and none configured.
    const unpinned = await mkdtemp(join(tmpdir(), 'kiln-rack-unpinned-'));
    try {
      for (const f of ['rack-id', 'rack-nats.nk', 'rack-box.key']) await copyFile(join(stateDir, f), join(unpinned, f));
      rack = await createRackApp({ ...config, stateDir: unpinned, bootRoot: join(unpinned, 'boot') }, []);
      const nats = rack.get(RackNatsConnection);
      expect(nats.verifier).toBeNull();
      expect(nats.refusal).toMatch(/enroll this rack: set KILN_RACK_ENROLL_TOKEN.*KILN_REGION_SIGNING_KEY/);
      expect(() => nats.bus()).toThrow(/enroll this rack/);
      // An unsigned DHCP push reaches no one: the rack is not on the bus.
      const id = rack.get<RackIdentity>(RACK_IDENTITY).rackId;
      await new ContractBus(nc, { prefix: bus.prefix }).push(DhcpConfigUpdate, [id], { rackId: id, baseRevision: 0, revision: 1, ops: [] });
      await new Promise((r) => setTimeout(r, 1500));
      expect(region.registrations).toEqual([]);
      expect(nats.connected).toBe(false);
      expect(rack.get(DhcpConfigFeed).revision).toBe(0);
    } finally {
      await rack?.close();
      rack = null;
      await rm(unpinned, { recursive: true, force: true });
    }
  });

  it('registers again after the NATS connection comes back', async () => {
    rack = await createRackApp(config, []);
    await pollUntil(() => region.registrations.length, (n) => n >= 1, { what: 'registration' });
    await rack.get(RackNatsConnection).reconnect();
    await pollUntil(() => region.registrations.length, (n) => n >= 2, { what: 'registration after reconnect' });
  });

  it('registers again when the region forgets it (heartbeat answered UNKNOWN_RACK)', async () => {
    rack = await createRackApp(config, []);
    const id = rack.get<RackIdentity>(RACK_IDENTITY).rackId;
    await pollUntil(() => region.heartbeats.length, (n) => n >= 1, { what: 'a heartbeat' });
    const before = region.registrations.length;
    region.known.delete(id);
    await pollUntil(() => region.registrations.length, (n) => n > before, { what: 're-registration' });
    await pollUntil(() => region.heartbeats.filter((h) => h.rackId === id).length, (n) => n >= 2, { what: 'heartbeats after re-registering' });
  });

  it('follows the DHCP configuration: snapshot, pushed updates, gaps, and a revision behind at heartbeat', async () => {
    region.dhcpRevision = 1;
    region.snapshot = { rackId: 'placeholder', revision: 1, subnets: [{ ...subnet(1), ranges: [], reservations: [] }] };
    rack = await createRackApp(config, []);
    const id = rack.get<RackIdentity>(RACK_IDENTITY).rackId;
    region.snapshot.rackId = id;
    const feed = rack.get(DhcpConfigFeed);
    const changes: number[] = [];
    feed.onChange((s) => changes.push(s.revision));
    await pollUntil(() => feed.revision, (r) => r === 1, { what: 'snapshot applied' });

    // An update on top of revision 1 is applied as is.
    region.dhcpRevision = 2;
    bus.push(DhcpConfigUpdate, [id], {
      rackId: id,
      baseRevision: 1,
      revision: 2,
      ops: [{ op: 'upsertRange', subnetId: 1, range: { id: 7, start: '10.1.0.100', end: '10.1.0.200' } }],
    });
    await pollUntil(() => feed.revision, (r) => r === 2, { what: 'update applied' });
    expect(feed.current().subnets[0].ranges).toEqual([{ id: 7, start: '10.1.0.100', end: '10.1.0.200' }]);
    const served = region.snapshotsServed;

    // A gap (revision 3 missed) makes the rack fetch a snapshot instead of guessing. (Heartbeats
    // keep reporting the rack's own revision here, so only the gap can trigger the fetch.)
    region.heartbeatRevision = 2;
    region.dhcpRevision = 4;
    region.snapshot = { rackId: id, revision: 4, subnets: [{ ...subnet(2), ranges: [], reservations: [] }] };
    bus.push(DhcpConfigUpdate, [id], { rackId: id, baseRevision: 3, revision: 4, ops: [{ op: 'removeSubnet', subnetId: 1 }] });
    await pollUntil(() => feed.revision, (r) => r === 4, { what: 'snapshot after gap' });
    expect(region.snapshotsServed).toBeGreaterThan(served);
    expect(feed.current().subnets.map((s) => s.id)).toEqual([2]);

    // A lost last update shows at the next heartbeat.
    region.heartbeatRevision = null;
    region.dhcpRevision = 5;
    region.snapshot = { rackId: id, revision: 5, subnets: [] };
    await pollUntil(() => feed.revision, (r) => r === 5, { what: 'snapshot after heartbeat' });
    expect(changes).toEqual(expect.arrayContaining([1, 2, 4, 5]));

    // The configuration survives a restart, to serve while the region is away.
    await rack.close();
    await region.stop();
    rack = await createRackApp(config, []);
    expect(rack.get(DhcpConfigFeed).current()).toMatchObject({ rackId: id, revision: 5, subnets: [] });
  });

  it('sends lease and boot events durably: queued while the stream is missing, delivered once it exists', async () => {
    rack = await createRackApp(config, []);
    await pollUntil(() => region.registrations.length, (n) => n >= 1, { what: 'registration' });
    const publisher = rack.get(RackEventsPublisher);
    const id = publisher.lease({ action: 'commit', mac: '52:54:00:12:34:56', ip: '10.1.0.101', iface: 'eth1' });
    publisher.boot({ step: 'tftp-file', mac: '52:54:00:12:34:56', file: 'bootx64.efi', bytes: 10 });
    await pollUntil(() => publisher.backlog, (n) => n === 2, { what: 'events queued (no stream yet)' });
    await bus.ensureStream(LeaseEvents);
    try {
      await pollUntil(() => publisher.backlog, (n) => n === 0, { timeoutMs: 15_000, what: 'events acked by JetStream' });
      const got: string[] = [];
      const c = await bus.consumeDurable(LeaseEvents, { durable: 'rack-test', filterSubject: LeaseEvents.subject('*') }, async (m) => {
        got.push(`${m.eventId}:${m.rackId}:${m.ip}`);
      });
      try {
        await pollUntil(() => got, (g) => g.length === 1, { what: 'the lease event' });
        expect(got).toEqual([`${id}:${rack.get<RackIdentity>(RACK_IDENTITY).rackId}:10.1.0.101`]);
      } finally {
        await c.stop();
      }
    } finally {
      await bus.deleteStream(LeaseEvents);
    }
  });

  it("answers power commands on the contract bus under the region's correlation id, and logs each key once", async () => {
    const out = new CapturedLines();
    configureRootLogger('info', {}, out);
    try {
      rack = await createRackApp(config, [PowerModule]);
      const id = rack.get<RackIdentity>(RACK_IDENTITY).rackId;
      const target = { systemId: 'm-manual', powerType: 'manual', sealedParameters: sealPowerParameters(box.publicKey, id, 'm-manual', {}) };
      // The power subjects are served once the rack's first NATS connection is up.
      const queried = await pollUntil(
        () => bus.request(PowerQuery, [id], target, { correlationId: 'corr-query-1' }).catch((e: unknown) => e),
        (r) => !(r instanceof ContractError && r.code === 'UNAVAILABLE'),
        { what: 'the rack to serve power' },
      );
      expect(queried).toMatchObject({ outcome: 'done', state: 'unknown' });
      await expect(bus.request(PowerOn, [id], { ...target, commandId: 'effect-1' }, { correlationId: 'corr-on-1' })).resolves.toMatchObject({ outcome: 'manual' });
      // A request the region did not sign is refused by the same bus, before the handlers.
      const unsigned = new ContractBus(nc, { prefix: bus.prefix });
      await expect(unsigned.request(PowerOn, [id], target)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });

      const lines = out.parsed();
      const done = lines.filter((l) => l.msg === 'power command done');
      expect(done).toEqual([
        expect.objectContaining({ rackId: id, correlationId: 'corr-query-1', systemId: 'm-manual', action: 'query', component: 'power' }),
        expect.objectContaining({ rackId: id, correlationId: 'corr-on-1', systemId: 'm-manual', action: 'on', commandId: 'effect-1' }),
      ]);
      expect(lines.find((l) => l.msg === 'serving power commands')).toMatchObject({ rackId: id, component: 'power' });
      // Every line the rack wrote (registration, NATS, power) names each key once.
      expect(out.lines.length).toBeGreaterThan(3);
      expect(out.lines.filter((l) => repeatedKeys(l).length)).toEqual([]);
    } finally {
      configureRootLogger(process.env.KILN_TEST_LOG_LEVEL ?? 'silent');
    }
  });

  it('asks the region what a MAC boots, and boots from its cache when the region is unreachable', async () => {
    rack = await createRackApp(config, []);
    const source = rack.get<BootConfigSource>(BOOT_CONFIG_SOURCE);
    await pollUntil(() => region.registrations.length, (n) => n >= 1, { what: 'registration' });
    const q = { mac: '52-54-00-12-34-56', clientArch: 7, serverAddress: '10.1.0.2', iface: 'eth1' };
    const first = await source.get(q);
    expect(first).toMatchObject({ source: 'region', config: { kind: 'local', systemId: 'abc123' } });
    expect(region.bootQueries[0]).toMatchObject({ mac: '52:54:00:12:34:56', clientArch: 7, rackId: rack.get<RackIdentity>(RACK_IDENTITY).rackId });

    await region.stop();
    const t0 = Date.now();
    const cached = await source.get(q);
    expect(cached).toMatchObject({ source: 'cache', config: { kind: 'local', systemId: 'abc123' } });
    expect(Date.now() - t0).toBeLessThan(1500); // no responders: no waiting for the 3 s timeout
    await expect(source.get({ ...q, mac: '52:54:00:00:00:99' })).rejects.toBeInstanceOf(BootConfigUnavailableError);

    // The cache is on disk too: a restarted rack still boots the machine without a region.
    await rack.close();
    rack = await createRackApp(config, []);
    await expect(rack.get<BootConfigSource>(BOOT_CONFIG_SOURCE).get(q)).resolves.toMatchObject({ source: 'cache', config: { systemId: 'abc123' } });
  });
});
