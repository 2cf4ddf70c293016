import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommissioningInventoryService } from '../commissioning/commissioning-inventory.service';
import { INVENTORY_SCRIPTS } from './metadata-signal.service';
import { addScript, nodeKey, scriptText, signal, untar } from '../testing/metadata.testing';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
const MD = '/MAAS/metadata';
let macCounter = 0;
const nextMac = () => `52:54:00:bb:${(++macCounter >> 8).toString(16).padStart(2, '0')}:${(macCounter & 255).toString(16).padStart(2, '0')}`;

type Machine = { system_id: string; status: number; status_name: string; status_message: string; hostname: string; fqdn: string };

interface ResultRow {
  id: number;
  script_name: string;
  status: number;
  exit_status: number | null;
  runtime: number | null;
  stdout: Buffer | null;
  result: Buffer | null;
  result_type: number;
}

describe('metadata API against a real region', () => {
  let h: RegionHarness;
  let admin: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    await addScript(h, scriptText('kiln-pass', 'commissioning', 'echo pass'));
    await addScript(h, scriptText('kiln-fail', 'commissioning', 'echo fail; exit 3', ['tags: kiln-custom']));
    await addScript(h, scriptText('kiln-disk-test', 'testing', 'echo {storage}', ['parameters: {storage: {type: storage}}', 'destructive: true']));
    await addScript(h, scriptText('kiln-net-test', 'testing', 'echo {interface}', ['parameters: {interface: {type: interface}}']));
  });
  afterAll(() => h.stop());

  async function newMachine(): Promise<Machine> {
    const r = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: nextMac(), power_type: 'manual', commission: 'false' });
    expect(r.status).toBe(200);
    return r.json() as Machine;
  }

  async function machine(sid: string): Promise<Machine> {
    return (await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as Machine;
  }

  async function results(sid: string): Promise<ResultRow[]> {
    return h.ds.query(
      `SELECT r.id, r.script_name, r.status, r.exit_status, r.runtime, r.stdout, r.result, ss.result_type
         FROM script_results r JOIN script_sets ss ON ss.id = r.script_set_id JOIN machines m ON m.id = ss.machine_id
        WHERE m.system_id = $1 AND ss.id IN (m.current_commissioning_script_set_id, m.current_testing_script_set_id)
        ORDER BY r.script_name, r.id`,
      [sid],
    );
  }

  async function commission(sid: string, extra: Record<string, string> = {}) {
    return h.call(admin, 'POST', `${API}/machines/${sid}/?op=commission`, extra);
  }

  it('commissioning creates a run of the built-in and requested scripts, a testing run and a node token', async () => {
    const m = await newMachine();
    const r = await commission(m.system_id, { commissioning_scripts: 'kiln-pass,kiln-custom', skip_bmc_config: '1', enable_ssh: '1' });
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ status_name: 'Commissioning' });
    const rows = await results(m.system_id);
    const names = rows.filter((x) => x.result_type === 0).map((x) => x.script_name);
    expect(names).toEqual(expect.arrayContaining(['50-maas-01-commissioning', 'kiln-pass', 'kiln-fail', '30-maas-01-bmc-config']));
    expect(rows.find((x) => x.script_name === '30-maas-01-bmc-config')!.status).toBe(9); // skipped
    expect(rows.find((x) => x.script_name === 'kiln-pass')!.status).toBe(0);
    const key = await nodeKey(h, m.system_id);
    expect(key.purpose).toBe('commissioning');
    expect((await h.call(admin, 'GET', `${API}/machines/${m.system_id}/?op=get_token`)).json()).toEqual({
      token_key: key.tokenKey,
      token_secret: key.tokenSecret,
      consumer_key: key.consumerKey,
    });
    const [flags] = await h.ds.query(`SELECT enable_ssh FROM machines WHERE system_id = $1`, [m.system_id]);
    expect(flags.enable_ssh).toBe(true);

    // A second commission (after an abort) replaces the token.
    expect((await h.call(admin, 'POST', `${API}/machines/${m.system_id}/?op=abort`)).status).toBe(200);
    const revoked = await h.call(key, 'GET', `${MD}/2012-03-01/meta-data/instance-id`);
    expect(revoked.status).toBe(401);
    expect(revoked.text).toContain('revoked');
    expect((await results(m.system_id)).filter((x) => x.status === 5).length).toBeGreaterThan(0); // aborted
  });

  it('refuses unknown scripts and destructive tests on deployed machines, changing nothing', async () => {
    const m = await newMachine();
    const bad = await commission(m.system_id, { commissioning_scripts: 'no-such-script' });
    expect(bad.status).toBe(400);
    expect(bad.json()).toEqual({ commissioning_scripts: ['Select a valid choice. no-such-script is not one of the available choices.'] });
    expect((await machine(m.system_id)).status_name).toBe('New');
    expect(await h.ds.query(`SELECT 1 FROM node_tokens t JOIN machines m ON m.id = t.machine_id WHERE m.system_id = $1`, [m.system_id])).toEqual([]);

    const deployed = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: nextMac(), power_type: 'manual', deployed: 'true' });
    const sid = (deployed.json() as Machine).system_id;
    const refused = await h.call(admin, 'POST', `${API}/machines/${sid}/?op=test`, { testing_scripts: 'kiln-disk-test' });
    expect(refused.status).toBe(400);
    expect(refused.json()).toEqual({ testing_scripts: ['Unable to run destructive test while deployed!'] });
    expect((await machine(sid)).status_name).toBe('Deployed');
  });

  it('serves meta-data, user-data and the scripts tarball to the machine, and the anonymous variants', async () => {
    const m = await newMachine();
    await commission(m.system_id, { commissioning_scripts: 'kiln-pass', testing_scripts: 'none' });
    const key = await nodeKey(h, m.system_id);

    expect((await h.call(null, 'GET', `${MD}/`)).text).toBe('2012-03-01\nlatest');
    const unknown = await h.call(key, 'GET', `${MD}/2009-04-04/meta-data/`);
    expect(unknown.status).toBe(404);
    expect(unknown.text).toBe('Unknown metadata version: 2009-04-04');
    expect((await h.call(key, 'GET', `${MD}/latest/meta-data/`)).text).toBe('instance-id\nlocal-hostname\nvendor-data\nx509');
    expect((await h.call(key, 'GET', `${MD}//2012-03-01/meta-data/instance-id`)).text).toBe(m.system_id);
    expect((await h.call(key, 'GET', `${MD}/2012-03-01/meta-data/local-hostname`)).text).toBe(m.fqdn);
    const vendor = await h.call(key, 'GET', `${MD}/2012-03-01/meta-data/vendor-data`);
    expect(vendor.headers.get('content-type')).toContain('application/x-yaml');
    expect(vendor.text).toMatch(/^cloud-init: \|\s*\n\s+#cloud-config/);

    const ud = await h.call(key, 'GET', `${MD}/2012-03-01/user-data`);
    expect(ud.status).toBe(200);
    expect(ud.text).toContain('Content-Type: multipart/mixed');
    const script = Buffer.from(ud.text.split('Content-Disposition: attachment; filename="user_data.sh"\n\n')[1].split('\n--')[0].replace(/\n/g, ''), 'base64').toString();
    expect(script).toContain(`"token_key":"${key.tokenKey}"`);
    expect(script).toContain('--phase=commissioning');
    expect((await machine(m.system_id)).status_message).toMatch(/^Gathering information/);

    const tar = await fetch(`${h.baseUrl}${MD}/2012-03-01/maas-scripts`, { headers: { authorization: RegionHarness.oauthHeader(key) } });
    expect(tar.status).toBe(200);
    expect(tar.headers.get('content-type')).toBe('application/x-tar');
    const files = untar(Buffer.from(await tar.arrayBuffer()));
    const index = JSON.parse(files.get('index.json')!.toString()) as { '1.0': Record<string, { name: string; script_result_id: number }[]> };
    const names = index['1.0'].commissioning_scripts.map((e) => e.name);
    expect(names).toContain('kiln-pass');
    expect(names).not.toContain('kiln-fail');
    expect(index['1.0'].testing_scripts).toBeUndefined();
    expect(files.get('commissioning/kiln-pass')!.toString()).toContain('echo pass');
    const ids = new Set((await results(m.system_id)).map((x) => x.id));
    for (const e of index['1.0'].commissioning_scripts) expect(ids.has(e.script_result_id)).toBe(true);

    // A user's API key is not a node token; anonymous callers get the enlistment variants.
    expect((await h.call(admin, 'GET', `${MD}/2012-03-01/meta-data/instance-id`)).status).toBe(401);
    expect((await h.call(null, 'GET', `${MD}/2012-03-01/meta-data/instance-id`)).text).toBe('i-maas-enlistment');
    expect((await h.call(null, 'GET', `${MD}/enlist/latest/meta-data/local-hostname`)).text).toBe('maas-enlisting-node');
    expect((await h.call(null, 'GET', `${MD}/2012-03-01/user-data`)).text).toContain('Content-Type: multipart/mixed');
    const anonTar = await fetch(`${h.baseUrl}${MD}/2012-03-01/maas-scripts`);
    const anonIndex = JSON.parse(untar(Buffer.from(await anonTar.arrayBuffer())).get('index.json')!.toString());
    const entry = anonIndex['1.0'].commissioning_scripts.find((e: { name: string }) => e.name === '30-maas-01-bmc-config');
    expect(entry).toBeDefined();
    expect(entry.script_result_id).toBeUndefined();
    expect(anonIndex['1.0'].commissioning_scripts.map((e: { name: string }) => e.name)).not.toContain('kiln-pass');
    expect((await h.call(null, 'POST', `${MD}/2012-03-01/`, { op: 'signal', status: 'OK' })).status).toBe(401);
  });

  it('serves the preseeds: the machine credentials, the webhook and power_state; the enlistment one without credentials', async () => {
    const m = await newMachine();
    await commission(m.system_id, { testing_scripts: 'none' });
    const key = await nodeKey(h, m.system_id);
    const pre = await h.call(null, 'GET', `${MD}/latest/by-id/${m.system_id}/?op=get_preseed`);
    expect(pre.status).toBe(200);
    expect(pre.text.startsWith('#cloud-config\n')).toBe(true);
    expect(pre.text).toContain(`metadata_url: ${h.baseUrl}/MAAS/metadata/`);
    expect(pre.text).toContain(`token_key: ${key.tokenKey}`);
    expect(pre.text).toContain(`token_secret: ${key.tokenSecret}`);
    expect(pre.text).toContain(`endpoint: ${h.baseUrl}/MAAS/metadata/status/${m.system_id}`);
    expect(pre.text).toContain('mode: poweroff');

    const ssh = await newMachine();
    await commission(ssh.system_id, { testing_scripts: 'none', enable_ssh: '1' });
    expect((await h.call(null, 'GET', `${MD}/latest/by-id/${ssh.system_id}/?op=get_preseed`)).text).not.toContain('power_state');

    const enlist = await h.call(null, 'GET', `${MD}/latest/enlist-preseed/?op=get_enlist_preseed`);
    expect(enlist.text).toContain(`metadata_url: ${h.baseUrl}/MAAS/metadata/`);
    expect(enlist.text).not.toContain('token_key');
    expect((await h.call(null, 'GET', `${MD}/latest/by-id/nosuch/?op=get_preseed`)).status).toBe(404);

    expect((await h.call(key, 'POST', `${MD}/2012-03-01/`, { op: 'netboot_off' })).text).toBe('OK');
    expect((await h.ds.query(`SELECT netboot FROM machines WHERE system_id = $1`, [m.system_id]))[0].netboot).toBe(false);
  });

  it('stores results from signals, keeps the machine alive on heartbeats, and fails commissioning naming the script', async () => {
    const m = await newMachine();
    await commission(m.system_id, { commissioning_scripts: 'kiln-pass,kiln-fail', testing_scripts: 'none' });
    const key = await nodeKey(h, m.system_id);
    const [before] = await h.ds.query(`SELECT status_expires FROM machines WHERE system_id = $1`, [m.system_id]);
    await h.ds.query(`UPDATE machines SET status_expires = now() + interval '1 minute' WHERE system_id = $1`, [m.system_id]);

    expect(await signal(h, key, { status: 'WORKING' })).toEqual({ status: 200, text: 'OK' });
    const [after] = await h.ds.query(`SELECT status_expires FROM machines WHERE system_id = $1`, [m.system_id]);
    expect(new Date(after.status_expires).getTime()).toBeGreaterThan(Date.now() + 20 * 60_000);
    expect(before.status_expires).not.toBeNull();
    const [ping] = await h.ds.query(`SELECT last_ping FROM script_sets ss JOIN machines m ON m.current_commissioning_script_set_id = ss.id WHERE m.system_id = $1`, [m.system_id]);
    expect(ping.last_ping).not.toBeNull();

    const pass = (await results(m.system_id)).find((x) => x.script_name === 'kiln-pass')!;
    expect((await signal(h, key, { status: 'WORKING', script_result_id: String(pass.id), name: 'kiln-pass' })).status).toBe(200);
    expect((await results(m.system_id)).find((x) => x.id === pass.id)!.status).toBe(1); // running
    const done = await signal(
      h,
      key,
      { status: 'WORKING', script_result_id: String(pass.id), name: 'kiln-pass', exit_status: '0', runtime: '0.25' },
      { 'kiln-pass': 'pass\n', 'kiln-pass.out': 'pass\n', 'kiln-pass.err': '', 'kiln-pass.yaml': 'status: degraded\nresults: {iops: 12}\n' },
    );
    expect(done).toEqual({ status: 200, text: 'OK' });
    const stored = (await results(m.system_id)).find((x) => x.id === pass.id)!;
    expect(stored).toMatchObject({ status: 6, exit_status: 0, runtime: 0.25 }); // the YAML's status wins
    expect(stored.stdout!.toString()).toBe('pass\n');

    const fail = (await results(m.system_id)).find((x) => x.script_name === 'kiln-fail')!;
    // Bad input is refused whole: nothing of it is stored.
    const big = await signal(h, key, { status: 'WORKING', script_result_id: String(fail.id), exit_status: '3' }, { 'kiln-fail.out': Buffer.alloc(8 * 1024 * 1024 + 1, 120) });
    expect(big.status).toBe(400);
    expect(big.text).toMatch(/the most one file may hold/);
    const other = await newMachine();
    await commission(other.system_id, { testing_scripts: 'none' });
    const foreign = (await results(other.system_id))[0];
    const stolen = await signal(h, key, { status: 'WORKING', script_result_id: String(foreign.id), exit_status: '0' }, { x: 'y' });
    expect(stolen.status).toBe(404);
    expect((await signal(h, key, { status: 'BOGUS' })).text).toBe("Unknown status: 'BOGUS'");
    expect((await results(m.system_id)).find((x) => x.id === fail.id)).toMatchObject({ status: 0, exit_status: null, stdout: null });
    expect((await results(other.system_id)).find((x) => x.id === foreign.id)).toMatchObject({ status: 0, exit_status: null });

    expect((await signal(h, key, { status: 'WORKING', script_result_id: String(fail.id), exit_status: '3' }, { 'kiln-fail.out': 'fail\n' })).status).toBe(200);
    expect((await signal(h, key, { status: 'FAILED', error: '1 commissioning scripts failed to run' })).status).toBe(200);
    const failed = await machine(m.system_id);
    expect(failed.status_name).toBe('Failed commissioning');
    expect(failed.status_message).toContain('kiln-fail');
    expect((await results(m.system_id)).filter((x) => x.status === 0)).toEqual([]); // the rest aborted
    // The run is over: its token no longer works.
    expect((await signal(h, key, { status: 'WORKING' })).status).toBe(401);
  });

  it('enlists anonymously into commissioning: a new machine, or a New one it matches by MAC', async () => {
    const mac = nextMac();
    const r = await h.call(null, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: `${mac},${nextMac()}`, commission: 'True' });
    expect(r.status).toBe(200);
    const sid = (r.json() as Machine).system_id;
    expect((await machine(sid)).status_name).toBe('Commissioning');
    expect((await nodeKey(h, sid)).purpose).toBe('enlisting');
    const [row] = await h.ds.query(`SELECT enlisting, status_expires FROM machines WHERE system_id = $1`, [sid]);
    expect(row.enlisting).toBe(true);
    expect(row.status_expires).not.toBeNull();
    expect((await results(sid)).map((x) => x.script_name)).toContain('30-maas-01-bmc-config');
    expect((await results(sid)).map((x) => x.script_name)).not.toContain('kiln-pass');
    expect((await h.call(null, 'GET', `${API}/machines/?op=is_registered&mac_address=${mac}`)).json()).toBe(false);

    const known = await newMachine();
    const knownMac = ((await h.call(admin, 'GET', `${API}/machines/${known.system_id}/`)).json() as { interface_set: { mac_address: string }[] }).interface_set[0].mac_address;
    const again = await h.call(null, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: knownMac, commission: 'True' });
    expect((again.json() as Machine).system_id).toBe(known.system_id);
    expect((await machine(known.system_id)).status_name).toBe('Commissioning');
    expect((await nodeKey(h, known.system_id)).purpose).toBe('enlisting');
  });

  it('refuses signals from a machine that is not in a signalling status', async () => {
    const d = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: nextMac(), power_type: 'manual', deployed: 'true' });
    const sid = (d.json() as Machine).system_id;
    expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=release`)).status).toBe(200);
    expect((await h.call(admin, 'POST', `${API}/machines/?op=allocate`, { system_id: sid })).status).toBe(200);
    // Its preseed gives it a token (as MAAS's does), but an allocated machine runs no scripts.
    expect((await h.call(null, 'GET', `${MD}/latest/by-id/${sid}/?op=get_preseed`)).status).toBe(200);
    const key = await nodeKey(h, sid);
    const r = await signal(h, key, { status: 'OK' });
    expect(r).toEqual({ status: 409, text: "Machine status isn't valid (status is Allocated)" });
    expect((await machine(sid)).status_name).toBe('Allocated');
  });

  it('hands the hardware scripts\' output to the commissioning inventory, and fails the script when it cannot be used', async () => {
    const inventory = h.app.get(CommissioningInventoryService);
    const apply = jest.spyOn(inventory, 'apply');
    try {
      const m = await newMachine();
      await commission(m.system_id, { testing_scripts: 'none' });
      const key = await nodeKey(h, m.system_id);
      const rows = await results(m.system_id);
      const resources = rows.find((x) => x.script_name === '50-maas-01-commissioning')!;
      const doc = readFileSync(join(__dirname, '..', 'commissioning', 'fixtures', 'two-numa-server.resources.json'), 'utf8');
      expect((await signal(h, key, { status: 'WORKING', script_result_id: String(resources.id), exit_status: '0' }, { '50-maas-01-commissioning.out': doc })).status).toBe(200);
      expect(apply).toHaveBeenCalledTimes(1);
      const [, machineId, name, stdout] = apply.mock.calls[0];
      expect([name, stdout.toString()]).toEqual(['50-maas-01-commissioning', doc]);
      const [{ id }] = await h.ds.query(`SELECT id FROM machines WHERE system_id = $1`, [m.system_id]);
      expect(machineId).toBe(id);
      // Other scripts' output is not inventory.
      const other = rows.find((x) => x.script_name === 'maas-support-info')!;
      expect((await signal(h, key, { status: 'WORKING', script_result_id: String(other.id), exit_status: '0' }, { 'maas-support-info.out': 'x' })).status).toBe(200);
      expect(apply).toHaveBeenCalledTimes(1);

      apply.mockRejectedValueOnce(new Error('no cpu section'));
      const lshw = rows.find((x) => x.script_name === 'maas-lshw')!;
      expect((await signal(h, key, { status: 'WORKING', script_result_id: String(lshw.id), exit_status: '0' }, { 'maas-lshw.out': '<list/>' })).status).toBe(200);
      expect((await results(m.system_id)).find((x) => x.id === lshw.id)!.status).toBe(3);
      expect((await signal(h, key, { status: 'OK' })).status).toBe(200);
      const after = await machine(m.system_id);
      expect(after.status_name).toBe('Failed commissioning');
      expect(after.status_message).toContain('maas-lshw');
    } finally {
      apply.mockRestore();
    }
  });

  it('reports BMC credentials while commissioning, encrypted at rest', async () => {
    const m = await newMachine();
    await commission(m.system_id, { testing_scripts: 'none' });
    const key = await nodeKey(h, m.system_id);
    const params = { power_address: '10.9.8.7', power_user: 'maas', power_pass: 's3cret-pw', power_driver: 'LAN_2_0' };
    const bad = await signal(h, key, { status: 'WORKING', power_type: 'nonsense', power_parameters: '{}' });
    expect(bad).toEqual({ status: 400, text: 'Bad power_type' });
    const ok = await signal(h, key, { status: 'WORKING', error: 'BMC credentials reconfigured by 30-maas-01-bmc-config', power_type: 'ipmi', power_parameters: JSON.stringify(params) });
    expect(ok.status).toBe(200);
    expect((await h.call(admin, 'GET', `${API}/machines/${m.system_id}/?op=power_parameters`)).json()).toMatchObject(params);
    const raw = JSON.stringify(await h.ds.query(`SELECT b.power_parameters FROM bmcs b JOIN machines m ON m.bmc_id = b.id WHERE m.system_id = $1`, [m.system_id]));
    expect(raw).not.toContain('s3cret-pw');
  });

  it('runs commissioning then the tests it asked for, ending Ready, and tests a Ready machine', async () => {
    const m = await newMachine();
    await h.ds.query(
      `INSERT INTO block_devices (machine_id, name, model, serial, size) SELECT id, 'sda', 'QEMU', 'S1', 1000000000 FROM machines WHERE system_id = $1`,
      [m.system_id],
    );
    await commission(m.system_id, { commissioning_scripts: 'kiln-pass', testing_scripts: 'kiln-disk-test' });
    const key = await nodeKey(h, m.system_id);
    for (const r of (await results(m.system_id)).filter((x) => x.result_type === 0 && x.status === 0)) {
      // Hardware scripts send nothing here: their output would become the machine's inventory.
      const files = INVENTORY_SCRIPTS.has(r.script_name) ? {} : { [`${r.script_name}.out`]: '' };
      expect((await signal(h, key, { status: 'WORKING', script_result_id: String(r.id), exit_status: '0' }, files)).status).toBe(200);
    }
    const disk = (await results(m.system_id)).find((x) => x.script_name === 'kiln-disk-test')!;
    expect((await signal(h, key, { status: 'TESTING' })).status).toBe(200);
    expect((await machine(m.system_id)).status_name).toBe('Testing');
    expect((await signal(h, key, { status: 'WORKING', script_result_id: String(disk.id), exit_status: '0' })).status).toBe(200);
    // Nothing left to run: the tarball is 204.
    expect((await h.call(key, 'GET', `${MD}/2012-03-01/maas-scripts`)).status).toBe(204);
    expect((await signal(h, key, { status: 'OK' })).status).toBe(200);
    expect((await machine(m.system_id)).status_name).toBe('Ready');

    const tested = await h.call(admin, 'POST', `${API}/machines/${m.system_id}/?op=test`, { testing_scripts: 'kiln-disk-test', storage: 'sda' });
    expect(tested.status).toBe(200);
    expect(tested.json()).toMatchObject({ status_name: 'Testing' });
    const tkey = await nodeKey(h, m.system_id);
    expect(tkey.purpose).toBe('testing');
    const [t] = (await results(m.system_id)).filter((x) => x.result_type === 2);
    expect((await signal(h, tkey, { status: 'WORKING', script_result_id: String(t.id), exit_status: '1' })).status).toBe(200);
    expect((await signal(h, tkey, { status: 'OK' })).status).toBe(200);
    const after = await machine(m.system_id);
    expect(after.status_name).toBe('Failed testing');
    expect(after.status_message).toContain('kiln-disk-test');
    const unknownDisk = await h.call(admin, 'POST', `${API}/machines/${m.system_id}/?op=test`, { testing_scripts: 'kiln-disk-test', storage: 'nvme9' });
    expect(unknownDisk.status).toBe(400);
  });

  it('runs an interface test once per interface and records the link it found', async () => {
    const m = await newMachine();
    const t = await commission(m.system_id, { testing_scripts: 'kiln-net-test', commissioning_scripts: 'kiln-pass' });
    expect(t.status).toBe(200);
    const key = await nodeKey(h, m.system_id);
    const net = (await results(m.system_id)).filter((x) => x.script_name === 'kiln-net-test');
    expect(net).toHaveLength(1);
    const tar = await fetch(`${h.baseUrl}${MD}/2012-03-01/maas-scripts`, { headers: { authorization: RegionHarness.oauthHeader(key) } });
    const index = JSON.parse(untar(Buffer.from(await tar.arrayBuffer())).get('index.json')!.toString());
    const entry = index['1.0'].testing_scripts.find((e: { name: string }) => e.name === 'kiln-net-test');
    const [iface] = await h.ds.query(`SELECT i.mac_address FROM interfaces i JOIN machines m ON m.id = i.machine_id WHERE m.system_id = $1`, [m.system_id]);
    expect(entry.parameters.interface).toMatchObject({ type: 'interface', value: { mac_address: iface.mac_address, name: 'eth0' } });
    const sent = await signal(h, key, { status: 'WORKING', script_result_id: String(net[0].id), exit_status: '1' }, { 'kiln-net-test.yaml': 'link_connected: false\n' });
    expect(sent.status).toBe(200);
    const [after] = await h.ds.query(`SELECT link_connected FROM interfaces WHERE mac_address = $1`, [iface.mac_address]);
    expect(after.link_connected).toBe(false);
  });

  it('takes status webhook events from the machine, refusing anonymous and malformed ones', async () => {
    const m = await newMachine();
    await commission(m.system_id, { testing_scripts: 'none' });
    const key = await nodeKey(h, m.system_id);
    const post = (k: ApiKey | null, body: string, sid = m.system_id) =>
      h.call(k, 'POST', `${MD}/status/${sid}`, { raw: body, contentType: 'application/json' });
    const start = JSON.stringify({ event_type: 'start', origin: 'cloudinit', name: 'init-network', description: 'searching for network datasources', timestamp: 1 });
    expect((await post(key, start)).status).toBe(204);
    expect((await post(null, start)).status).toBe(401);
    const missing = await post(key, JSON.stringify({ event_type: 'start', origin: 'cloudinit' }));
    expect(missing.status).toBe(400);
    expect(missing.text).toBe('Missing parameter(s) in status message: name, description');
    const other = await newMachine();
    expect((await post(key, start, other.system_id)).status).toBe(403);
    const fail = JSON.stringify({ event_type: 'finish', origin: 'cloudinit', name: 'modules-final', description: 'failed', result: 'FAIL', timestamp: 2 });
    expect((await post(key, fail)).status).toBe(204);
    expect((await machine(m.system_id)).status_name).toBe('Failed commissioning');
  });
});
