import { ChildProcess, spawn } from 'node:child_process';
import { registerDeployableImage } from '../testing/boot-images.fixture';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateBoxKeyPair } from '@kiln/contracts';
import { IpmiSim } from '@kiln/power/testing';
import { pollUntil } from '@kiln/testing';
import { MachineJobsWorker } from '../machines/machine-jobs.worker';
import { ApiKey, RegionHarness } from '../testing/region.harness';

type Machine = { system_id: string; status_name: string; power_state: string };
const API = '/MAAS/api/2.0';

/**
 * Power control end to end: region API -> lifecycle effect job -> NATS -> a real rack process
 * (its power executor and freeipmi/ipmitool drivers) -> OpenIPMI's ipmi_sim, whose chassis drives
 * a real process; every change cross-checked with ipmitool from outside Kiln.
 */
describe('power control through a rack, against ipmi_sim', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let alice: ApiKey;
  let sim: IpmiSim;
  let rackProc: ChildProcess;
  let stateDir: string;
  let RACK_ID: string;

  beforeAll(async () => {
    h = await RegionHarness.start({ KILN_RACK_HEARTBEAT_MS: '600000', KILN_POWER_POLL_INTERVAL_MS: '3600000', KILN_POWER_POLL_SPREAD_MS: '0' });
    admin = await h.createUser('admin', true);
    // Deploy installs only releases the region holds an image of.
    await registerDeployableImage(h, { version: 'test' });
    await registerDeployableImage(h, { name: 'ubuntu/jammy', version: 'test' });
    alice = await h.createUser('alice', false);
    sim = await IpmiSim.start();
    stateDir = mkdtempSync(join(tmpdir(), 'kiln-rack-power-'));
    // Enrolled the way `kiln rack-token` + first start leave it: it connects with its own nkey.
    const enrolled = await h.provisionRack({ hostname: 'rack-power', stateDir });
    rackProc = spawn(process.execPath, ['-r', './tools/register.js', 'apps/rack/src/main.ts'], {
      cwd: resolve(__dirname, '../../../..'),
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        PATH: process.env.PATH,
        ...enrolled.env,
        KILN_RACK_HOSTNAME: 'rack-power',
        KILN_RACK_SERVICES: 'power',
        KILN_LOG_LEVEL: 'warn',
      },
    });
    const [row] = await pollUntil(
      (): Promise<{ system_id: string }[]> => h.ds.query(`SELECT system_id FROM rack_controllers WHERE hostname = 'rack-power' AND status = 'running'`),
      (rows: { system_id: string }[]) => rows.length === 1,
      { timeoutMs: 30_000, what: 'the rack process to register' },
    );
    RACK_ID = row.system_id;
    // A fresher "live" rack that does not answer: every command must fail over to the real one.
    await h.ds.query(
      `INSERT INTO rack_controllers (system_id, hostname, status, last_seen, box_public_key) VALUES ('ghost1', 'rack-gone', 'running', now() + interval '1 hour', $1)`,
      [generateBoxKeyPair().publicKey],
    );
  }, 120_000);

  afterAll(async () => {
    if (rackProc && rackProc.exitCode === null) {
      rackProc.kill('SIGTERM');
      await new Promise((r) => rackProc.once('exit', r));
    }
    rmSync(stateDir, { recursive: true, force: true });
    await sim?.stop();
    await h?.stop();
  });

  const ipmi = (password: string) => ({
    power_type: 'ipmi',
    power_parameters_power_address: sim.address,
    power_parameters_power_user: sim.user,
    power_parameters_power_pass: password,
    power_parameters_power_driver: 'LAN_2_0',
  });
  const get = async (sid: string) => (await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as Machine;
  const events = async (sid: string) =>
    ((await h.call(admin, 'GET', `${API}/events/?op=query&id=${sid}&level=DEBUG`)).json() as { events: { type: string; level: string; description: string }[] }).events;

  it('queries, powers on for deployment, powers off on release, and the BMC agrees', async () => {
    const created = await h.call(admin, 'POST', `${API}/machines/`, {
      architecture: 'amd64',
      mac_addresses: '52:54:00:77:00:01',
      deployed: 'true',
      ...ipmi(sim.password),
    });
    expect(created.status).toBe(200);
    const sid = (created.json() as Machine).system_id;

    const q = await h.call(admin, 'GET', `${API}/machines/${sid}/?op=query_power_state`);
    expect(q.status).toBe(200);
    expect((q.json() as { state: string }).state).toBe(await sim.crossCheckPower());

    // Release of a deployed machine: power off, verified, then Ready.
    // It is off (the query said so): release goes straight to Ready, with a verified power off.
    await h.call(admin, 'POST', `${API}/machines/${sid}/?op=release`);
    await pollUntil(() => get(sid), (m) => m.status_name === 'Ready', { timeoutMs: 60_000, what: 'release to complete' });

    await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { system_id: sid });
    await h.call(alice, 'POST', `${API}/machines/${sid}/?op=deploy`);
    const on = await pollUntil(() => get(sid), (m) => m.power_state === 'on', { timeoutMs: 60_000, what: 'power on' });
    expect(on.status_name).toBe('Deploying');
    expect(await sim.crossCheckPower()).toBe('on');
    expect(await sim.ipmitool('chassis', 'bootparam', 'get', '5')).toMatch(/PXE/i);
    const powered = (await events(sid)).find((e) => e.type === 'Powered on')!;
    expect(powered.description).toContain(`on rack ${RACK_ID}`);
    expect(powered.description).toContain('(verified)');

    await h.call(alice, 'POST', `${API}/machines/${sid}/?op=release`);
    const released = await pollUntil(() => get(sid), (m) => m.status_name === 'Ready', { timeoutMs: 60_000, what: 'release after deploy' });
    expect(released.power_state).toBe('off');
    expect(await sim.crossCheckPower()).toBe('off');
  }, 180_000);

  it('reports a wrong BMC password as a fatal error in the BMC\'s words, without retrying or leaking it', async () => {
    const created = await h.call(admin, 'POST', `${API}/machines/`, {
      architecture: 'amd64',
      mac_addresses: '52:54:00:77:00:02',
      commission: 'false',
      ...ipmi('not-the-password'),
    });
    const sid = (created.json() as Machine).system_id;
    const q = await h.call(admin, 'GET', `${API}/machines/${sid}/?op=query_power_state`);
    expect(q.status).toBe(503);
    expect(q.headers.get('retry-after')).toBeTruthy();
    expect(q.text).toContain('BMC_AUTH');
    expect(q.text).not.toContain('not-the-password');
    expect((await get(sid)).power_state).toBe('error');

    // Commissioning powers the machine on: the effect fails once, fatally, and says so.
    await h.call(admin, 'POST', `${API}/machines/${sid}/?op=commission`);
    const ev = await pollUntil(() => events(sid), (e) => e.some((x) => x.type === 'Power failed'), { timeoutMs: 60_000, what: 'power failure event' });
    const failed = ev.filter((x) => x.type === 'Power failed');
    expect(failed).toHaveLength(1);
    expect(failed[0].level).toBe('ERROR');
    expect(failed[0].description).toContain('BMC_AUTH');
    expect(ev.some((x) => x.type === 'Power retry')).toBe(false);
    expect(JSON.stringify(ev)).not.toContain('not-the-password');
    // No retry fixes refused credentials: commissioning fails now, not at its deadline.
    const m = await pollUntil(() => get(sid), (x) => x.status_name !== 'Commissioning', { timeoutMs: 10_000, what: 'commissioning to fail' });
    expect(m.status_name).toBe('Failed commissioning');
    expect((await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json()).toMatchObject({ error_description: expect.stringContaining('BMC_AUTH') });
  }, 120_000);

  it('polls every BMC through the rack and marks the unreachable ones', async () => {
    const worker = h.app.get(MachineJobsWorker);
    expect(await worker.pollPower()).toBe('polled 1 ok, 1 failed');
    const rows: { hostname: string; power_state: string }[] = await h.ds.query(
      `SELECT m.hostname, m.power_state FROM machines m JOIN bmcs b ON b.id = m.bmc_id WHERE b.power_type = 'ipmi' ORDER BY m.id`,
    );
    expect(rows.map((r) => r.power_state)).toEqual(['off', 'error']);
    const [bad] = await h.ds.query(`SELECT error_description FROM machines WHERE power_state = 'error'`);
    expect(bad.error_description).toMatch(/password invalid/);
  }, 120_000);

  it('carries out power_on then power_off on an Allocated machine: the BMC ends off', async () => {
    const created = await h.call(admin, 'POST', `${API}/machines/`, {
      architecture: 'amd64',
      mac_addresses: '52:54:00:77:00:03',
      deployed: 'true',
      ...ipmi(sim.password),
    });
    const sid = (created.json() as Machine).system_id;
    await h.call(admin, 'POST', `${API}/machines/${sid}/?op=release`);
    await pollUntil(() => get(sid), (m) => m.status_name === 'Ready', { timeoutMs: 60_000, what: 'release to complete' });
    expect((await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { system_id: sid })).status).toBe(200);
    expect((await h.call(alice, 'POST', `${API}/machines/${sid}/?op=power_on`)).status).toBe(200);
    expect((await h.call(alice, 'POST', `${API}/machines/${sid}/?op=power_off`)).status).toBe(200);
    const ev = await pollUntil(() => events(sid), (e) => e.filter((x) => x.type === 'Powered off').length === 2 && e.some((x) => x.type === 'Powered on'), {
      timeoutMs: 60_000,
      what: 'both power actions to reach the BMC',
    });
    // Newest first (the release's power off is the oldest): the power off ran after the power on.
    expect(ev.findIndex((x) => x.type === 'Powered off')).toBeLessThan(ev.findIndex((x) => x.type === 'Powered on'));
    expect(await sim.crossCheckPower()).toBe('off');
    expect((await get(sid)).power_state).toBe('off');
  }, 120_000);
});
