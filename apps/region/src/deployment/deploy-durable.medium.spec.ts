import IORedis from 'ioredis';
import type { Subscription } from 'nats';
import { generateBoxKeyPair, PowerOff, PowerOn, PowerOutcome, PowerQueryBatch, PowerSetBootDevice } from '@kiln/contracts';
import { pollUntil, testServices } from '@kiln/testing';
import { nodeKey } from '../testing/metadata.testing';
import { registerDeployableImage } from '../testing/boot-images.fixture';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
const MD = '/MAAS/metadata';
const RACK = { 'x-forwarded-host': '10.9.0.1:5248' };
let macCounter = 0;
const nextMac = () => `52:54:00:d7:${(++macCounter >> 8).toString(16).padStart(2, '0')}:${(macCounter & 255).toString(16).padStart(2, '0')}`;

type Machine = { system_id: string; hostname: string; status_name: string; error_description: string };
type Step = { event_type: string; origin: string; name: string; description: string; result?: string };

const IMAGE_URI = 'http://10.9.0.1:5248/images/debian/bookworm/amd64/generic/20261204/root.tgz';
/** What kiln-install.py reports, in its order, up to the image. */
const INSTALLER: Step[] = [
  { event_type: 'start', origin: 'curtin', name: 'cmd-install', description: 'curtin command install' },
  { event_type: 'start', origin: 'curtin', name: 'cmd-install/stage-partitioning', description: 'partitioning the disks' },
  { event_type: 'progress', origin: 'curtin', name: 'cmd-install/stage-partitioning', description: 'partitioning vda' },
  { event_type: 'finish', origin: 'curtin', name: 'cmd-install/stage-partitioning', description: 'disks partitioned and formatted', result: 'SUCCESS' },
  { event_type: 'start', origin: 'curtin', name: 'cmd-install/stage-extract', description: `writing the image ${IMAGE_URI}` },
];
/** ... and from the image to the reboot, then the installed system's cloud-init. */
const INSTALLER_REST: Step[] = [
  { event_type: 'progress', origin: 'curtin', name: 'cmd-install/stage-extract', description: '64 MiB of the image written' },
  { event_type: 'finish', origin: 'curtin', name: 'cmd-install/stage-extract', description: 'image written (412 MB in 9 s, sha256 verified)', result: 'SUCCESS' },
  { event_type: 'start', origin: 'curtin', name: 'cmd-install/stage-curthooks', description: 'configuring the installed system' },
  { event_type: 'finish', origin: 'curtin', name: 'cmd-install/stage-curthooks', description: 'GRUB installed (BIOS), system configured', result: 'SUCCESS' },
  { event_type: 'finish', origin: 'curtin', name: 'cmd-install', description: 'installed in 41 s; rebooting', result: 'SUCCESS' },
];
const FIRST_BOOT: Step[] = [
  { event_type: 'start', origin: 'cloudinit', name: 'init-network', description: 'searching for network datasources' },
  { event_type: 'finish', origin: 'cloudinit', name: 'init-network/config-ssh', description: 'config-ssh ran successfully', result: 'SUCCESS' },
];
const READ: Record<string, string> = {
  'curtin command install': 'Installing: curtin command install',
  'partitioning the disks': 'Installing: partitioning the disks',
  'partitioning vda': 'Installing: partitioning vda',
  'disks partitioned and formatted': 'Installing: disks partitioned and formatted',
  [`writing the image ${IMAGE_URI}`]: `Installing: writing the image ${IMAGE_URI}`,
  '64 MiB of the image written': 'Installing: 64 MiB of the image written',
  'image written (412 MB in 9 s, sha256 verified)': 'Installing: image written (412 MB in 9 s, sha256 verified)',
  'configuring the installed system': 'Installing: configuring the installed system',
  'GRUB installed (BIOS), system configured': 'Installing: GRUB installed (BIOS), system configured',
  'installed in 41 s; rebooting': 'Installed: installed in 41 s; rebooting',
  'searching for network datasources': 'Installed system: init-network (searching for network datasources)',
  'config-ssh ran successfully': 'Installed system: init-network/config-ssh done (config-ssh ran successfully)',
};

