import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
const GB = 1_000_000_000;
type Json = Record<string, unknown>;
type Device = { id: number; name: string; size: number; type: string; filesystem: Json | null; partitions: (Json & { size: number; filesystem: Json | null })[]; partition_table_type: string | null };
type Failure = { system_id: string; code: string; message: string };
let macCounter = 0;
const nextMac = () => `52:54:00:c1:${(++macCounter >> 8).toString(16).padStart(2, '0')}:${(macCounter & 255).toString(16).padStart(2, '0')}`;

/** machines op=clone through HTTP against a real region. */
describe('machines op=clone', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let alice: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    alice = await h.createUser('alice', false);
  });
  afterAll(() => h.stop());

  /** A Ready machine with physical disks of these sizes (GB; the first is the boot disk) and one interface eth0. */
  async function readyMachine(disks: number[], names = ['sda', 'sdb', 'sdc']): Promise<{ sid: string; disks: number[] }> {
    const created = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64/generic', mac_addresses: nextMac(), power_type: 'manual', deployed: 'true' });
    expect(created.status).toBe(200);
    const sid = (created.json() as { system_id: string }).system_id;
    const ids: number[] = [];
    for (const [i, size] of disks.entries()) {
      const [row]: { id: number }[] = await h.ds.query(
        `INSERT INTO block_devices (machine_id, name, size, is_boot) SELECT id, $2, $3, $4 FROM machines WHERE system_id = $1 RETURNING id`,
        [sid, names[i], size * GB, i === 0],
      );
      ids.push(row.id);
    }
    const released = await h.call(admin, 'POST', `${API}/machines/${sid}/?op=release`);
    expect(released.json()).toMatchObject({ status_name: 'Ready' });
    return { sid, disks: ids };
  }

  const post = (sid: string, path: string, body?: Record<string, string | string[]>) => h.call(admin, 'POST', `${API}/nodes/${sid}/${path}`, body);
  const devices = async (sid: string) => (await h.call(admin, 'GET', `${API}/nodes/${sid}/blockdevices/`)).json() as Device[];
  const vgs = async (sid: string) => (await h.call(admin, 'GET', `${API}/nodes/${sid}/volume-groups/`)).json() as (Json & { name: string; size: number })[];
  const events = async (sid: string) => ((await h.call(admin, 'GET', `${API}/events/?op=query&id=${sid}`)).json() as { events: { type: string; description: string }[] }).events;
  const clone = (body: Record<string, string | string[]>, who: ApiKey = admin) => h.call(who, 'POST', `${API}/machines/?op=clone`, body);
  const setStatus = (sid: string, status: number) => h.ds.query(`UPDATE machines SET status = $2 WHERE system_id = $1`, [sid, status]);

  /** A source with: sda = 1 GB /boot (ext4) + rest as a VG member; sdb whole in the VG; lv0 (ext4 on /) and lv1 unformatted. */
  async function storageSource(): Promise<{ sid: string; disks: number[] }> {
    const m = await readyMachine([100, 50]);
    const [sda, sdb] = m.disks;
    const boot = (await post(m.sid, `blockdevices/${sda}/partitions/`, { size: '1G' })).json() as { id: number };
    expect((await post(m.sid, `blockdevices/${sda}/partition/${boot.id}?op=format`, { fstype: 'ext4', label: 'boot' })).status).toBe(200);
    expect((await post(m.sid, `blockdevices/${sda}/partition/${boot.id}?op=mount`, { mount_point: '/boot', mount_options: 'noatime' })).status).toBe(200);
    const rest = (await post(m.sid, `blockdevices/${sda}/partitions/`)).json() as { id: number };
    const vg = await post(m.sid, 'volume-groups/', { name: 'vg0', block_devices: [String(sdb)], partitions: [String(rest.id)] });
    expect(vg.status).toBe(200);
    const vgId = (vg.json() as { id: number }).id;
    const lv0 = await post(m.sid, `volume-group/${vgId}/?op=create_logical_volume`, { name: 'lv0', size: '40G' });
    expect(lv0.status).toBe(200);
    const lv0Id = (lv0.json() as { id: number }).id;
    expect((await post(m.sid, `blockdevices/${lv0Id}/?op=format`, { fstype: 'ext4' })).status).toBe(200);
    expect((await post(m.sid, `blockdevices/${lv0Id}/?op=mount`, { mount_point: '/' })).status).toBe(200);
    expect((await post(m.sid, `volume-group/${vgId}/?op=create_logical_volume`, { name: 'lv1', size: '5G' })).status).toBe(200);
    return m;
  }

  /** The storage model as a comparable shape: no ids or uuids, disks by position. */
  async function shape(sid: string) {
    const ds = await devices(sid);
    return {
      devices: ds.map((d) => ({
        type: d.type,
        name: d.type === 'physical' ? undefined : d.name,
        fs: d.filesystem && { fstype: d.filesystem.fstype, mount_point: d.filesystem.mount_point, label: d.filesystem.label },
        table: d.partition_table_type,
        partitions: d.partitions.map((p) => ({ size: p.size, fs: p.filesystem && { fstype: p.filesystem.fstype, mount_point: p.filesystem.mount_point, mount_options: p.filesystem.mount_options } })),
        size: d.type === 'physical' ? undefined : d.size,
      })),
      vgs: (await vgs(sid)).map((g) => ({ name: g.name, size: g.size })),
    };
  }

  it('clones storage: partitions, filesystems, mounts, volume groups and logical volumes, onto larger disks; the boot disk stays the boot disk', async () => {
    const src = await storageSource();
    const dst = await readyMachine([120, 60, 10]);
    const r = await clone({ source: src.sid, destinations: dst.sid, storage: 'true' });
    expect(r.status).toBe(204);
    const want = await shape(src.sid);
    const got = await shape(dst.sid);
    // Same model, the extra destination disk untouched; the VG has sdb whole, so it grows with the larger disk.
    expect(got.vgs.map((g) => g.name)).toEqual(want.vgs.map((g) => g.name));
    expect(got.vgs[0].size).toBeGreaterThan(want.vgs[0].size);
    expect(got.devices.filter((d) => d.type !== 'physical')).toEqual(want.devices.filter((d) => d.type !== 'physical'));
    const physical = (x: typeof got) => x.devices.filter((d) => d.type === 'physical');
    expect(physical(got).slice(0, 2)).toEqual(physical(want));
    expect(physical(got)[2]).toMatchObject({ table: null, partitions: [], fs: null });
    const boot = (await h.call(admin, 'GET', `${API}/machines/${dst.sid}/`)).json() as { boot_disk: { id: number } };
    expect(boot.boot_disk.id).toBe(dst.disks[0]);
    expect((await devices(dst.sid)).find((d) => d.id === dst.disks[0])!.partitions).toHaveLength(2);
    expect(await events(dst.sid)).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Configuration cloned', description: expect.stringContaining(`Cloned storage from`) })]));
    // The source is unchanged.
    expect(await shape(src.sid)).toEqual(want);
  });

  it('replaces what the destination had, and can be repeated', async () => {
    const src = await storageSource();
    const dst = await readyMachine([100, 50]);
    expect((await post(dst.sid, `blockdevices/${dst.disks[1]}/?op=format`, { fstype: 'xfs' })).status).toBe(200);
    expect((await clone({ source: src.sid, destinations: dst.sid, storage: 'true' })).status).toBe(204);
    expect((await clone({ source: src.sid, destinations: dst.sid, storage: 'true' })).status).toBe(204);
    expect(await shape(dst.sid)).toEqual(await shape(src.sid));
  });

  /** A subnet with a machine's eth0 linked STATIC to it, holding the given address (link_subnet, as a user does). */
  async function subnetWithStatic(sid: string, cidr: string, ip: string): Promise<number> {
    const s = await h.call(admin, 'POST', `${API}/subnets/`, { cidr, gateway_ip: cidr.replace(/0\/24$/, '1') });
    expect(s.status).toBe(200);
    const subnetId = (s.json() as { id: number }).id;
    const eth0 = (await ifaces(sid)).find((i) => i.name === 'eth0')!;
    const l = await h.call(admin, 'POST', `${API}/nodes/${sid}/interfaces/${eth0.id}/?op=link_subnet`, { mode: 'STATIC', subnet: String(subnetId), ip_address: ip, default_gateway: 'true' });
    expect(l.status).toBe(200);
    return subnetId;
  }

  /** The machine's interface links: interface, mode, subnet, default gateway and the address. */
  const links = (sid: string): Promise<{ name: string; mode: string; subnet_id: number; default_gateway: boolean; ip: string | null }[]> =>
    h.ds.query(
      `SELECT i.name, l.mode, l.subnet_id, l.default_gateway, host(s.ip) AS ip
         FROM interface_links l JOIN interfaces i ON i.id = l.interface_id JOIN machines m ON m.id = i.machine_id
         LEFT JOIN static_ip_addresses s ON s.id = l.static_ip_id
        WHERE m.system_id = $1 ORDER BY l.id`,
      [sid],
    );

  const ifaces = async (sid: string) =>
    ((await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as { interface_set: { id: number; name: string; mac_address: string; effective_mtu: number; tags: string[]; enabled: boolean }[] }).interface_set;
  const staticIps = (sid: string): Promise<{ name: string; ip: string; subnet_id: number }[]> =>
    h.ds.query(
      `SELECT i.name, host(s.ip) AS ip, s.subnet_id FROM static_ip_addresses s JOIN interfaces i ON i.id = s.interface_id JOIN machines m ON m.id = i.machine_id
        WHERE m.system_id = $1 AND s.alloc_type = 'sticky' ORDER BY s.id`,
      [sid],
    );

  it('clones interfaces: MTU, tags, enabled, VLAN, and subnet links with static addresses re-allocated on the same subnet', async () => {
    const src = await readyMachine([10]);
    const dst = await readyMachine([10]);
    await h.ds.query(`UPDATE interfaces SET mtu = 9000, tags = '{uplink,fast}' WHERE machine_id = (SELECT id FROM machines WHERE system_id = $1)`, [src.sid]);
    const subnetId = await subnetWithStatic(src.sid, '10.77.0.0/24', '10.77.0.2');
    const before = await ifaces(dst.sid);
    const r = await clone({ source: src.sid, destinations: [dst.sid], interfaces: 'true' });
    expect(r.status).toBe(204);
    const after = await ifaces(dst.sid);
    expect(after).toEqual([expect.objectContaining({ name: 'eth0', effective_mtu: 9000, tags: ['uplink', 'fast'], enabled: true, mac_address: before[0].mac_address })]);
    // A new address on the same subnet: not the source's, not the gateway.
    expect(await staticIps(dst.sid)).toEqual([{ name: 'eth0', ip: '10.77.0.3', subnet_id: subnetId }]);
    expect(await staticIps(src.sid)).toEqual([{ name: 'eth0', ip: '10.77.0.2', subnet_id: subnetId }]);
    // The link itself: same mode, subnet and default gateway, holding the new address; the VLAN follows the subnet's.
    expect(await links(dst.sid)).toEqual([{ name: 'eth0', mode: 'static', subnet_id: subnetId, default_gateway: true, ip: '10.77.0.3' }]);
    const vlanOf = async (sid: string) => ((await ifaces(sid))[0] as unknown as { vlan: { id: number } | null }).vlan?.id;
    expect(await vlanOf(dst.sid)).toBe(await vlanOf(src.sid));
    expect(await vlanOf(dst.sid)).toEqual(expect.any(Number));
    expect(await events(dst.sid)).toEqual(expect.arrayContaining([expect.objectContaining({ description: expect.stringContaining('Cloned interfaces from') })]));
    // Storage was not asked for: the destination has none.
    expect((await devices(dst.sid))[0]).toMatchObject({ partitions: [], filesystem: null });
  });

  it('clones storage and interfaces together', async () => {
    const src = await storageSource();
    await h.ds.query(`UPDATE interfaces SET mtu = 4000 WHERE machine_id = (SELECT id FROM machines WHERE system_id = $1)`, [src.sid]);
    const dst = await readyMachine([100, 50]);
    expect((await clone({ source: src.sid, destinations: dst.sid, storage: '1', interfaces: 'true' })).status).toBe(204);
    expect(await shape(dst.sid)).toEqual(await shape(src.sid));
    expect((await ifaces(dst.sid))[0].effective_mtu).toBe(4000);
    expect(await events(dst.sid)).toEqual(expect.arrayContaining([expect.objectContaining({ description: expect.stringContaining('Cloned storage and interfaces from') })]));
  });

  it('refuses a destination disk smaller than the source disk it maps to, naming the disk and both sizes, and changes nothing', async () => {
    const src = await storageSource();
    const dst = await readyMachine([100, 40], ['vda', 'vdb']);
    const r = await clone({ source: src.sid, destinations: dst.sid, storage: 'true' });
    expect(r.status).toBe(400);
    const body = r.json() as { destinations: Failure[]; cloned: string[] };
    expect(body.cloned).toEqual([]);
    expect(body.destinations).toEqual([
      { system_id: dst.sid, code: 'storage', message: 'Destination disk vdb (40000000000 bytes, 40.0 GB) is smaller than source disk sdb (50000000000 bytes, 50.0 GB).' },
    ]);
    expect((await devices(dst.sid)).every((d) => d.partitions.length === 0 && d.filesystem === null)).toBe(true);
    expect(await vgs(dst.sid)).toEqual([]);
  });

  it('refuses a destination whose interface names differ', async () => {
    const src = await readyMachine([10]);
    await h.ds.query(`INSERT INTO interfaces (machine_id, name, mac_address) SELECT id, 'eth1', $2 FROM machines WHERE system_id = $1`, [src.sid, nextMac()]);
    const dst = await readyMachine([10]);
    const r = await clone({ source: src.sid, destinations: dst.sid, interfaces: 'true' });
    expect(r.status).toBe(400);
    expect((r.json() as { destinations: Failure[] }).destinations).toEqual([{ system_id: dst.sid, code: 'networking', message: expect.stringContaining('no interface named eth1') }]);
  });

  it('refuses a machine in use with 409 and the reason, and a locked one', async () => {
    const src = await readyMachine([10]);
    const dst = await readyMachine([10]);
    for (const [status, name] of [
      [10, 'Allocated'],
      [9, 'Deploying'],
      [6, 'Deployed'],
    ] as const) {
      await setStatus(dst.sid, status);
      const r = await clone({ source: src.sid, destinations: dst.sid, storage: 'true' });
      expect(r.status).toBe(409);
      const f = (r.json() as { destinations: Failure[] }).destinations[0];
      expect(f).toMatchObject({ system_id: dst.sid, code: 'state' });
      expect(f.message).toContain(name);
    }
    await setStatus(dst.sid, 2); // Failed commissioning: its hardware is not known well enough (MAAS refuses it too)
    expect((await clone({ source: src.sid, destinations: dst.sid, storage: 'true' })).status).toBe(409);
    await setStatus(dst.sid, 22); // Failed testing: allowed
    expect((await clone({ source: src.sid, destinations: dst.sid, storage: 'true' })).status).toBe(204);
    await setStatus(dst.sid, 4);
    await h.ds.query(`UPDATE machines SET locked = true WHERE system_id = $1`, [dst.sid]);
    const locked = await clone({ source: src.sid, destinations: dst.sid, storage: 'true' });
    expect(locked.status).toBe(409);
    expect(locked.text).toContain('locked');
  });

  it('refuses unknown machines listing them, the source as a destination, no flags, and non-admins', async () => {
    const src = await readyMachine([10]);
    const unknown = await clone({ source: src.sid, destinations: ['nosuch1', src.sid, 'nosuch2'], storage: 'true' });
    expect(unknown.status).toBe(400);
    expect(unknown.json()).toEqual({ destinations: ['Unknown machine(s): nosuch1, nosuch2.'] });
    const noSource = await clone({ source: 'nosuch', destinations: src.sid, storage: 'true' });
    expect(noSource.status).toBe(400);
    expect(noSource.json()).toEqual({ source: ['Unknown machine: nosuch.'] });
    const self = await clone({ source: src.sid, destinations: src.sid, storage: 'true' });
    expect(self.status).toBe(400);
    expect((self.json() as { destinations: Failure[] }).destinations).toEqual([
      { system_id: src.sid, code: 'is-source', message: expect.stringContaining('cannot be a destination machine.') },
    ]);
    const dst = await readyMachine([10]);
    expect((await clone({ source: src.sid, destinations: dst.sid })).json()).toEqual({ __all__: ['Either storage or interfaces must be true.'] });
    expect((await clone({ source: src.sid, destinations: dst.sid, storage: 'maybe' })).status).toBe(400);
    expect((await clone({ source: src.sid, destinations: dst.sid, storage: 'true' }, alice)).status).toBe(403);
    expect((await clone({ destinations: dst.sid, storage: 'true' })).status).toBe(400);
  });

  it('runs clones in opposite directions at the same time without deadlock', async () => {
    const a = await storageSource();
    const b = await readyMachine([100, 50]);
    const replies = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? clone({ source: a.sid, destinations: b.sid, storage: 'true' }) : clone({ source: b.sid, destinations: a.sid, storage: 'true' }))),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(6).fill(204));
    expect(await shape(a.sid)).toEqual(await shape(b.sid));
  });

  it('clones the good destinations of a mixed list and reports the bad ones, leaving them untouched', async () => {
    const src = await storageSource();
    await h.ds.query(`UPDATE interfaces SET mtu = 9000 WHERE machine_id = (SELECT id FROM machines WHERE system_id = $1)`, [src.sid]);
    const good = await readyMachine([100, 50]);
    const small = await readyMachine([100, 10]);
    const busy = await readyMachine([100, 50]);
    await setStatus(busy.sid, 10);
    const r = await clone({ source: src.sid, destinations: [small.sid, good.sid, busy.sid], storage: 'true', interfaces: 'true' });
    expect(r.status).toBe(400);
    const body = r.json() as { destinations: Failure[]; cloned: string[] };
    expect(body.cloned).toEqual([good.sid]);
    expect(body.destinations.map((f) => [f.system_id, f.code])).toEqual([
      [small.sid, 'storage'],
      [busy.sid, 'state'],
    ]);
    expect(body.destinations[0].message).toContain('Destination disk sdb (10000000000 bytes');
    expect(await shape(good.sid)).toEqual(await shape(src.sid));
    expect((await ifaces(good.sid))[0].effective_mtu).toBe(9000);
    for (const bad of [small, busy]) {
      // Nothing half-done: neither the interfaces (checked in the same transaction) nor the disks.
      expect((await ifaces(bad.sid))[0].effective_mtu).toBe(1500);
      expect((await devices(bad.sid)).every((d) => d.partitions.length === 0 && d.filesystem === null)).toBe(true);
      expect((await events(bad.sid)).some((e) => e.type === 'Configuration cloned')).toBe(false);
    }
  });
});
