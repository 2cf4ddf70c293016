import { registerDeployableImage } from '../testing/boot-images.fixture';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
const MIB = 1024 * 1024;
type Json = Record<string, unknown>;
type Device = Json & { id: number; name: string; size: number; available_size: number; used_size: number; used_for: string; partitions: Json[] };
let macCounter = 0;
const nextMac = () => `52:54:00:dd:${(++macCounter >> 8).toString(16).padStart(2, '0')}:${(macCounter & 255).toString(16).padStart(2, '0')}`;

/** nodes/{id}/blockdevices/, partitions and volume-groups through HTTP against a real region. */
describe('machine storage against a real region', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let alice: ApiKey;
  let bob: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    // Deploy checks that the region holds the release it is asked for.
    await registerDeployableImage(h, { name: 'ubuntu/jammy', version: 'test' });
    admin = await h.createUser('admin', true);
    alice = await h.createUser('alice', false);
    bob = await h.createUser('bob', false);
  });
  afterAll(() => h.stop());

  /** A Ready amd64 machine (BIOS boot) with a 100 GB boot disk sda and a 50 GB sdb. */
  async function readyMachine(): Promise<{ sid: string; sda: number; sdb: number }> {
    const created = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64/generic', mac_addresses: nextMac(), power_type: 'manual', deployed: 'true' });
    expect(created.status).toBe(200);
    const sid = (created.json() as { system_id: string }).system_id;
    const rows: { name: string; id: number }[] = await h.ds.query(
      `INSERT INTO block_devices (machine_id, name, size, model, serial, is_boot, tags)
       SELECT id, 'sda', 100000000000, 'QEMU HARDDISK', 'QM0001', true, '{}'::text[] FROM machines WHERE system_id = $1
       UNION ALL SELECT id, 'sdb', 50000000000, 'SSD', 'S0002', false, '{ssd}'::text[] FROM machines WHERE system_id = $1
       RETURNING name, id`,
      [sid],
    );
    const released = await h.call(admin, 'POST', `${API}/machines/${sid}/?op=release`);
    expect(released.json()).toMatchObject({ status_name: 'Ready' });
    const ids = Object.fromEntries(rows.map((r) => [r.name, r.id]));
    return { sid, sda: ids.sda, sdb: ids.sdb };
  }

  const setStatus = (sid: string, status: number, ownerOf?: string) =>
    h.ds.query(`UPDATE machines SET status = $2, owner_id = (SELECT id FROM users WHERE username = $3) WHERE system_id = $1`, [sid, status, ownerOf ?? null]);
  const dev = (sid: string, id: number) => `${API}/nodes/${sid}/blockdevices/${id}/`;
  const read = async (sid: string, id: number) => (await h.call(admin, 'GET', dev(sid, id))).json() as Device;

  it('lists and reads block devices field by field as MAAS does', async () => {
    const { sid, sda } = await readyMachine();
    const list = await h.call(alice, 'GET', `${API}/nodes/${sid}/blockdevices/`);
    expect(list.status).toBe(200);
    const devices = list.json() as Device[];
    expect(devices.map((d) => d.name)).toEqual(['sda', 'sdb']);
    expect(Object.keys(devices[0]).sort()).toEqual(
      [
        'system_id', 'id', 'name', 'uuid', 'type', 'path', 'model', 'serial', 'id_path', 'size', 'block_size', 'available_size', 'used_size', 'used_for',
        'tags', 'filesystem', 'partition_table_type', 'partitions', 'firmware_version', 'storage_pool', 'numa_node', 'resource_uri',
      ].sort(),
    );
    expect(devices[0]).toMatchObject({
      id: sda,
      type: 'physical',
      path: '/dev/disk/by-dname/sda',
      size: 100000000000,
      available_size: 100000000000,
      used_size: 0,
      used_for: 'Unused',
      filesystem: null,
      partition_table_type: null,
      partitions: [],
      resource_uri: `${API}/nodes/${sid}/blockdevices/${sda}/`,
    });
    expect((await h.call(admin, 'GET', dev(sid, 999999))).status).toBe(404);
    expect((await h.call(admin, 'GET', `${API}/nodes/nosuch/blockdevices/`)).status).toBe(404);
  });

  it('creates partitions aligned to 4 MiB against the free space, and shows them on the disk', async () => {
    const { sid, sda } = await readyMachine();
    const parts = `${dev(sid, sda)}partitions/`;
    const first = await h.call(admin, 'POST', parts, { size: String(10 * MIB + 1) });
    expect(first.status).toBe(200);
    const p1 = first.json() as Json & { id: number };
    // sda is the boot disk of a BIOS-booting amd64 machine: GPT's partition 1 is bios_grub.
    expect(p1).toMatchObject({ size: 12 * MIB, type: 'partition', used_for: 'Unused', filesystem: null, device_id: sda, path: '/dev/disk/by-dname/sda-part2', bootable: false });
    expect(p1.resource_uri).toBe(`${API}/nodes/${sid}/blockdevices/${sda}/partition/${p1.id}`);

    let disk = await read(sid, sda);
    // amd64 booting BIOS: 4 MiB offset + 1 MiB end + 1 MiB bios_grub are used with the partition.
    expect(disk.used_size).toBe(12 * MIB + 6 * MIB);
    expect(disk.available_size).toBe(100000000000 - 18 * MIB);
    expect(disk.partition_table_type).toBe('GPT');
    expect(disk.used_for).toBe('GPT partitioned with 1 partition');

    const tooBig = await h.call(admin, 'POST', parts, { size: '100G' });
    expect(tooBig.status).toBe(400);
    expect(Object.keys(tooBig.json() as Json)).toEqual(['size']);
    const bad = await h.call(admin, 'POST', parts, { size: 'lots' });
    expect(bad.status).toBe(400);
    expect(bad.json()).toEqual({ size: ['Enter a whole number.'] });
    const small = await h.call(admin, 'POST', parts, { size: '1000' });
    expect(small.status).toBe(400);

    const rest = await h.call(admin, 'POST', parts);
    expect(rest.status).toBe(200);
    const p2 = rest.json() as { id: number; size: number; path: string };
    expect(p2.size % (4 * MIB)).toBe(0);
    expect(p2.path).toBe('/dev/disk/by-dname/sda-part3');
    disk = await read(sid, sda);
    expect(disk.used_for).toBe('GPT partitioned with 2 partitions');
    expect(disk.available_size).toBeLessThan(4 * MIB);
    expect((await h.call(admin, 'POST', parts, { size: '4M' })).status).toBe(400);

    const listed = await h.call(alice, 'GET', parts);
    expect((listed.json() as Json[]).map((p) => p.id)).toEqual([p1.id, p2.id]);
    expect((await h.call(alice, 'GET', `${dev(sid, sda)}partition/${p2.id}`)).json()).toMatchObject({ id: p2.id });
    expect((await h.call(alice, 'GET', `${dev(sid, sda)}partitions/${p2.id}/`)).json()).toMatchObject({ id: p2.id });

    // Deleting every partition removes the table: the disk is unused again.
    expect((await h.call(admin, 'DELETE', `${dev(sid, sda)}partition/${p2.id}`)).status).toBe(204);
    expect((await h.call(admin, 'DELETE', `${dev(sid, sda)}partition/${p1.id}`)).status).toBe(204);
    expect(await read(sid, sda)).toMatchObject({ used_for: 'Unused', partition_table_type: null, partitions: [], used_size: 0 });
    expect((await h.call(admin, 'GET', `${dev(sid, sda)}partition/${p1.id}`)).status).toBe(404);
  });

  it('formats, mounts, unmounts and unformats disks and partitions, with mount points unique', async () => {
    const { sid, sda, sdb } = await readyMachine();
    const op = (id: number, name: string, body?: Record<string, string>) => h.call(admin, 'POST', `${dev(sid, id)}?op=${name}`, body);

    expect((await op(sdb, 'mount', { mount_point: '/srv' })).text).toBe('Cannot mount an unformatted partition or block device.');
    const badFs = await op(sdb, 'format', { fstype: 'ntfs' });
    expect(badFs.status).toBe(400);
    expect(badFs.json()).toEqual({ fstype: ['Select a valid choice. ntfs is not one of the available choices.'] });
    expect((await op(sdb, 'format')).json()).toEqual({ fstype: ['This field is required.'] });

    const formatted = await op(sdb, 'format', { fstype: 'xfs', label: 'data' });
    expect(formatted.status).toBe(200);
    expect(formatted.json()).toMatchObject({ used_for: 'Unmounted xfs formatted filesystem', used_size: 50000000000, available_size: 0, filesystem: { fstype: 'xfs', label: 'data', mount_point: null } });
    expect((await h.call(admin, 'POST', `${dev(sid, sdb)}partitions/`)).status).toBe(400);

    const relative = await op(sdb, 'mount', { mount_point: 'srv' });
    expect(relative.status).toBe(400);
    expect(Object.keys(relative.json() as Json)).toEqual(['mount_point']);
    const mounted = await op(sdb, 'mount', { mount_point: '/srv', mount_options: 'noatime' });
    expect(mounted.status).toBe(200);
    expect(mounted.json()).toMatchObject({ used_for: 'xfs formatted filesystem mounted at /srv', filesystem: { mount_point: '/srv', mount_options: 'noatime' } });
    expect((await op(sdb, 'unformat')).status).toBe(400);

    // A partition on sda cannot mount on /srv too.
    const part = (await h.call(admin, 'POST', `${dev(sid, sda)}partitions/`, { size: '8G' })).json() as { id: number };
    const pop = (name: string, body?: Record<string, string>) => h.call(admin, 'POST', `${dev(sid, sda)}partition/${part.id}?op=${name}`, body);
    expect((await pop('format', { fstype: 'ext4' })).json()).toMatchObject({ filesystem: { fstype: 'ext4' }, used_for: 'Unmounted ext4 formatted filesystem' });
    const clash = await pop('mount', { mount_point: '/srv' });
    expect(clash.status).toBe(400);
    expect(clash.json()).toEqual({ mount_point: ['Another filesystem is already mounted at /srv.'] });
    expect((await pop('mount', { mount_point: '/' })).json()).toMatchObject({ used_for: 'ext4 formatted filesystem mounted at /' });
    expect((await op(sda, 'format', { fstype: 'ext4' })).text).toBe('Cannot format block device with partitions.');
    expect((await pop('unmount')).json()).toMatchObject({ filesystem: { mount_point: null } });
    expect((await pop('unmount')).text).toBe('Filesystem is already unmounted.');
    expect((await pop('unformat')).json()).toMatchObject({ filesystem: null, used_for: 'Unused' });
    expect((await pop('unformat')).text).toBe('Partition is not formatted.');

    expect((await op(sdb, 'unmount')).status).toBe(200);
    expect((await op(sdb, 'unformat')).json()).toMatchObject({ filesystem: null, used_for: 'Unused' });

    const swap = await op(sdb, 'format', { fstype: 'swap' });
    expect(swap.status).toBe(200);
    expect((await op(sdb, 'mount', {})).json()).toMatchObject({ filesystem: { fstype: 'swap', mount_point: 'none' } });
  });

  it('allows allocated operations on Ready (administrators) and Allocated (owner) machines only', async () => {
    const { sid, sdb } = await readyMachine();
    const fmt = (key: ApiKey) => h.call(key, 'POST', `${dev(sid, sdb)}?op=format`, { fstype: 'ext4' });
    const ready = await fmt(alice);
    expect(ready.status).toBe(403);
    expect(ready.text).toBe("Cannot format block device because you don't have the permissions on a Ready machine.");

    await setStatus(sid, 10, 'alice'); // Allocated to alice
    expect((await fmt(bob)).status).toBe(403);
    expect((await fmt(alice)).status).toBe(200);
    // Ready-only edits refuse an Allocated machine.
    const tag = await h.call(admin, 'POST', `${dev(sid, sdb)}?op=add_tag`, { tag: 'fast' });
    expect(tag.status).toBe(409);
    expect(tag.text).toBe('Cannot update block device because the machine is not Ready.');
    expect((await h.call(admin, 'POST', `${dev(sid, sdb)}?op=set_boot_disk`)).status).toBe(409);

    await setStatus(sid, 6, 'alice'); // Deployed
    const deployed = await fmt(alice);
    expect(deployed.status).toBe(409);
    expect(deployed.text).toBe('Cannot format block device because the machine is not Ready or Allocated.');
    // A deployed machine's physical disk may still be renamed (a replaced disk).
    const renamed = await h.call(admin, 'PUT', dev(sid, sdb), { name: 'sdz', serial: 'NEW1' });
    expect(renamed.status).toBe(200);
    expect(renamed.json()).toMatchObject({ name: 'sdz', serial: 'NEW1' });
  });

  it('edits block devices on Ready machines: create, update, tags, boot disk, delete', async () => {
    const { sid, sda, sdb } = await readyMachine();
    const base = `${API}/nodes/${sid}/blockdevices/`;
    expect((await h.call(alice, 'POST', base, { name: 'sdc', size: '10G', block_size: '512', model: 'M', serial: 'S' })).status).toBe(403);
    const missing = await h.call(admin, 'POST', base, { name: 'sdc' });
    expect(missing.status).toBe(400);
    expect(Object.keys(missing.json() as Json).sort()).toEqual(['__all__', 'block_size', 'size']);
    const created = await h.call(admin, 'POST', base, { name: 'sdc', size: '10G', block_size: '4096', model: 'M', serial: 'S' });
    expect(created.status).toBe(200);
    const sdc = created.json() as Device;
    expect(sdc).toMatchObject({ name: 'sdc', size: 10_000_000_000, block_size: 4096, type: 'physical', model: 'M', serial: 'S' });
    expect((await h.call(admin, 'POST', base, { name: 'sdc', size: '10G', block_size: '512', id_path: '/dev/x' })).status).toBe(400);

    expect((await h.call(admin, 'PUT', dev(sid, sdc.id), { size: '1' })).status).toBe(400);
    expect((await h.call(admin, 'PUT', dev(sid, sdc.id), { name: 'sda' })).json()).toEqual({ name: ['A block device named sda already exists on this machine.'] });
    expect((await h.call(admin, 'PUT', dev(sid, sdc.id), { model: 'M2' })).json()).toMatchObject({ model: 'M2' });

    expect((await h.call(admin, 'POST', `${dev(sid, sdb)}?op=add_tag`, { tag: 'fast' })).json()).toMatchObject({ tags: ['ssd', 'fast'] });
    expect((await h.call(admin, 'POST', `${dev(sid, sdb)}?op=remove_tag`, { tag: 'ssd' })).json()).toMatchObject({ tags: ['fast'] });
    expect((await h.call(admin, 'POST', `${dev(sid, sdb)}?op=add_tag`)).json()).toEqual({ tag: ['This field is required.'] });

    expect((await h.call(admin, 'POST', `${dev(sid, sdb)}?op=set_boot_disk`)).status).toBe(200);
    const machine = (await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as { boot_disk: { id: number } };
    expect(machine.boot_disk.id).toBe(sdb);
    void sda;

    expect((await h.call(admin, 'DELETE', dev(sid, sdc.id))).status).toBe(204);
    expect((await h.call(admin, 'GET', dev(sid, sdc.id))).status).toBe(404);
  });

  it('builds volume groups from unused devices and partitions, with logical volumes sized against the group', async () => {
    const { sid, sda, sdb } = await readyMachine();
    const part = (await h.call(admin, 'POST', `${dev(sid, sda)}partitions/`, { size: '20G' })).json() as { id: number };
    const vgs = `${API}/nodes/${sid}/volume-groups/`;
    expect((await h.call(alice, 'POST', vgs, { name: 'vg0', block_devices: String(sdb) })).status).toBe(403);
    const none = await h.call(admin, 'POST', vgs, { name: 'vg0' });
    expect(none.status).toBe(400);
    const created = await h.call(admin, 'POST', vgs, { name: 'vg0', block_devices: [String(sdb)], partitions: [String(part.id)] });
    expect(created.status).toBe(200);
    const vg = created.json() as Json & { id: number; size: number; available_size: number };
    const partSize = 20_000_000_000 + (4 * MIB - (20_000_000_000 % (4 * MIB)));
    const expected = Math.floor((50_000_000_000 - 4 * MIB) / (4 * MIB)) * 4 * MIB + (partSize - 4 * MIB);
    expect(vg).toMatchObject({ name: 'vg0', size: expected, available_size: expected, used_size: 0, logical_volumes: [], resource_uri: `${API}/nodes/${sid}/volume-group/${vg.id}/` });
    expect((vg.devices as Json[]).map((d) => d.id).sort()).toEqual([sdb, part.id].sort());
    expect(await read(sid, sdb)).toMatchObject({ used_for: 'LVM volume for vg0', filesystem: { fstype: 'lvm-pv' } });
    // A member is in use: it cannot join another group, be formatted or be deleted.
    expect((await h.call(admin, 'POST', vgs, { name: 'vg1', block_devices: String(sdb) })).json()).toEqual({ block_devices: [`Select a valid choice. ${sdb} is not one of the available choices.`] });
    expect((await h.call(admin, 'POST', `${dev(sid, sdb)}?op=format`, { fstype: 'ext4' })).status).toBe(409);
    expect((await h.call(admin, 'POST', `${dev(sid, sdb)}?op=unformat`)).status).toBe(400);
    expect((await h.call(admin, 'DELETE', dev(sid, sdb))).status).toBe(409);
    expect((await h.call(admin, 'DELETE', `${dev(sid, sda)}partition/${part.id}`)).status).toBe(409);

    const vgUrl = `${API}/nodes/${sid}/volume-group/${vg.id}/`;
    const tooBig = await h.call(admin, 'POST', `${vgUrl}?op=create_logical_volume`, { name: 'lv0', size: String(expected + 1) });
    expect(tooBig.status).toBe(400);
    expect(tooBig.json()).toEqual({ size: [`Size is too large. Maximum size is ${expected}.`] });
    const lv = await h.call(admin, 'POST', `${vgUrl}?op=create_logical_volume`, { name: 'lv0', size: '10G' });
    expect(lv.status).toBe(200);
    const lv0 = lv.json() as Device;
    expect(lv0).toMatchObject({ name: 'vg0-lv0', type: 'virtual', path: '/dev/disk/by-dname/vg0-lv0', model: null, serial: null });
    expect(lv0.size % (4 * MIB)).toBe(0);
    expect((await h.call(admin, 'POST', `${dev(sid, lv0.id)}partitions/`)).status).toBe(400);
    expect((await h.call(admin, 'POST', `${dev(sid, lv0.id)}?op=format`, { fstype: 'ext4' })).status).toBe(200);
    const after = (await h.call(alice, 'GET', `${API}/nodes/${sid}/volume-groups/${vg.id}/`)).json() as Json & { used_size: number; available_size: number };
    expect(after.used_size).toBe(lv0.size);
    expect(after.available_size).toBe(expected - lv0.size);
    expect((after.logical_volumes as Json[]).map((d) => d.name)).toEqual(['vg0-lv0']);

    const both = await h.call(admin, 'PUT', vgUrl, { remove_block_devices: String(sdb), remove_partitions: String(part.id) });
    expect(both.status).toBe(400);
    expect(both.json()).toEqual({ __all__: ['Volume group cannot be smaller than its logical volumes.'] });
    expect((await h.call(admin, 'PUT', vgUrl, { remove_partitions: '999999' })).json()).toEqual({ remove_partitions: ['Select a valid choice. 999999 is not one of the available choices.'] });
    const shrunk = await h.call(admin, 'PUT', vgUrl, { remove_partitions: String(part.id) });
    expect(shrunk.status).toBe(200);
    expect((shrunk.json() as { devices: Json[] }).devices.map((d) => d.id)).toEqual([sdb]);
    expect((await h.call(admin, 'GET', `${dev(sid, sda)}partition/${part.id}`)).json()).toMatchObject({ used_for: 'Unused', filesystem: null });
    expect((await h.call(admin, 'PUT', vgUrl, { add_partitions: String(part.id) })).json()).toMatchObject({ size: expected });

    // The machine JSON (read and listing) shows the model: the group stub, the LV, the member's use.
    const machine = (await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as Json & { blockdevice_set: Device[]; virtualblockdevice_set: Device[] };
    const listed = ((await h.call(admin, 'GET', `${API}/machines/`)).json() as (Json & { system_id: string })[]).find((m) => m.system_id === sid)!;
    for (const m of [machine, listed] as (Json & { blockdevice_set: Device[]; virtualblockdevice_set: Device[] })[]) {
      expect(m.volume_groups).toEqual([{ system_id: sid, id: vg.id, __incomplete__: true }]);
      expect(m.raids).toEqual([]);
      expect(m.virtualblockdevice_set.map((d) => d.name)).toEqual(['vg0-lv0']);
      expect(m.blockdevice_set.find((d) => d.id === sdb)).toMatchObject({ used_for: 'LVM volume for vg0' });
      expect(m.blockdevice_set.find((d) => d.id === sda)).toMatchObject({ used_for: 'GPT partitioned with 1 partition', partition_table_type: 'GPT' });
      expect(m.blockdevice_set.find((d) => d.id === sda)!.partitions).toHaveLength(1);
    }
    expect(listed).toEqual(machine);

    const renamed = await h.call(admin, 'PUT', vgUrl, { name: 'data' });
    expect(renamed.json()).toMatchObject({ name: 'data', logical_volumes: [{ name: 'data-lv0' }] });
    expect((await h.call(admin, 'POST', `${vgUrl}?op=delete_logical_volume`, { id: String(lv0.id) })).status).toBe(204);
    expect((await h.call(admin, 'GET', dev(sid, lv0.id))).status).toBe(404);

    await setStatus(sid, 10, 'alice');
    expect((await h.call(admin, 'DELETE', vgUrl)).text).toBe('Cannot delete volume group because the machine is not Ready.');
    await setStatus(sid, 4);
    expect((await h.call(admin, 'DELETE', vgUrl)).status).toBe(204);
    expect(await read(sid, sdb)).toMatchObject({ used_for: 'Unused', filesystem: null });
    expect((await h.call(admin, 'GET', `${API}/nodes/${sid}/volume-groups/`)).json()).toEqual([]);
  });

  it('materializes set_storage_layout (flat, lvm, bcache) into the model the machine JSON shows', async () => {
    const { sid, sda, sdb } = await readyMachine();
    const layout = async (body: Record<string, string>) => {
      const r = await h.call(admin, 'POST', `${API}/machines/${sid}/?op=set_storage_layout`, body);
      expect(r.status).toBe(200);
      return (await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as Json & { blockdevice_set: Device[]; virtualblockdevice_set: Device[] };
    };
    const disk = (m: { blockdevice_set: Device[] }, id: number) => m.blockdevice_set.find((d) => d.id === id)!;

    let m = await layout({ storage_layout: 'flat', boot_size: '1G' });
    let boot = disk(m, sda);
    expect(boot.partition_table_type).toBe('MBR');
    expect(boot.partitions.map((p) => (p.filesystem as Json).mount_point)).toEqual(['/boot', '/']);
    expect(boot.partitions.map((p) => p.path)).toEqual(['/dev/disk/by-dname/sda-part1', '/dev/disk/by-dname/sda-part2']);
    expect(boot.available_size).toBeLessThan(4 * MIB);
    expect(disk(m, sdb).used_for).toBe('Unused');
    expect(m.volume_groups).toEqual([]);

    m = await layout({ storage_layout: 'lvm', vg_name: 'vg', lv_name: 'root', lv_size: '20G' });
    boot = disk(m, sda);
    expect(boot.partitions).toHaveLength(1);
    expect(boot.partitions[0]).toMatchObject({ used_for: 'LVM volume for vg', filesystem: { fstype: 'lvm-pv' } });
    expect(m.volume_groups).toHaveLength(1);
    expect(m.virtualblockdevice_set).toEqual([expect.objectContaining({ name: 'vg-root', size: 20_000_000_000 - (20_000_000_000 % (4 * MIB)), filesystem: expect.objectContaining({ fstype: 'ext4', mount_point: '/' }) })]);
    const vgs = (await h.call(admin, 'GET', `${API}/nodes/${sid}/volume-groups/`)).json() as Json[];
    expect(vgs).toEqual([expect.objectContaining({ name: 'vg', used_size: m.virtualblockdevice_set[0].size })]);

    m = await layout({ storage_layout: 'bcache', cache_device: String(sdb), cache_mode: 'writeback' });
    expect(m.volume_groups).toEqual([]);
    expect(m.bcaches).toHaveLength(1);
    expect(m.cache_sets).toHaveLength(1);
    expect(disk(m, sdb).partitions[0]).toMatchObject({ used_for: 'Cache device for cache0' });
    expect(disk(m, sda).partitions.map((p) => p.used_for)).toEqual(['ext4 formatted filesystem mounted at /boot', 'Backing device for bcache0']);
    expect(m.virtualblockdevice_set).toEqual([expect.objectContaining({ name: 'bcache0', filesystem: expect.objectContaining({ mount_point: '/' }) })]);

    // A layout the model does not lay out leaves the disks unused.
    m = await layout({ storage_layout: 'blank' });
    expect(m.blockdevice_set.map((d) => d.used_for)).toEqual(['Unused', 'Unused']);
    expect(m.virtualblockdevice_set).toEqual([]);
  });

  it('renders the curtin storage config from the model the handlers built', async () => {
    const { sid, sda, sdb } = await readyMachine();
    const root = (await h.call(admin, 'POST', `${dev(sid, sda)}partitions/`, { size: '30G' })).json() as { id: number };
    expect((await h.call(admin, 'POST', `${dev(sid, sda)}partition/${root.id}?op=format`, { fstype: 'ext4', label: 'root' })).status).toBe(200);
    expect((await h.call(admin, 'POST', `${dev(sid, sda)}partition/${root.id}?op=mount`, { mount_point: '/' })).status).toBe(200);
    expect((await h.call(admin, 'POST', `${dev(sid, sdb)}?op=format`, { fstype: 'xfs' })).status).toBe(200);
    expect((await h.call(admin, 'POST', `${dev(sid, sdb)}?op=mount`, { mount_point: '/srv', mount_options: 'noatime' })).status).toBe(200);
    expect((await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { system_id: sid })).status).toBe(200);
    expect((await h.call(alice, 'POST', `${API}/machines/${sid}/?op=deploy`, { distro_series: 'jammy' })).status).toBe(200);
    const r = await h.call(alice, 'GET', `${API}/machines/${sid}/?op=get_curtin_config`);
    expect(r.status).toBe(200);
    // YAML keys are sorted: storage comes last.
    const storage = r.text.slice(r.text.indexOf('\nstorage:\n'));
    expect(storage).toContain('flag: bios_grub');
    expect(storage).toContain('id: sda-part2');
    expect(storage).toContain('fstype: xfs');
    expect(storage).toContain('volume: sdb');
    expect(storage).toContain('path: /srv');
    expect(storage).toContain('options: noatime');
    expect(storage).toContain(`size: "${30_000_000_000 + (4 * MIB - (30_000_000_000 % (4 * MIB)))}B"`);
    expect(storage).not.toContain('lvm_volgroup');
  });

  it('sets up RAIDs, cache sets and bcaches from unused devices, and refuses what MAAS refuses', async () => {
    const { sid, sda, sdb } = await readyMachine();
    const sdc = (await h.call(admin, 'POST', `${API}/nodes/${sid}/blockdevices/`, { name: 'sdc', size: '50G', block_size: '512', model: 'M', serial: 'C' })).json() as Device;
    const node = `${API}/nodes/${sid}`;
    const few = await h.call(admin, 'POST', `${node}/raids/`, { level: 'raid-5', block_devices: [String(sdb), String(sdc.id)] });
    expect(few.status).toBe(400);
    expect(few.json()).toEqual({ __all__: ['RAID level 5 must have at least 3 raid devices and any number of spares.'] });
    expect((await h.call(admin, 'POST', `${node}/raids/`, { level: 'raid-7', block_devices: [String(sdb), String(sdc.id)] })).json()).toEqual({
      level: ['Select a valid choice. raid-7 is not one of the available choices.'],
    });
    expect((await h.call(alice, 'POST', `${node}/raids/`, { level: 'raid-1', block_devices: [String(sdb), String(sdc.id)] })).status).toBe(403);
    const created = await h.call(admin, 'POST', `${node}/raids/`, { level: 'raid-1', block_devices: [String(sdb), String(sdc.id)] });
    expect(created.status).toBe(200);
    const md = created.json() as Json & { id: number; virtual_device: Device };
    expect(md).toMatchObject({ name: 'md0', level: 'raid-1', size: 50_000_000_000 - 128 * 1024, human_size: '50.0 GB', spare_devices: [], resource_uri: `${node}/raid/${md.id}/` });
    expect((md.devices as Json[]).map((d) => d.id)).toEqual([sdb, sdc.id]);
    expect(md.virtual_device).toMatchObject({ name: 'md0', type: 'virtual', size: 50_000_000_000 - 128 * 1024 });
    expect(await read(sid, sdb)).toMatchObject({ used_for: 'Active raid-1 device for md0', filesystem: { fstype: 'raid' } });
    expect((await h.call(alice, 'GET', `${node}/raids/`)).json()).toEqual([expect.objectContaining({ id: md.id })]);
    expect((await h.call(admin, 'PUT', `${node}/raid/${md.id}/`, { name: 'data' })).json()).toMatchObject({ name: 'data', virtual_device: { name: 'data' } });

    // The array is a device: it can be formatted and mounted.
    expect((await h.call(admin, 'POST', `${dev(sid, md.virtual_device.id)}?op=format`, { fstype: 'ext4' })).status).toBe(200);

    // A cache set on a partition of sda, a bcache backed by another partition.
    const cachePart = (await h.call(admin, 'POST', `${dev(sid, sda)}partitions/`, { size: '10G' })).json() as { id: number };
    const backPart = (await h.call(admin, 'POST', `${dev(sid, sda)}partitions/`, { size: '40G' })).json() as { id: number };
    expect((await h.call(admin, 'POST', `${node}/bcache-cache-sets/`, {})).status).toBe(400);
    const csr = await h.call(admin, 'POST', `${node}/bcache-cache-sets/`, { cache_partition: String(cachePart.id) });
    expect(csr.status).toBe(200);
    const cs = csr.json() as Json & { id: number };
    expect(cs).toMatchObject({ name: 'cache0', cache_device: { id: cachePart.id, used_for: 'Cache device for cache0' } });
    const noMode = await h.call(admin, 'POST', `${node}/bcaches/`, { cache_set: String(cs.id), backing_partition: String(backPart.id) });
    expect(noMode.json()).toEqual({ cache_mode: ['This field is required.'] });
    const bc = await h.call(admin, 'POST', `${node}/bcaches/`, { cache_set: String(cs.id), backing_partition: String(backPart.id), cache_mode: 'writeback' });
    expect(bc.status).toBe(200);
    const b = bc.json() as Json & { id: number; size: number };
    expect(b).toMatchObject({ name: 'bcache0', cache_mode: 'writeback', cache_set: { id: cs.id }, backing_device: { id: backPart.id, used_for: 'Backing device for bcache0' }, virtual_device: { name: 'bcache0' } });
    expect(b.size).toBe(40_000_000_000 + (4 * MIB - (40_000_000_000 % (4 * MIB))));
    const inUse = await h.call(admin, 'DELETE', `${node}/bcache-cache-set/${cs.id}/`);
    expect(inUse.status).toBe(409);
    expect(inUse.text).toBe("Cannot delete cache set; it's currently in use by bcache0.");
    const m = (await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as Json;
    expect(m.raids).toEqual([{ system_id: sid, id: md.id, __incomplete__: true }]);
    expect(m.bcaches).toEqual([{ system_id: sid, id: b.id, __incomplete__: true }]);
    expect(m.cache_sets).toEqual([{ system_id: sid, id: cs.id, __incomplete__: true }]);

    expect((await h.call(admin, 'DELETE', `${node}/bcache/${b.id}/`)).status).toBe(204);
    expect((await h.call(admin, 'DELETE', `${node}/bcache-cache-set/${cs.id}/`)).status).toBe(204);
    expect((await h.call(admin, 'GET', `${dev(sid, sda)}partition/${backPart.id}`)).json()).toMatchObject({ used_for: 'Unused' });
    expect((await h.call(admin, 'DELETE', `${node}/raid/${md.id}/`)).status).toBe(204);
    expect(await read(sid, sdb)).toMatchObject({ used_for: 'Unused' });
    expect((await h.call(admin, 'GET', `${node}/raid/${md.id}/`)).status).toBe(404);
  });

  it('lists the storage handlers in describe/ with their operations and parameters', async () => {
    const d = (await h.call(admin, 'GET', `${API}/describe/`)).json() as { resources: { auth: { name: string; actions: { name: string; doc: string }[] } | null }[] };
    const byName = new Map(d.resources.filter((r) => r.auth).map((r) => [r.auth!.name, r.auth!]));
    for (const name of [
      'BlockDevicesHandler', 'BlockDeviceHandler', 'PartitionsHandler', 'PartitionHandler', 'VolumeGroupsHandler', 'VolumeGroupHandler',
      'RaidsHandler', 'RaidHandler', 'BcachesHandler', 'BcacheHandler', 'BcacheCacheSetsHandler', 'BcacheCacheSetHandler',
    ]) {
      expect(byName.has(name)).toBe(true);
    }
    expect(byName.get('BlockDeviceHandler')!.actions.map((a) => a.name).sort()).toEqual(
      ['add_tag', 'delete', 'format', 'mount', 'read', 'remove_tag', 'set_boot_disk', 'unformat', 'unmount', 'update'].sort(),
    );
    const format = byName.get('PartitionHandler')!.actions.find((a) => a.name === 'format')!;
    expect(format.doc).toContain(':param fstype:');
    const lv = byName.get('VolumeGroupHandler')!.actions.find((a) => a.name === 'create_logical_volume')!;
    expect(lv.doc).toContain(':param size:');
  });
});