/**
 * Deployment as durable steps: the state is in Postgres (status, deadline, events), BullMQ only
 * triggers the sweep. Every step the machine reports is an event and pushes the deadline back; a
 * deploy that stops reporting fails at its deadline naming its last step, also across a region
 * restart with Redis's data lost. The machine's side is played over the metadata API.
 */
describe('deployment progress, stalls and restarts', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let alice: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start({ KILN_SWEEP_INTERVAL_MS: '300', KILN_RACK_HEARTBEAT_MS: '600000', KILN_POWER_POLL_INTERVAL_MS: '3600000' });
    admin = await h.createUser('admin', true);
    alice = await h.createUser('alice', false);
    await registerDeployableImage(h, { version: '20261204' });
  });
  afterAll(() => h.stop());

  const get = async (sid: string) => (await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as Machine;
  const events = async (sid: string) =>
    ((await h.call(admin, 'GET', `${API}/events/?op=query&id=${sid}&level=DEBUG&limit=100`)).json() as { events: Array<{ type: string; description: string }> }).events.reverse();
  const deadline = async (sid: string) => {
    const [row] = await h.ds.query('SELECT status_expires FROM machines WHERE system_id = $1', [sid]);
    return new Date(row.status_expires).getTime();
  };
  const expireIn = (sid: string, ms: number) =>
    h.ds.query(`UPDATE machines SET status_expires = now() + make_interval(secs => $2::float8 / 1000) WHERE system_id = $1`, [sid, ms]);

  /** A machine deploying, its installer booted (preseed fetched), its deploy's effects carried out. */
  async function deploying(power: Record<string, string> = { power_type: 'manual' }): Promise<{ sid: string; node: ApiKey }> {
    const created = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64/generic', mac_addresses: nextMac(), deployed: 'true', ...power });
    expect(created.status).toBe(200);
    const sid = (created.json() as Machine).system_id;
    await h.ds.query(
      `INSERT INTO block_devices (machine_id, name, size, model, serial, is_boot, tags)
       SELECT id, 'vda', 10000000000, 'QEMU HARDDISK', 'KILN0001', true, '{}'::text[] FROM machines WHERE system_id = $1`,
      [sid],
    );
    expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=release`)).status).toBe(200);
    // With a BMC, the release ends once the rack powered the machine off.
    await pollUntil(() => get(sid), (m) => m.status_name === 'Ready', { timeoutMs: 20_000, what: 'the release' });
    expect((await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { system_id: sid })).status).toBe(200);
    expect((await h.call(alice, 'POST', `${API}/machines/${sid}/?op=deploy`, { distro_series: 'debian/12' })).status).toBe(200);
    expect((await h.call(null, 'GET', `${MD}/latest/by-id/${sid}/?op=get_preseed`, undefined, RACK)).status).toBe(200);
    // The deploy's own effects (power, waiting for boot) are written before the machine reports.
    await pollUntil(
      async () => Number((await h.ds.query('SELECT count(*) AS n FROM effect_outbox WHERE system_id = $1', [sid]))[0].n),
      (n) => n === 0,
      { timeoutMs: 20_000, what: 'the deploy effects to be carried out' },
    );
    return { sid, node: await nodeKey(h, sid) };
  }

  const report = async (node: ApiKey, sid: string, step: Step) =>
    expect((await h.call(node, 'POST', `${MD}/status/${sid}`, { raw: JSON.stringify(step), contentType: 'application/json' })).status).toBe(204);

  /** The installed system's first boot ends the deployment (netboot off, then its user-data). */
  async function finish(node: ApiKey, sid: string): Promise<void> {
    expect((await h.call(node, 'POST', `${MD}/2012-03-01/?op=netboot_off`, { op: 'netboot_off' })).text).toBe('OK');
    for (const s of FIRST_BOOT) await report(node, sid, s);
    // The deploy gave no user data: 404, as MAAS answers; the request itself ends the deployment.
    expect((await h.call(node, 'GET', `${MD}/2012-03-01/user-data`)).status).toBe(404);
  }

  it('records every installer step and first-boot event as a machine event, in order, each pushing the deadline back', async () => {
    const { sid, node } = await deploying();
    const before = (await events(sid)).length;
    for (const s of [...INSTALLER, ...INSTALLER_REST, ...FIRST_BOOT]) {
      // The installer turns netboot off before it reboots into the installed system.
      if (s === FIRST_BOOT[0]) expect((await h.call(node, 'POST', `${MD}/2012-03-01/?op=netboot_off`, { op: 'netboot_off' })).text).toBe('OK');
      await expireIn(sid, 60_000);
      const was = await deadline(sid);
      await report(node, sid, s);
      const now = await deadline(sid);
      expect(now).toBeGreaterThan(was + 28 * 60_000);
      expect((await get(sid)).status_name).toBe('Deploying');
    }
    // A step sent again (its answer lost on the way) is one event, and still a sign of progress.
    const last = FIRST_BOOT[FIRST_BOOT.length - 1];
    await expireIn(sid, 60_000);
    const was = await deadline(sid);
    await report(node, sid, last);
    expect(await deadline(sid)).toBeGreaterThan(was + 28 * 60_000);
    const steps = (await events(sid)).slice(before);
    expect(steps.map((e) => e.description)).toEqual([
      ...[...INSTALLER, ...INSTALLER_REST].map((s) => READ[s.description]),
      'The machine asked to boot from its disk from now on',
      ...FIRST_BOOT.map((s) => READ[s.description]),
    ]);
    expect(steps.filter((e) => e.type !== 'Node status event').map((e) => e.type)).toEqual(['Netboot changed']);
    // The latest step is the machine's status message, as an operator sees it in the listing.
    const [row] = await h.ds.query('SELECT status_message FROM machines WHERE system_id = $1', [sid]);
    expect(row.status_message).toBe(`Node status event - ${READ[FIRST_BOOT[FIRST_BOOT.length - 1].description]}`);
    // The deploy gave no user data: 404, as MAAS answers; the request itself ends the deployment.
    expect((await h.call(node, 'GET', `${MD}/2012-03-01/user-data`)).status).toBe(404);
    expect((await get(sid)).status_name).toBe('Deployed');
  });

  it('a deploy that stops reporting ends Failed deployment at its deadline, naming the step it stalled after', async () => {
    const { sid, node } = await deploying();
    for (const s of INSTALLER) await report(node, sid, s);
    await expireIn(sid, 1_500);
    const at = await deadline(sid);
    const failed = await pollUntil(() => get(sid), (m) => m.status_name !== 'Deploying', { timeoutMs: 15_000, what: 'the deadline sweep' });
    expect(Date.now()).toBeGreaterThanOrEqual(at);
    expect(failed.status_name).toBe('Failed deployment');
    expect(failed.error_description).toBe(`Deploying timed out: deadline of 30 minutes passed; stalled after: Installing: writing the image ${IMAGE_URI}`);
    expect((await events(sid)).map((e) => e.description)).toContain(failed.error_description);
    // A step reported after the failure changes nothing.
    await report(node, sid, INSTALLER_REST[0]);
    expect(await get(sid)).toMatchObject({ status_name: failed.status_name, error_description: failed.error_description });
  });

  it('survives a region restart with Redis emptied: a silent deploy still fails at its deadline, a reporting one ends Deployed', async () => {
    const silent = await deploying();
    const going = await deploying();
    for (const s of INSTALLER) {
      await report(silent.node, silent.sid, s);
      await report(going.node, going.sid, s);
    }

    await h.stopApp();
    // Redis lost: no queued job, no job scheduler, no delayed job survives.
    const redis = new IORedis(testServices.redisUrl, { maxRetriesPerRequest: 1 });
    try {
      const keys = await redis.keys(`${h.config.redis.prefix}*`);
      expect(keys.length).toBeGreaterThan(0);
      await redis.del(...keys);
      expect(await redis.keys(`${h.config.redis.prefix}*`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
    await h.boot();
    // Both deadlines come due soon; only Postgres knows them.
    await expireIn(silent.sid, 3_000);
    await expireIn(going.sid, 3_000);
    const silentDeadline = await deadline(silent.sid);

    // The reporting machine goes on: each step pushes its deadline back past the silent one's.
    for (const s of INSTALLER_REST) await report(going.node, going.sid, s);
    expect(await deadline(going.sid)).toBeGreaterThan(silentDeadline + 25 * 60_000);

    const failed = await pollUntil(() => get(silent.sid), (m) => m.status_name !== 'Deploying', { timeoutMs: 20_000, what: 'the deadline sweep after the restart' });
    expect(Date.now()).toBeGreaterThanOrEqual(silentDeadline);
    expect(failed.status_name).toBe('Failed deployment');
    expect(failed.error_description).toBe(`Deploying timed out: deadline of 30 minutes passed; stalled after: Installing: writing the image ${IMAGE_URI}`);

    expect((await get(going.sid)).status_name).toBe('Deploying');
    await finish(going.node, going.sid);
    expect((await get(going.sid)).status_name).toBe('Deployed');
  });

  it('survives a rack restarted while the power-on of a deploy is in flight: the BMC is driven once, the deploy goes on', async () => {
    // A rack that holds the BMC's credentials (sealed to its key) and remembers the commands it
    // carried out across its restart, as the real rack does with its command ids.
    const RACK = 'rkrestart';
    const box = generateBoxKeyPair();
    await h.ds.query(
      `INSERT INTO rack_controllers (system_id, hostname, status, last_seen, box_public_key) VALUES ($1, 'rack-restart', 'running', now() + interval '1 hour', $2)`,
      [RACK, box.publicKey],
    );
    const carriedOut: string[] = [];
    const remembered = new Map<string, PowerOutcome>();
    let subs: Subscription[] = [];
    let releaseDying: () => void = () => undefined;
    const dying = new Promise<void>((r) => (releaseDying = r));
    const start = (dieOnFirstPowerOn: boolean) => {
      const done: PowerOutcome = { outcome: 'done', state: 'on', verified: true, calls: 1, elapsedMs: 1 };
      subs = [
        h.bus.serve(PowerSetBootDevice, [RACK], () => done),
        h.bus.serve(PowerQueryBatch, [RACK], () => ({ results: [], elapsedMs: 0 })),
        // The release that makes the machine Ready before its allocation powers it off.
        h.bus.serve(PowerOff, [RACK], () => ({ ...done, state: 'off' as const })),
        h.bus.serve(PowerOn, [RACK], async (req) => {
          const key = req.commandId ?? '';
          if (remembered.has(key)) return remembered.get(key)!;
          carriedOut.push(key);
          remembered.set(key, done);
          if (dieOnFirstPowerOn) {
            // The BMC was told; the rack process dies before it answers.
            for (const s of subs) s.unsubscribe();
            await dying;
            throw new Error('rack process gone');
          }
          return done;
        }),
      ];
    };
    start(true);
    const created = deploying({
      power_type: 'ipmi',
      power_parameters_power_address: '10.9.7.1',
      power_parameters_power_user: 'admin',
      power_parameters_power_pass: 'secret',
    });
    // The rack comes back after the region noticed it went away (its liveness check unanswered).
    await pollUntil(() => carriedOut.length, (n) => n === 1, { timeoutMs: 20_000, what: 'the power-on to reach the rack' });
    await pollUntil(
      () => h.ds.query(`SELECT 1 FROM events WHERE type = 'Power retry'`),
      (rows) => rows.length > 0,
      { timeoutMs: 20_000, what: 'the region to notice the rack went away' },
    );
    start(false);
    const { sid, node } = await created;
    releaseDying();

    expect(carriedOut).toHaveLength(1);
    const log = (await events(sid)).map((e) => `${e.type}: ${e.description}`);
    expect(log.some((l) => /^Power retry: Power on attempt 1 of \d+ failed \(UNAVAILABLE\)/.test(l))).toBe(true);
    expect(log.filter((l) => l.startsWith('Powered on: Power on via ipmi on rack rkrestart'))).toHaveLength(1);
    expect((await get(sid)).status_name).toBe('Deploying');
    for (const s of [...INSTALLER, ...INSTALLER_REST]) await report(node, sid, s);
    await finish(node, sid);
    expect((await get(sid)).status_name).toBe('Deployed');
    for (const s of subs) s.unsubscribe();
  });
});
