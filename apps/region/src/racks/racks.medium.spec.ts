import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GetBootConfig, LeaseEvents, BootEvents, RackHeartbeat, RegisterRack } from '@kiln/contracts';
import { NodeStatus } from '@kiln/lifecycle';
import { connect, nkeyAuthenticator } from 'nats';
import { newNkey, pollUntil } from '@kiln/testing';
import { registerBootImage } from '../testing/boot-images.fixture';
import { ApiKey, RegionHarness } from '../testing/region.harness';
import { LEASE_CONSUMER, RackEventsConsumer } from './rack-events.consumer';

const API = '/MAAS/api/2.0';
const ROOT = resolve(__dirname, '../../../..');

type Rack = { system_id: string; hostname: string; service_set: { name: string; status: string }[]; interface_set: { name: string; mac_address: string }[] };

describe('racks and the region over NATS', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let stateDir: string;
  let rackProc: ChildProcess | null = null;

  beforeAll(async () => {
    h = await RegionHarness.start({ KILN_RACK_HEARTBEAT_MS: '300' });
    admin = await h.createUser('admin', true);
    stateDir = await mkdtemp(join(tmpdir(), 'kiln-rack-'));
  });
  afterAll(async () => {
    rackProc?.kill('SIGKILL');
    await h.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  const register = (rackId: string) => {
    return h.bus.request(RegisterRack, [rackId], {
      rackId,
      hostname: `host-${rackId}`,
      version: '3.5.0',
      architecture: 'amd64',
      interfaces: [{ name: 'eth1', mac: '52:54:00:ff:00:01', addresses: ['10.9.0.2/24'], vlan: null }],
    });
  };

  async function racks(): Promise<Rack[]> {
    const r = await h.call(admin, 'GET', `${API}/rackcontrollers/`);
    expect(r.status).toBe(200);
    return r.json() as Rack[];
  }

  it('a rack process registers, shows in rackcontrollers/ with its interfaces, and is marked dead once stopped', async () => {
    // Enrolled the way `kiln rack-token` + first start leave it: it connects with its own nkey.
    const enrolled = await h.provisionRack({ hostname: 'rack-proc', stateDir });
    rackProc = spawn(process.execPath, ['-r', './tools/register.js', 'apps/rack/src/main.ts'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        PATH: process.env.PATH,
        ...enrolled.env,
        KILN_RACK_HOSTNAME: 'rack-proc',
        KILN_LOG_LEVEL: 'warn',
      },
    });
    const [rack] = await pollUntil(racks, (rs) => rs.some((r) => r.hostname === 'rack-proc' && r.service_set[0].status === 'running'), {
      timeoutMs: 30_000,
      what: 'the rack process to register',
    });
    expect(rack.system_id).toBe(enrolled.rackId);
    expect(rack.interface_set.length).toBeGreaterThan(0);
    expect(rack.interface_set[0].mac_address).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    const seen1 = await h.ds.query(`SELECT last_seen FROM rack_controllers WHERE system_id = $1`, [rack.system_id]);
    await pollUntil(
      () => h.ds.query(`SELECT last_seen FROM rack_controllers WHERE system_id = $1`, [rack.system_id]),
      (rows) => rows[0].last_seen > seen1[0].last_seen,
      { what: 'a heartbeat to move last_seen' },
    );

    rackProc.kill('SIGTERM');
    await new Promise((r) => rackProc!.once('exit', r));
    rackProc = null;
    const dead = await pollUntil(racks, (rs) => rs.find((r) => r.system_id === rack.system_id)?.service_set[0].status === 'dead', {
      timeoutMs: 10_000,
      what: 'the stopped rack to be marked dead',
    });
    expect(dead.find((r) => r.system_id === rack.system_id)!.interface_set.length).toBe(rack.interface_set.length);
  }, 60_000);

  it('refuses a would-be rack without NATS credentials (there is no shared secret), and a heartbeat from an unknown rack', async () => {
    await expect(connect({ servers: h.config.nats.url, reconnect: false })).rejects.toThrow(/Authorization/i);
    await expect(connect({ servers: h.config.nats.url, reconnect: false, authenticator: nkeyAuthenticator(newNkey().seed) })).rejects.toThrow(/Authorization/i);
    await expect(h.bus.request(RackHeartbeat, ['never-seen'], { rackId: 'never-seen' })).rejects.toMatchObject({ code: 'UNKNOWN_RACK' });
    await expect(register('good-rack')).resolves.toMatchObject({ rackId: 'good-rack', heartbeatIntervalMs: 300 });
    // A dead rack that heartbeats again is running again.
    await h.ds.query(`UPDATE rack_controllers SET status = 'dead' WHERE system_id = 'good-rack'`);
    await h.bus.request(RackHeartbeat, ['good-rack'], { rackId: 'good-rack' });
    const [{ status }] = await h.ds.query(`SELECT status FROM rack_controllers WHERE system_id = 'good-rack'`);
    expect(status).toBe('running');
  });

  it('takes the rack from the subject the NATS server let through, and refuses a payload naming another rack', async () => {
    const forged = {
      rackId: 'victim-rack',
      hostname: 'forged',
      interfaces: [],
    };
    await expect(h.bus.request(RegisterRack, ['good-rack'], forged)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(await h.ds.query(`SELECT 1 FROM rack_controllers WHERE system_id = 'victim-rack'`)).toHaveLength(0);
    await expect(h.bus.request(RackHeartbeat, ['good-rack'], { rackId: 'victim-rack' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(
      h.bus.request(GetBootConfig, ['good-rack'], { rackId: 'victim-rack', mac: '52:54:00:00:00:09', serverAddress: '10.9.0.2' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('stores and shows the power types a rack cannot drive, keeping them when a rack does not report', async () => {
    const req = {
      rackId: 'no-ipmi-rack',
      hostname: 'host-no-ipmi',
      interfaces: [],
    };
    await h.bus.request(RegisterRack, ['no-ipmi-rack'], { ...req, powerUnavailable: { ipmi: 'ipmipower is not installed on this rack (package freeipmi-tools)' } });
    const shown = (await racks()).find((r) => r.system_id === 'no-ipmi-rack') as unknown as { power_unavailable: Record<string, string> };
    expect(shown.power_unavailable).toEqual({ ipmi: 'ipmipower is not installed on this rack (package freeipmi-tools)' });
    await h.bus.request(RegisterRack, ['no-ipmi-rack'], req);
    const [row] = await h.ds.query(`SELECT power_unavailable FROM rack_controllers WHERE system_id = 'no-ipmi-rack'`);
    expect(row.power_unavailable).toEqual({ ipmi: expect.stringContaining('ipmipower') });
    await h.bus.request(RegisterRack, ['no-ipmi-rack'], { ...req, powerUnavailable: {} });
    expect(((await racks()).find((r) => r.system_id === 'no-ipmi-rack') as unknown as { power_unavailable: object }).power_unavailable).toEqual({});
    await h.ds.query(`DELETE FROM rack_controllers WHERE system_id = 'no-ipmi-rack'`);
  });

  async function machine(mac: string, status: NodeStatus): Promise<string> {
    const r = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'arm64/generic', mac_addresses: mac, power_type: 'manual' });
    expect(r.status).toBe(200);
    const sid = (r.json() as { system_id: string }).system_id;
    await h.ds.query(`UPDATE machines SET status = $2 WHERE system_id = $1`, [sid, status]);
    return sid;
  }

  it('answers GetBootConfig from the machine status and records the request on the machine', async () => {
    const ask = (mac: string) => h.bus.request(GetBootConfig, ['good-rack'], { rackId: 'good-rack', mac, serverAddress: '10.9.0.2', iface: 'eth1', clientArch: 7 });
    const cases: [NodeStatus, string, string][] = [
      [NodeStatus.COMMISSIONING, 'ephemeral', 'commissioning'],
      [NodeStatus.TESTING, 'ephemeral', 'testing'],
      [NodeStatus.RESCUE_MODE, 'ephemeral', 'rescue'],
      [NodeStatus.DEPLOYING, 'installer', 'deploying'],
      [NodeStatus.DEPLOYED, 'local', 'local'],
    ];
    // Before the region has an image for arm64, a netboot is answered no-image and recorded as such.
    const early = await machine('52:54:00:bb:00:f0', NodeStatus.COMMISSIONING);
    expect(await ask('52:54:00:bb:00:f0')).toMatchObject({ kind: 'no-image', purpose: 'commissioning', systemId: early, arch: 'arm64' });
    const missing = await h.ds.query(`SELECT type, description FROM events WHERE system_id = $1`, [early]);
    expect(missing).toEqual(expect.arrayContaining([{ type: 'No boot image', description: expect.stringContaining('no boot image for arm64') }]));
    await registerBootImage(h, {
      architecture: 'arm64/generic',
      version: 'v1',
      files: { 'boot-kernel': Buffer.from('kernel'), 'boot-initrd': Buffer.from('initrd'), squashfs: Buffer.from('squashfs') },
    });
    let n = 0;
    for (const [status, kind, purpose] of cases) {
      const mac = `52:54:00:bb:00:${(++n).toString(16).padStart(2, '0')}`;
      const sid = await machine(mac, status);
      const c = await ask(mac.toUpperCase());
      expect(c).toMatchObject({ kind, purpose, systemId: sid });
      if (c.kind !== 'local') expect(c).toMatchObject({ arch: 'arm64', kernel: 'debian/bookworm/arm64/generic/v1/boot-kernel' });
      const events = await h.ds.query(`SELECT type, description FROM events WHERE system_id = $1 AND type = 'PXE Request'`, [sid]);
      expect(events).toHaveLength(1);
      expect(events[0].description).toContain('rack good-rack on eth1');
    }
    // An unknown amd64 client would enlist, but the region has no amd64 image.
    await expect(ask('52:54:00:bb:ff:ff')).resolves.toMatchObject({ kind: 'no-image', purpose: 'enlistment', systemId: null, arch: 'amd64' });
  });

  it('turns lease events into machine IPs exactly once, even when redelivered, and records boot steps', async () => {
    const mac = '52:54:00:cc:00:01';
    const sid = await machine(mac, NodeStatus.COMMISSIONING);
    // good-rack serves DHCP on the VLAN of 10.9.0.0/24.
    const [fabric] = await h.ds.query(`INSERT INTO fabrics (name) VALUES ('fabric-lease-test') RETURNING id`);
    const [vlan] = await h.ds.query(
      `INSERT INTO vlans (fabric_id, vid, name, primary_rack_id) SELECT $1, 91, 'lease-test', id FROM rack_controllers WHERE system_id = 'good-rack' RETURNING id`,
      [fabric.id],
    );
    // good-rack's registration made 10.9.0.0/24 (its eth1's network); put it on the VLAN good-rack serves.
    const [moved] = await h.ds.query(`UPDATE subnets SET vlan_id = $1 WHERE cidr = '10.9.0.0/24' RETURNING id`, [vlan.id]);
    expect(moved).toHaveLength(1);
    const lease = { eventId: randomUUID(), rackId: 'good-rack', at: new Date().toISOString(), action: 'commit' as const, mac, ip: '10.9.0.50', iface: 'eth1' };
    // Published as another rack than the payload names: dropped (the server binds the subject to the sender).
    await h.bus.publishDurable(LeaseEvents, ['other-rack'], { ...lease, eventId: randomUUID(), ip: '10.9.0.66' });
    // An address on no subnet the rack serves: not the rack's to report, dropped.
    const offNet = { ...lease, eventId: randomUUID(), ip: '192.168.77.5' };
    await expect(h.app.get(RackEventsConsumer).applyLease(LeaseEvents.message.parse(offNet))).resolves.toBe('not-served');
    await h.bus.publishDurable(LeaseEvents, ['good-rack'], { ...offNet, eventId: randomUUID() });
    await h.bus.publishDurable(LeaseEvents, ['good-rack'], lease);
    const ip = () => h.ds.query(`SELECT host(ip_address) AS ip FROM interfaces WHERE mac_address = $1`, [mac]).then((r) => r[0].ip as string | null);
    await pollUntil(ip, (v) => v === '10.9.0.50', { what: 'the lease IP on the interface' });

    // Redelivery after JetStream's duplicate window: same event id, new message id.
    const js = h.bus.nc.jetstream();
    await js.publish(h.bus.subject(LeaseEvents.subject('good-rack')), Buffer.from(JSON.stringify(lease)), { msgID: randomUUID() });
    // And the consumer handed the same event directly (a region that crashed before acking).
    await expect(h.app.get(RackEventsConsumer).applyLease(LeaseEvents.message.parse(lease))).resolves.toBe('duplicate');
    const marker = { eventId: randomUUID(), rackId: 'good-rack', at: new Date().toISOString(), step: 'tftp-file' as const, mac, file: 'bootaa64.efi', bytes: 1024, durationMs: 12 };
    await h.bus.publishDurable(BootEvents, ['good-rack'], marker);
    await pollUntil(
      () => h.ds.query(`SELECT 1 FROM events WHERE system_id = $1 AND type = 'TFTP Request'`, [sid]),
      (rows) => rows.length === 1,
      { what: 'the boot step event' },
    );
    // Wait until the lease consumer has processed and acked everything, the redelivery included.
    const jsm = await h.bus.nc.jetstreamManager();
    await pollUntil(
      () => jsm.consumers.info(h.bus.streamName(LeaseEvents), LEASE_CONSUMER),
      (i) => i.num_pending === 0 && i.num_ack_pending === 0 && i.delivered.stream_seq >= 3,
      { what: 'the lease consumer to drain' },
    );
    const leases = await h.ds.query(`SELECT description FROM events WHERE system_id = $1 AND type = 'DHCP lease'`, [sid]);
    expect(leases).toEqual([{ description: '10.9.0.50 leased via rack good-rack on eth1' }]);

    // A release of that address clears it.
    await h.bus.publishDurable(LeaseEvents, ['good-rack'], { ...lease, eventId: randomUUID(), action: 'release' });
    await pollUntil(ip, (v) => v === null, { what: 'the released IP to clear' });
    const r = await h.call(admin, 'GET', `${API}/machines/${sid}/`);
    expect((r.json() as { ip_addresses: string[] }).ip_addresses).toEqual([]);
  });
});
