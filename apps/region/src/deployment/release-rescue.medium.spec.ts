import { nodeKey, signal, untar } from '../testing/metadata.testing';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
const MD = '/MAAS/metadata';
let macCounter = 0;
const nextMac = () => `52:54:00:e5:${(++macCounter >> 8).toString(16).padStart(2, '0')}:${(macCounter & 255).toString(16).padStart(2, '0')}`;

type Machine = { system_id: string; status_name: string; owner: string | null; osystem: string; error_description: string };
type IndexEntry = { name: string; script_result_id: number; parameters: Record<string, { value: unknown }> };

/**
 * Release with disk erasing and rescue mode through the REST API, with the ephemeral
 * environment played the way Kiln's runner and cloud-init drive the metadata API (reference
 * maas-api.md 1.4.2, 4.8). The real environment runs them in the VM test (deploy-vm.e2e.spec.ts).
 */
describe('release with disk erasing and rescue mode against a real region', () => {
  let h: RegionHarness;
  let admin: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    await h.ds.query(`INSERT INTO ssh_keys (user_id, key) SELECT id, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKilnRescueKey admin@kiln' FROM users WHERE username = 'admin'`);
  });
  afterAll(() => h.stop());

  /** A machine adopted as deployed (owner: admin), power type manual, with one disk. */
  async function deployed(powerType = 'manual'): Promise<string> {
    const created = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64/generic', mac_addresses: nextMac(), power_type: powerType, deployed: 'true' });
    expect(created.status).toBe(200);
    const sid = (created.json() as Machine).system_id;
    await h.ds.query(
      `INSERT INTO block_devices (machine_id, name, size, model, serial, is_boot, tags)
       SELECT id, 'sda', 10000000000, 'QEMU HARDDISK', 'KILN0001', true, '{}'::text[] FROM machines WHERE system_id = $1`,
      [sid],
    );
    return sid;
  }

  const get = async (sid: string) => (await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as Machine;
  const op = (sid: string, name: string, params: Record<string, string> = {}) => h.call(admin, 'POST', `${API}/machines/${sid}/?op=${name}`, params);
  const setConfig = (name: string, value: string) => h.call(admin, 'POST', `${API}/maas/?op=set_config`, { name, value });
  const events = async (sid: string): Promise<string[]> =>
    (await h.ds.query(`SELECT e.type || ': ' || e.description AS e FROM events e JOIN machines m ON m.id = e.machine_id WHERE m.system_id = $1 ORDER BY e.id`, [sid])).map(
      (r: { e: string }) => r.e,
    );

  /** What the runner downloads: the release scripts of the index. */
  async function releaseScripts(key: ApiKey): Promise<IndexEntry[]> {
    const res = await fetch(`${h.baseUrl}${MD}/2012-03-01/maas-scripts`, { headers: { authorization: RegionHarness.oauthHeader(key) } });
    expect(res.status).toBe(200);
    const index = JSON.parse(untar(Buffer.from(await res.arrayBuffer())).get('index.json')!.toString()) as { '1.0': Record<string, IndexEntry[]> };
    return index['1.0'].release_scripts ?? [];
  }

  /** The ephemeral environment boots: preseed (token), user-data. */
  async function boot(sid: string): Promise<ApiKey & { purpose: string }> {
    expect((await h.call(null, 'GET', `${MD}/latest/by-id/${sid}/?op=get_preseed`)).status).toBe(200);
    return nodeKey(h, sid);
  }

  const cloudInitFinished = (key: ApiKey, sid: string) =>
    h.call(key, 'POST', `${MD}/status/${sid}`, {
      raw: JSON.stringify({ event_type: 'finish', origin: 'cloudinit', name: 'modules-final', description: 'running modules for final', result: 'SUCCESS' }),
      contentType: 'application/json',
    });

  it('erases with quick_erase: Disk erasing, wipe-disks with its parameters, then Ready with owner, deployment and token gone', async () => {
    const sid = await deployed();
    await h.ds.query(`UPDATE machines SET user_data = 'IyEvYmluL3NoCg==' WHERE system_id = $1`, [sid]);
    const r = await op(sid, 'release', { erase: 'true', quick_erase: 'true', secure_erase: 'false' });
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ status_name: 'Disk erasing', osystem: '' });

    const key = await boot(sid);
    expect(key.purpose).toBe('release');
    const ud = await h.call(key, 'GET', `${MD}/2012-03-01/user-data`);
    expect(ud.status).toBe(200);
    const scripts = await releaseScripts(key);
    expect(scripts.map((s) => s.name)).toEqual(['wipe-disks']);
    expect(scripts[0].parameters.quick_erase.value).toBe('true');
    expect(scripts[0].parameters.secure_erase.value).toBe('false');

    // The runner: RELEASING before the set, the script's result, OK at the end.
    expect((await signal(h, key, { status: 'RELEASING' })).status).toBe(200);
    const id = String(scripts[0].script_result_id);
    expect((await signal(h, key, { status: 'WORKING', script_result_id: id, error: 'Starting wipe-disks' })).status).toBe(200);
    const done = await signal(h, key, { status: 'WORKING', script_result_id: id, exit_status: '0', runtime: '1.5' }, { 'wipe-disks': 'vda: quick erase done\n', 'wipe-disks.out': 'vda: quick erase done\n', 'wipe-disks.err': '' });
    expect(done.status).toBe(200);
    expect((await signal(h, key, { status: 'OK', error: 'All scripts successfully ran' })).status).toBe(200);
    expect((await get(sid)).status_name).toBe('Disk erasing');

    // cloud-init's final event: Ready, unowned; the node token is revoked.
    expect((await cloudInitFinished(key, sid)).status).toBe(204);
    const after = await get(sid);
    expect(after).toMatchObject({ status_name: 'Ready', owner: null, osystem: '' });
    const [row] = await h.ds.query(`SELECT user_data, owner_id FROM machines WHERE system_id = $1`, [sid]);
    expect(row).toEqual({ user_data: null, owner_id: null });
    const [{ live }] = await h.ds.query(`SELECT count(*)::int AS live FROM node_tokens t JOIN machines m ON m.id = t.machine_id WHERE m.system_id = $1 AND t.revoked IS NULL`, [sid]);
    expect(live).toBe(0);
    const [result] = await h.ds.query(`SELECT r.status FROM script_results r WHERE r.id = $1`, [scripts[0].script_result_id]);
    expect(result.status).toBe(2);
    const log = await events(sid);
    expect(log).toEqual(expect.arrayContaining([expect.stringMatching(/^Disk erasing: Release with disk erasing requested by admin/), 'Disk erasing: Disks erased']));
  });

  it('takes erasing and its options from the settings when the request does not say', async () => {
    const sid = await deployed();
    expect((await setConfig('enable_disk_erasing_on_release', 'true')).status).toBe(200);
    expect((await setConfig('disk_erase_with_secure_erase', 'true')).status).toBe(200);
    expect((await setConfig('disk_erase_with_quick_erase', 'true')).status).toBe(200);
    try {
      expect((await op(sid, 'release')).json()).toMatchObject({ status_name: 'Disk erasing' });
      const scripts = await releaseScripts(await boot(sid));
      expect(scripts.map((s) => [s.parameters.secure_erase.value, s.parameters.quick_erase.value])).toEqual([['true', 'true']]);
      // The collection's release follows the same setting.
      const many = await deployed();
      const res = await h.call(admin, 'POST', `${API}/machines/?op=release`, { machines: many });
      expect(res.status).toBe(200);
      expect((await get(many)).status_name).toBe('Disk erasing');
      expect((await releaseScripts(await boot(many))).map((s) => s.name)).toEqual(['wipe-disks']);
    } finally {
      await setConfig('enable_disk_erasing_on_release', 'false');
      await setConfig('disk_erase_with_quick_erase', 'false');
    }
    // Settings off, erase asked: secure erase still defaults from its setting, quick from its own.
    const other = await deployed();
    expect((await op(other, 'release', { erase: '1' })).json()).toMatchObject({ status_name: 'Disk erasing' });
    const scripts = await releaseScripts(await boot(other));
    expect(scripts.map((s) => [s.parameters.secure_erase.value, s.parameters.quick_erase.value])).toEqual([['true', 'false']]);
    // Without erase and with the setting off, a release is a plain one (manual power: Ready at once).
    const plain = await deployed();
    expect((await op(plain, 'release')).json()).toMatchObject({ status_name: 'Ready' });
  });

  it('fails the erasing with the script name and its output in error_description and an event', async () => {
    const sid = await deployed();
    expect((await op(sid, 'release', { erase: 'true' })).status).toBe(200);
    const key = await boot(sid);
    const [script] = await releaseScripts(key);
    const id = String(script.script_result_id);
    expect((await signal(h, key, { status: 'RELEASING' })).status).toBe(200);
    const out = 'vda: overwritten with zeros\nsdb: [Errno 5] Input/output error\n';
    expect((await signal(h, key, { status: 'WORKING', script_result_id: id, exit_status: '1', runtime: '3' }, { 'wipe-disks': out, 'wipe-disks.out': 'vda: overwritten with zeros\n', 'wipe-disks.err': 'sdb: [Errno 5] Input/output error\n' })).status).toBe(200);
    expect((await signal(h, key, { status: 'FAILED', error: '1 release scripts failed to run' })).status).toBe(200);

    const after = await get(sid);
    expect(after.status_name).toBe('Failed disk erasing');
    expect(after.error_description).toBe(
      'Disk erasing failed: 1 release scripts failed to run; release scripts failed: wipe-disks (vda: overwritten with zeros | sdb: [Errno 5] Input/output error)',
    );
    expect(after.owner).toBe('admin');
    expect(await events(sid)).toContain(`Failed disk erasing: ${after.error_description}`);
    // cloud-init's final event afterwards changes nothing (its token is gone: the run is over).
    await cloudInitFinished(key, sid);
    expect((await get(sid)).status_name).toBe('Failed disk erasing');
    // Releasing again from Failed disk erasing is allowed (table 1.4.2).
    expect((await op(sid, 'release', { erase: 'true', quick_erase: 'true' })).json()).toMatchObject({ status_name: 'Disk erasing' });
  });

  it('runs release scripts: Releasing while the ephemeral environment runs them (with wipe-disks when erasing), Ready after; a failing one fails the release naming it', async () => {
    // An operator's release script, uploaded as the maas CLI does (script_type release, a parameter).
    const text = [
      '#!/bin/sh',
      '# --- Start MAAS 1.0 script metadata ---',
      '# name: scrub-bmc-users',
      '# script_type: release',
      '# tags: [scrub]',
      '# timeout: 60',
      '# parameters:',
      '#   keep: {type: string, default: admin}',
      '# --- End MAAS 1.0 script metadata ---',
      'echo "removing BMC users but $1"',
      '',
    ].join('\n');
    const form = new FormData();
    form.set('name', 'scrub-bmc-users');
    form.set('script', new Blob([text]), 'scrub-bmc-users.sh');
    const up = await fetch(`${h.baseUrl}${API}/scripts/`, { method: 'POST', body: form, headers: { authorization: RegionHarness.oauthHeader(admin) } });
    expect(up.status).toBe(200);

    // Unknown names are refused, naming them; nothing changes.
    const sid = await deployed();
    const bad = await op(sid, 'release', { scripts: 'scrub-bmc-users,no-such-script' });
    expect(bad.status).toBe(400);
    expect(bad.json()).toEqual({ scripts: ['Select a valid choice. no-such-script is not one of the available choices.'] });
    expect((await get(sid)).status_name).toBe('Deployed');

    // By tag, with a parameter, and erasing: Releasing (not Disk erasing), both scripts in the run.
    const r = await op(sid, 'release', { scripts: 'scrub', keep: 'ops', erase: 'true', quick_erase: 'true' });
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ status_name: 'Releasing', osystem: '' });
    const key = await boot(sid);
    expect(key.purpose).toBe('release');
    const scripts = await releaseScripts(key);
    expect(scripts.map((x) => x.name).sort()).toEqual(['scrub-bmc-users', 'wipe-disks']);
    const scrub = scripts.find((x) => x.name === 'scrub-bmc-users')!;
    expect(scrub.parameters.keep.value).toBe('ops');
    expect(scripts.find((x) => x.name === 'wipe-disks')!.parameters.quick_erase.value).toBe('true');
    expect((await signal(h, key, { status: 'RELEASING' })).status).toBe(200);
    for (const x of scripts) {
      const id = String(x.script_result_id);
      expect((await signal(h, key, { status: 'WORKING', script_result_id: id, exit_status: '0', runtime: '1' }, { [x.name]: 'done\n' })).status).toBe(200);
    }
    expect((await signal(h, key, { status: 'OK', error: 'All scripts successfully ran' })).status).toBe(200);
    expect((await get(sid)).status_name).toBe('Releasing');
    expect((await cloudInitFinished(key, sid)).status).toBe(204);
    expect(await get(sid)).toMatchObject({ status_name: 'Ready', owner: null });
    expect(await events(sid)).toEqual(expect.arrayContaining([expect.stringMatching(/^Releasing: Release with release scripts requested by admin/)]));

    // scripts=wipe-disks alone is an erase (Disk erasing, the settings' options).
    const wiped = await deployed();
    expect((await op(wiped, 'release', { scripts: 'wipe-disks' })).json()).toMatchObject({ status_name: 'Disk erasing' });
    expect((await releaseScripts(await boot(wiped))).map((x) => x.name)).toEqual(['wipe-disks']);
    // scripts=none is a plain release.
    const plain = await deployed();
    expect((await op(plain, 'release', { scripts: 'none' })).json()).toMatchObject({ status_name: 'Ready' });

    // A release script that fails: Failed releasing, naming it; the owner keeps the machine.
    const failing = await deployed();
    expect((await op(failing, 'release', { scripts: 'scrub-bmc-users' })).json()).toMatchObject({ status_name: 'Releasing' });
    const fkey = await boot(failing);
    const [only] = await releaseScripts(fkey);
    expect(only.name).toBe('scrub-bmc-users');
    await signal(h, fkey, { status: 'RELEASING' });
    await signal(h, fkey, { status: 'WORKING', script_result_id: String(only.script_result_id), exit_status: '3', runtime: '1' }, { 'scrub-bmc-users': 'BMC unreachable\n' });
    expect((await signal(h, fkey, { status: 'FAILED', error: '1 release scripts failed to run' })).status).toBe(200);
    const after = await get(failing);
    expect(after).toMatchObject({ status_name: 'Releasing failed', owner: 'admin' });
    expect(after.error_description).toBe('Releasing failed: 1 release scripts failed to run; release scripts failed: scrub-bmc-users (BMC unreachable)');
  });

  it('refuses erasing where release is refused, on an unconfigured power type, and with a bad flag, changing nothing', async () => {
    const created = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64/generic', mac_addresses: nextMac(), power_type: 'manual', commission: 'false' });
    const fresh = (created.json() as Machine).system_id;
    const beforeNew = await get(fresh);
    const r = await op(fresh, 'release', { erase: 'true' });
    expect(r.status).toBe(409);
    expect(r.text).toBe("Machine cannot be released in its current state ('New').");
    expect(await get(fresh)).toEqual(beforeNew);

    const noPower = await deployed('');
    const before = await get(noPower);
    const u = await op(noPower, 'release', { erase: 'true' });
    expect(u.status).toBeGreaterThanOrEqual(400);
    expect(u.text).toContain('Unconfigured power type');
    expect(await get(noPower)).toEqual(before);

    const sid = await deployed();
    const bad = await op(sid, 'release', { erase: 'true', quick_erase: 'sometimes' });
    expect(bad.status).toBe(400);
    expect(bad.json()).toEqual({ quick_erase: ["'sometimes' is not a boolean."] });
    expect((await get(sid)).status_name).toBe('Deployed');
    const [{ sets }] = await h.ds.query(`SELECT count(*)::int AS sets FROM script_sets s JOIN machines m ON m.id = s.machine_id WHERE m.system_id = $1`, [sid]);
    expect(sets).toBe(0);
  });

  it('rescue mode from Deployed: the ephemeral environment with SSH and the owner key, Rescue mode on its signal, exit back to Deployed', async () => {
    const sid = await deployed();
    const r = await op(sid, 'rescue_mode');
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ status_name: 'Entering rescue mode', owner: 'admin' });
    const key = await boot(sid);
    const ud = await h.call(key, 'GET', `${MD}/2012-03-01/user-data`);
    const script = Buffer.from(ud.text.split('Content-Disposition: attachment; filename="user_data.sh"\n\n')[1].split('\n--')[0].replace(/\n/g, ''), 'base64').toString();
    expect(script).toContain('systemctl start ssh.service');
    expect(script).toContain('--phase=rescue');
    expect((await h.call(key, 'GET', `${MD}/2012-03-01/meta-data/public-keys`)).text).toBe('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKilnRescueKey admin@kiln');
    const pre = await h.call(null, 'GET', `${MD}/latest/by-id/${sid}/?op=get_preseed`);
    expect(pre.text).not.toContain('power_state');
    // The runner finds nothing to run and says OK: the machine is in rescue mode.
    expect((await h.call(key, 'GET', `${MD}/2012-03-01/maas-scripts`)).status).toBe(204);
    expect((await signal(h, key, { status: 'OK', error: 'All scripts successfully ran' })).status).toBe(200);
    expect((await get(sid)).status_name).toBe('Rescue mode');

    const x = await op(sid, 'exit_rescue_mode');
    expect(x.status).toBe(200);
    expect(x.json()).toMatchObject({ status_name: 'Deployed', owner: 'admin' });
    expect(await events(sid)).toEqual(expect.arrayContaining(['Rescue mode: Rescue mode entered']));
    const [{ live }] = await h.ds.query(`SELECT count(*)::int AS live FROM node_tokens t JOIN machines m ON m.id = t.machine_id WHERE m.system_id = $1 AND t.revoked IS NULL`, [sid]);
    expect(live).toBe(0);
  });

  it('rescue mode from Ready and Broken returns there; refused while commissioning', async () => {
    const created = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64/generic', mac_addresses: nextMac(), power_type: 'manual' });
    const busy = (created.json() as Machine).system_id;
    expect((await get(busy)).status_name).toBe('Commissioning');
    const refused = await op(busy, 'rescue_mode');
    expect(refused.status).toBe(409);
    expect(refused.text).toBe('Invalid transition: Commissioning -> Entering rescue mode.');
    expect((await get(busy)).status_name).toBe('Commissioning');

    const ready = await deployed();
    expect((await op(ready, 'release')).json()).toMatchObject({ status_name: 'Ready' });
    expect((await op(ready, 'rescue_mode')).json()).toMatchObject({ status_name: 'Entering rescue mode' });
    await signal(h, await boot(ready), { status: 'WORKING' });
    expect((await get(ready)).status_name).toBe('Rescue mode');
    expect((await op(ready, 'exit_rescue_mode')).json()).toMatchObject({ status_name: 'Ready' });

    const broken = await deployed();
    expect((await op(broken, 'mark_broken', { comment: 'disk noise' })).json()).toMatchObject({ status_name: 'Broken' });
    expect((await op(broken, 'rescue_mode')).json()).toMatchObject({ status_name: 'Entering rescue mode' });
    await signal(h, await boot(broken), { status: 'OK' });
    expect((await op(broken, 'exit_rescue_mode')).json()).toMatchObject({ status_name: 'Broken' });
  });
});
