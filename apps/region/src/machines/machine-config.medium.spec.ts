import { ApiKey, RegionHarness } from '../testing/region.harness';
import { registerDeployableImage } from '../testing/boot-images.fixture';

type Machine = Record<string, unknown> & { system_id: string; hostname: string; status: number; status_name: string };
type Special = { fstype: string; label: null; uuid: string; mount_point: string; mount_options: string };

const API = '/MAAS/api/2.0';
let macCounter = 0;
const nextMac = () => `52:54:00:cc:${(++macCounter >> 8).toString(16).padStart(2, '0')}:${(macCounter & 255).toString(16).padStart(2, '0')}`;

/** MachineHandler's configuration operations: storage layout, special filesystems, restore_*, curtin config, details, token. */
describe('machine configuration against a real region', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let alice: ApiKey;
  let bob: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    // Deploy installs only releases the region holds an image of.
    await registerDeployableImage(h, { version: 'test' });
    await registerDeployableImage(h, { name: 'ubuntu/jammy', version: 'test' });
    alice = await h.createUser('alice', false);
    bob = await h.createUser('bob', false);
  });
  afterAll(() => h.stop());

  async function readyMachine(disks = true): Promise<Machine> {
    const created = await h.call(admin, 'POST', `${API}/machines/`, {
      architecture: 'amd64/generic',
      mac_addresses: nextMac(),
      power_type: 'manual',
      deployed: 'true',
    });
    expect(created.status).toBe(200);
    const m = created.json() as Machine;
    if (disks) {
      await h.ds.query(
        `INSERT INTO block_devices (machine_id, name, size, model, serial, is_boot, tags)
         SELECT id, 'sda', 100000000000, 'QEMU HARDDISK', 'QM0001', true, '{}'::text[] FROM machines WHERE system_id = $1
         UNION ALL SELECT id, 'sdb', 50000000000, 'SSD', 'S0002', false, '{ssd}'::text[] FROM machines WHERE system_id = $1`,
        [m.system_id],
      );
    }
    const released = await h.call(admin, 'POST', `${API}/machines/${m.system_id}/?op=release`);
    expect(released.json()).toMatchObject({ status_name: 'Ready' });
    return released.json() as Machine;
  }

  async function diskIds(systemId: string): Promise<Record<string, number>> {
    const rows: { name: string; id: number }[] = await h.ds.query(
      'SELECT b.name, b.id FROM block_devices b JOIN machines m ON m.id = b.machine_id WHERE m.system_id = $1',
      [systemId],
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.id]));
  }

  async function setStatus(systemId: string, status: number): Promise<void> {
    await h.ds.query('UPDATE machines SET status = $2 WHERE system_id = $1', [systemId, status]);
  }

  async function events(systemId: string) {
    const r = await h.call(admin, 'GET', `${API}/events/?op=query&id=${systemId}&level=DEBUG`);
    return (r.json() as { events: { type: string; description: string }[] }).events;
  }

  const op = (key: ApiKey, sid: string, name: string, body?: Record<string, string>, method = 'POST') =>
    h.call(key, method, `${API}/machines/${sid}/?op=${name}`, body);

  it('sets a storage layout on a Ready machine, validated against its block devices, and says so in an event', async () => {
    const bare = await readyMachine(false);
    const none = await op(admin, bare.system_id, 'set_storage_layout', { storage_layout: 'flat' });
    expect(none.status).toBe(400);
    expect(none.text).toBe('Machine is missing a boot disk; no storage layout can be applied.');

    const m = await readyMachine();
    const sid = m.system_id;
    const ids = await diskIds(sid);
    const missing = await op(admin, sid, 'set_storage_layout');
    expect(missing.status).toBe(400);
    expect(missing.json()).toEqual({ storage_layout: ['This field is required.'] });
    const unknown = await op(admin, sid, 'set_storage_layout', { storage_layout: 'zfs' });
    expect(unknown.status).toBe(400);
    expect(unknown.json()).toEqual({
      storage_layout: ["'zfs' is not a valid storage_layout.  It should be one of: 'flat', 'lvm', 'bcache', 'vmfs6', 'vmfs7', 'custom', 'blank'."],
    });
    const badDevice = await op(admin, sid, 'set_storage_layout', { storage_layout: 'flat', root_device: 'sdz', root_size: 'lots' });
    expect(badDevice.status).toBe(400);
    expect(badDevice.json()).toEqual({
      root_device: [`'sdz' is not a valid root_device.  It should be one of: '${ids.sda}', '${ids.sdb}'.`],
      root_size: ['Enter a valid value.'],
    });
    const custom = await op(admin, sid, 'set_storage_layout', { storage_layout: 'custom' });
    expect(custom.status).toBe(400);
    expect(custom.text).toBe("Failed to configure storage layout 'custom': No custom storage layout configuration found");

    const ok = await op(admin, sid, 'set_storage_layout', { storage_layout: 'lvm', root_device: 'sdb', vg_name: 'vg0', lv_size: '20G' });
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({ system_id: sid, status_name: 'Ready' });
    const [row] = await h.ds.query('SELECT storage_layout FROM machines WHERE system_id = $1', [sid]);
    expect(row.storage_layout).toEqual({
      layout: 'lvm',
      boot_size: null,
      root_device: ids.sdb,
      root_size: null,
      vg_name: 'vg0',
      lv_name: null,
      lv_size: 20e9,
    });
    const ev = (await events(sid)).find((e) => e.type === 'Storage layout set')!;
    expect(ev.description).toBe("Storage layout set to 'lvm' (root_device=sdb, vg_name=vg0, lv_size=20000000000) by admin");

    expect((await op(alice, sid, 'set_storage_layout', { storage_layout: 'flat' })).status).toBe(403);
    expect((await op(admin, 'nosuch', 'set_storage_layout', { storage_layout: 'flat' })).status).toBe(404);
    await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { system_id: sid });
    const allocated = await op(admin, sid, 'set_storage_layout', { storage_layout: 'flat' });
    expect(allocated.status).toBe(409);
    expect(allocated.text).toBe('Cannot change the storage layout on a machine that is not Ready.');
  });

  it('mounts and unmounts special filesystems on Ready and Allocated machines, with MAAS errors', async () => {
    const m = await readyMachine();
    const sid = m.system_id;
    const mounted = await op(admin, sid, 'mount_special', { fstype: 'tmpfs', mount_point: '/scratch', mount_options: ' size=1G ' });
    expect(mounted.status).toBe(200);
    const specials = (mounted.json() as { special_filesystems: Special[] }).special_filesystems;
    expect(specials).toEqual([{ fstype: 'tmpfs', label: null, uuid: expect.stringMatching(/^[0-9a-f-]{36}$/), mount_point: '/scratch', mount_options: 'size=1G' }]);
    // The listing (its own JSON writer) shows the same.
    const listed = ((await h.call(admin, 'GET', `${API}/machines/?id=${sid}`)).json() as { special_filesystems: Special[] }[])[0];
    expect(listed.special_filesystems).toEqual(specials);

    const empty = await op(admin, sid, 'mount_special');
    expect(empty.status).toBe(400);
    expect(empty.json()).toEqual({ fstype: ['This field is required.'], mount_point: ['This field is required.'] });
    const bad = await op(admin, sid, 'mount_special', { fstype: 'ext4', mount_point: 'relative/path' });
    expect(bad.json()).toEqual({
      fstype: ['Select a valid choice. ext4 is not one of the available choices.'],
      mount_point: ['Enter a valid value.'],
    });
    const twice = await op(admin, sid, 'mount_special', { fstype: 'ramfs', mount_point: '/scratch' });
    expect(twice.status).toBe(400);
    expect(twice.json()).toEqual({ mount_point: ['A special filesystem is already mounted at this path.'] });
    const notThere = await op(admin, sid, 'unmount_special', { mount_point: '/nowhere' });
    expect(notThere.status).toBe(400);
    expect(notThere.json()).toEqual({ mount_point: ['No special filesystem is mounted at this path.'] });

    // While alice holds the machine, her mounts are hers: bob may not touch them, and release drops them.
    await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { system_id: sid });
    expect((await op(alice, sid, 'mount_special', { fstype: 'ramfs', mount_point: '/cache' })).status).toBe(200);
    expect((await op(bob, sid, 'unmount_special', { mount_point: '/cache' })).status).toBe(403);
    const released = await h.call(alice, 'POST', `${API}/machines/${sid}/?op=release`);
    expect((released.json() as { special_filesystems: Special[] }).special_filesystems.map((f) => f.mount_point)).toEqual(['/scratch']);

    const unmounted = await op(admin, sid, 'unmount_special', { mount_point: '/scratch' });
    expect(unmounted.status).toBe(200);
    expect((unmounted.json() as { special_filesystems: Special[] }).special_filesystems).toEqual([]);
    const types = (await events(sid)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['Filesystem mounted', 'Filesystem unmounted']));

    await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { system_id: sid });
    await h.call(alice, 'POST', `${API}/machines/${sid}/?op=deploy`);
    const deploying = await op(alice, sid, 'mount_special', { fstype: 'tmpfs', mount_point: '/x' });
    expect(deploying.status).toBe(409);
    expect(deploying.text).toBe('Cannot mount the filesystem because the machine is not Ready or Allocated.');
    const deployingUnmount = await op(alice, sid, 'unmount_special', { mount_point: '/x' });
    expect(deployingUnmount.status).toBe(409);
    expect(deployingUnmount.text).toBe('Cannot unmount the filesystem because the machine is not Ready or Allocated.');
  });

  it('restores storage, networking and default configuration on Ready or Failed testing machines only', async () => {
    const m = await readyMachine();
    const sid = m.system_id;
    await op(admin, sid, 'set_storage_layout', { storage_layout: 'bcache' });
    await op(admin, sid, 'mount_special', { fstype: 'tmpfs', mount_point: '/scratch' });
    const storage = await op(admin, sid, 'restore_storage_configuration');
    expect(storage.status).toBe(200);
    expect(storage.json()).toMatchObject({ system_id: sid, special_filesystems: [] });
    const [row] = await h.ds.query('SELECT storage_layout FROM machines WHERE system_id = $1', [sid]);
    expect(row.storage_layout).toBeNull();
    let ev = await events(sid);
    expect(ev.find((e) => e.type === 'Storage configuration restored')!.description).toBe(
      "Storage configuration restored to the default flat layout, dropping the 'bcache' layout and 1 special filesystem (/scratch) by admin",
    );

    const networking = await op(admin, sid, 'restore_networking_configuration');
    expect(networking.status).toBe(200);
    ev = await events(sid);
    expect(ev.find((e) => e.type === 'Networking configuration restored')!.description).toBe(
      'Networking configuration restored to the interfaces commissioning discovered, dropping 0 bond, bridge or VLAN interfaces and 0 subnet links (by admin)',
    );

    await setStatus(sid, 22); // Failed testing
    const dflt = await op(admin, sid, 'restore_default_configuration');
    expect(dflt.status).toBe(200);
    expect(dflt.json()).toMatchObject({ status_name: 'Failed testing' });
    expect((await events(sid)).find((e) => e.type === 'Default configuration restored')).toBeDefined();

    expect((await op(alice, sid, 'restore_storage_configuration')).status).toBe(403);
    await setStatus(sid, 10); // Allocated
    const refusals: [string, string][] = [
      ['restore_networking_configuration', 'Machine must be in a ready or failed testing state to restore networking configuration'],
      ['restore_storage_configuration', 'Machine must be in a ready or failed testing state to restore storage configuration.'],
      ['restore_default_configuration', 'Machine must be in a ready or failed testing state to restore default networking and storage configuration.'],
    ];
    for (const [name, text] of refusals) {
      const r = await op(admin, sid, name);
      expect(r.status).toBe(409);
      expect(r.text).toBe(text);
    }
  });

  it('renders the curtin configuration of deploying, deployed and failed deployments only', async () => {
    const m = await readyMachine();
    const sid = m.system_id;
    const ready = await op(admin, sid, 'get_curtin_config', undefined, 'GET');
    expect(ready.status).toBe(400);
    expect(ready.text).toBe(`Machine ${m.hostname} is not in a deployment state.`);

    await op(admin, sid, 'set_storage_layout', { storage_layout: 'lvm' });
    await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { system_id: sid });
    await h.call(alice, 'POST', `${API}/machines/${sid}/?op=deploy`, { distro_series: 'jammy' });
    const r = await op(alice, sid, 'get_curtin_config', undefined, 'GET');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(r.text.split('\n')[0]).toBe(`# curtin configuration of ${m.hostname}: ubuntu/jammy on amd64/generic`);
    expect(r.text).toContain('\nstorage:\n');
    expect(r.text).toContain('type: lvm_volgroup');
    const mac = (m.interface_set as { mac_address: string }[])[0].mac_address;
    expect(r.text).toContain(`mac_address: "${mac}"`);
    expect((await op(bob, sid, 'get_curtin_config', undefined, 'GET')).status).toBe(403);

    await setStatus(sid, 11); // Failed deployment
    expect((await op(alice, sid, 'get_curtin_config', undefined, 'GET')).status).toBe(200);
    await setStatus(sid, 6); // Deployed
    expect((await op(alice, sid, 'get_curtin_config', undefined, 'GET')).status).toBe(200);
  });

  it('deploys lvm and bcache layouts, and refuses a blank layout at deploy with a 400 naming it', async () => {
    for (const layout of ['lvm', 'bcache']) {
      const { system_id: sid } = await readyMachine();
      expect((await op(admin, sid, 'set_storage_layout', { storage_layout: layout })).status).toBe(200);
      await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { system_id: sid });
      const deployed = await h.call(alice, 'POST', `${API}/machines/${sid}/?op=deploy`, { distro_series: 'jammy' });
      expect(deployed.status).toBe(200);
      expect(deployed.json()).toMatchObject({ status_name: 'Deploying' });
      expect((await op(alice, sid, 'get_curtin_config', undefined, 'GET')).text).toContain(layout === 'lvm' ? 'type: lvm_partition' : 'type: bcache');
    }

    const m = await readyMachine();
    const sid = m.system_id;
    expect((await op(admin, sid, 'set_storage_layout', { storage_layout: 'blank' })).status).toBe(200);
    await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { system_id: sid });
    const refused = await h.call(alice, 'POST', `${API}/machines/${sid}/?op=deploy`, { distro_series: 'jammy' });
    expect(refused.status).toBe(400);
    expect(refused.json()).toEqual({ storage_layout: [`The 'blank' storage layout of ${m.hostname} cannot be deployed: it mounts no filesystem at /.`] });
    // Nothing changed: still Allocated, no release chosen.
    const after = (await h.call(alice, 'GET', `${API}/machines/${sid}/`)).json() as Machine;
    expect(after).toMatchObject({ status_name: 'Allocated' });
  });

  it('answers details as BSON, get_token as null, and clear_default_gateways with the machine', async () => {
    const m = await readyMachine();
    const sid = m.system_id;
    const res = await fetch(`${h.baseUrl}${API}/machines/${sid}/?op=details`, { headers: { authorization: RegionHarness.oauthHeader(alice) } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/bson');
    expect(Buffer.from(await res.arrayBuffer()).toString('hex')).toBe('110000000a6c736877000a6c6c64700000');
    expect((await op(admin, 'nosuch', 'details', undefined, 'GET')).status).toBe(404);

    const token = await op(admin, sid, 'get_token', undefined, 'GET');
    expect(token.status).toBe(200);
    expect(token.json()).toBeNull();
    expect((await op(alice, sid, 'get_token', undefined, 'GET')).status).toBe(403);

    const gw = await op(admin, sid, 'clear_default_gateways');
    expect(gw.status).toBe(200);
    expect(gw.json()).toMatchObject({ system_id: sid, default_gateways: { ipv4: { gateway_ip: null, link_id: null } } });
    expect((await op(alice, sid, 'clear_default_gateways')).status).toBe(403);
  });

  it('lists the new operations in describe/', async () => {
    const d = (await h.call(null, 'GET', `${API}/describe/`)).json() as {
      resources: { name: string; auth: null | { actions: { name: string; method: string }[] } }[];
    };
    const actions = d.resources.find((x) => x.name === 'MachineHandler')!.auth!.actions;
    const byName = new Map(actions.map((a) => [a.name, a.method]));
    for (const [name, method] of [
      ['set_storage_layout', 'POST'],
      ['mount_special', 'POST'],
      ['unmount_special', 'POST'],
      ['clear_default_gateways', 'POST'],
      ['restore_networking_configuration', 'POST'],
      ['restore_storage_configuration', 'POST'],
      ['restore_default_configuration', 'POST'],
      ['get_curtin_config', 'GET'],
      ['details', 'GET'],
      ['get_token', 'GET'],
    ]) {
      expect(byName.get(name)).toBe(method);
    }
  });
});
