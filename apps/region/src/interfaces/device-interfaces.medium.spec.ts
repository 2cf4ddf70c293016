import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
type Json = Record<string, unknown>;
type Link = Json & { id: number; mode: string; ip_address?: string; subnet?: Json & { id: number } };
type Iface = Json & { id: number; name: string; type: string; mac_address: string; tags: string[]; links: Link[]; vlan: (Json & { id: number }) | null; effective_mtu: number };
type Device = Json & { system_id: string; ip_addresses: string[]; interface_set: Iface[] };

/**
 * A device's interfaces through nodes/{system_id}/interfaces/, as Juju drives them for the
 * containers it places on machines: its owner adds interfaces on VLANs and links them to subnets
 * with static addresses; those addresses are the subnet's like any machine's, and are freed when
 * the link, the interface or the device goes.
 */
describe('device interfaces against a real region', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let alice: ApiKey;
  let bob: ApiKey;
  const net = { untagged: 0, tagged: 0, subnet: 0 };

  const call = (key: ApiKey, method: string, path: string, body?: Record<string, string | string[]>) => h.call(key, method, `${API}/${path}`, body);
  const ok = async (key: ApiKey, method: string, path: string, body?: Record<string, string | string[]>) => {
    const r = await call(key, method, path, body);
    if (r.status !== 200) throw new Error(`${method} ${path} → ${r.status} ${r.text}`);
    return r.json() as Json & { id: number; system_id: string; vlans?: { id: number; vid: number }[] };
  };
  const refused = async (key: ApiKey, method: string, path: string, body: Record<string, string | string[]> | undefined, status: number, text?: string) => {
    const r = await call(key, method, path, body);
    expect({ status: r.status, text: r.text }).toEqual({ status, text: text === undefined ? expect.any(String) : expect.stringContaining(text) });
  };
  const device = async (sid: string) => (await ok(admin, 'GET', `devices/${sid}/`)) as unknown as Device;
  const held = async (ip: string) => (await h.ds.query(`SELECT 1 FROM static_ip_addresses WHERE host(ip) = $1`, [ip])).length === 1;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    alice = await h.createUser('alice', false);
    bob = await h.createUser('bob', false);
    const fabric = await ok(admin, 'POST', 'fabrics/', { description: 'containers' });
    net.untagged = fabric.vlans!.find((v) => v.vid === 0)!.id;
    net.tagged = (await ok(admin, 'POST', `fabrics/${fabric.id}/vlans/`, { vid: '40' })).id;
    net.subnet = (await ok(admin, 'POST', 'subnets/', { cidr: '10.93.0.0/24', vlan: String(net.untagged), gateway_ip: '10.93.0.1' })).id;
    await ok(admin, 'POST', 'ipranges/', { type: 'dynamic', start_ip: '10.93.0.2', end_ip: '10.93.0.9', subnet: String(net.subnet) });
  });
  afterAll(() => h.stop());

  it('the owner adds, links, updates, tags and deletes a device\'s interfaces; others are refused', async () => {
    const d = await ok(alice, 'POST', 'devices/', { mac_addresses: '52:54:00:93:00:01', hostname: 'juju-container-0' });
    const ifaces = `nodes/${d.system_id}/interfaces/`;
    const [eth0] = (await ok(alice, 'GET', ifaces)) as unknown as Iface[];
    expect(eth0).toMatchObject({ name: 'eth0', type: 'physical', mac_address: '52:54:00:93:00:01', vlan: null, links: [], resource_uri: `${API}/${ifaces}${eth0.id}/` });

    // Juju's Interface.Update then LinkSubnet STATIC on the device's first interface.
    expect(await ok(alice, 'PUT', `${ifaces}${eth0.id}/`, { name: 'eth0', vlan: String(net.untagged) })).toMatchObject({ vlan: { id: net.untagged } });
    await refused(alice, 'POST', `${ifaces}${eth0.id}/?op=link_subnet`, { mode: 'STATIC', subnet: String(net.subnet), ip_address: '10.93.0.5' }, 400, 'inside a dynamic range');
    const linked = (await ok(alice, 'POST', `${ifaces}${eth0.id}/?op=link_subnet`, { mode: 'STATIC', subnet: String(net.subnet), default_gateway: 'true' })) as unknown as Iface;
    // The first free address outside the dynamic range and the gateway.
    expect(linked.links).toEqual([expect.objectContaining({ mode: 'static', ip_address: '10.93.0.10', subnet: expect.objectContaining({ id: net.subnet }) })]);

    // Device.CreateInterface: a second interface on a VLAN, with tags and an MTU.
    const eth1 = (await ok(alice, 'POST', `${ifaces}?op=create_physical`, { name: 'eth1', mac_address: '52:54:00:93:00:02', vlan: String(net.tagged), tags: 'juju,probe', mtu: '9000' })) as unknown as Iface;
    expect(eth1).toMatchObject({ name: 'eth1', type: 'physical', vlan: { id: net.tagged }, tags: ['juju', 'probe'], effective_mtu: 9000, links: [] });
    expect(await ok(alice, 'POST', `${ifaces}${eth1.id}/?op=add_tag`, { tag: 'extra' })).toMatchObject({ tags: ['juju', 'probe', 'extra'] });
    expect(await ok(alice, 'POST', `${ifaces}${eth1.id}/?op=remove_tag`, { tag: 'probe' })).toMatchObject({ tags: ['juju', 'extra'] });
    const vlanIface = (await ok(alice, 'POST', `${ifaces}?op=create_vlan`, { parent: String(eth0.id), vlan: String(net.tagged) })) as unknown as Iface;
    expect(vlanIface).toMatchObject({ name: 'eth0.40', type: 'vlan', mac_address: '52:54:00:93:00:01' });

    // The device shows its interfaces and addresses as a machine does.
    const shown = await device(d.system_id);
    expect(shown.ip_addresses).toEqual(['10.93.0.10']);
    expect(shown.interface_set.map((i) => i.name)).toEqual(['eth0', 'eth1', 'eth0.40']);
    expect(shown.interface_set[0]).toEqual(await ok(alice, 'GET', `${ifaces}${eth0.id}/`));
    const node = (await ok(admin, 'GET', `nodes/${d.system_id}/`)) as unknown as Device;
    expect(node.interface_set.map((i) => i.id)).toEqual(shown.interface_set.map((i) => i.id));

    // Another user neither sees nor changes them; an administrator may.
    await refused(bob, 'GET', ifaces, undefined, 403, 'view this device');
    await refused(bob, 'POST', `${ifaces}?op=create_physical`, { name: 'eth9', mac_address: '52:54:00:93:00:09', vlan: String(net.untagged) }, 403);
    await refused(bob, 'POST', `${ifaces}${eth1.id}/?op=link_subnet`, { mode: 'DHCP' }, 403);
    await refused(bob, 'DELETE', `${ifaces}${eth1.id}/`, undefined, 403);
    expect(await ok(admin, 'POST', `${ifaces}${eth1.id}/?op=link_subnet`, { mode: 'DHCP' })).toMatchObject({ links: [expect.objectContaining({ mode: 'dhcp' })] });

    // Refusals, each naming the reason.
    await refused(alice, 'POST', `${ifaces}${eth1.id}/?op=link_subnet`, { mode: 'AUTO', subnet: String(net.subnet) }, 400, 'AUTO is for machines');
    await refused(alice, 'POST', `${ifaces}?op=create_physical`, { name: 'eth2', mac_address: '52:54:00:93:00:02', vlan: String(net.untagged) }, 400, 'already in use on juju-container-0');
    await refused(alice, 'POST', `${ifaces}?op=create_physical`, { name: 'eth1', mac_address: '52:54:00:93:00:03' }, 400, "already has an interface named 'eth1'");
    await refused(alice, 'GET', 'nodes/nosuchnode/interfaces/', undefined, 404, 'No Node matches');

    // A machine cannot take the device's address, nor its MAC.
    const m = await ok(admin, 'POST', 'machines/', { architecture: 'amd64/generic', mac_addresses: '52:54:00:93:01:01', power_type: 'manual', deployed: 'true' });
    await ok(admin, 'POST', `machines/${m.system_id}/?op=release`);
    const [{ id: mEth0 }]: { id: number }[] = await h.ds.query(`SELECT i.id FROM interfaces i JOIN machines m ON m.id = i.machine_id WHERE m.system_id = $1`, [m.system_id]);
    await refused(admin, 'POST', `nodes/${m.system_id}/interfaces/${mEth0}/?op=link_subnet`, { mode: 'STATIC', subnet: String(net.subnet), ip_address: '10.93.0.10' }, 400, '10.93.0.10 is already in use');
    await refused(admin, 'POST', `nodes/${m.system_id}/interfaces/?op=create_physical`, { name: 'eth7', mac_address: '52:54:00:93:00:01' }, 400, 'already in use on juju-container-0');
    await refused(admin, 'POST', 'devices/', { mac_addresses: '52:54:00:93:01:01' }, 400, 'already in use on');

    // Unlink frees the address; deleting an interface takes the VLAN interface built on it alone.
    const link = (await ok(alice, 'GET', `${ifaces}${eth0.id}/`)) as unknown as Iface;
    await ok(alice, 'POST', `${ifaces}${eth0.id}/?op=unlink_subnet`, { id: String(link.links[0].id) });
    expect(await held('10.93.0.10')).toBe(false);
    expect((await call(alice, 'DELETE', `${ifaces}${eth1.id}/`)).status).toBe(204);
    expect((await device(d.system_id)).interface_set.map((i) => i.name)).toEqual(['eth0', 'eth0.40']);
    expect((await call(alice, 'DELETE', `${ifaces}${eth0.id}/`)).status).toBe(204);
    expect((await device(d.system_id)).interface_set).toEqual([]);
  });

  it('restoring a device\'s networking keeps one physical interface per MAC and frees its addresses', async () => {
    const d = await ok(alice, 'POST', 'devices/', { mac_addresses: ['52:54:00:93:02:01', '52:54:00:93:02:02'], hostname: 'juju-container-1' });
    const ifaces = `nodes/${d.system_id}/interfaces/`;
    const [eth0, eth1] = (await ok(alice, 'GET', ifaces)) as unknown as Iface[];
    await ok(alice, 'PUT', `${ifaces}${eth0.id}/`, { name: 'lan0', vlan: String(net.untagged) });
    const ip = ((await ok(alice, 'POST', `${ifaces}${eth0.id}/?op=link_subnet`, { mode: 'STATIC', subnet: String(net.subnet) })) as unknown as Iface).links[0].ip_address!;
    await ok(alice, 'POST', `${ifaces}?op=create_bond`, { name: 'bond0', parents: [String(eth1.id)] });
    expect(await held(ip)).toBe(true);
    await ok(alice, 'POST', `devices/${d.system_id}/?op=restore_networking_configuration`);
    const after = await device(d.system_id);
    expect(after.interface_set.map((i) => [i.name, i.type, i.mac_address, i.links.length, i.vlan])).toEqual([
      ['eth0', 'physical', '52:54:00:93:02:01', 0, null],
      ['eth1', 'physical', '52:54:00:93:02:02', 0, null],
    ]);
    expect(after.ip_addresses).toEqual([]);
    expect(await held(ip)).toBe(false);
  });

  it('deleting a device or a machine frees the static addresses their interfaces held', async () => {
    const d = await ok(alice, 'POST', 'devices/', { mac_addresses: '52:54:00:93:03:01', hostname: 'juju-container-2' });
    const [eth0] = (await ok(alice, 'GET', `nodes/${d.system_id}/interfaces/`)) as unknown as Iface[];
    const devIp = ((await ok(alice, 'POST', `nodes/${d.system_id}/interfaces/${eth0.id}/?op=link_subnet`, { mode: 'STATIC', subnet: String(net.subnet) })) as unknown as Iface).links[0].ip_address!;
    expect((await call(alice, 'DELETE', `devices/${d.system_id}/`)).status).toBe(204);
    expect(await held(devIp)).toBe(false);
    expect(await h.ds.query(`SELECT 1 FROM interfaces WHERE mac_address = '52:54:00:93:03:01'`)).toEqual([]);

    const m = await ok(admin, 'POST', 'machines/', { architecture: 'amd64/generic', mac_addresses: '52:54:00:93:03:02', power_type: 'manual', deployed: 'true' });
    await ok(admin, 'POST', `machines/${m.system_id}/?op=release`);
    const [{ id }]: { id: number }[] = await h.ds.query(`SELECT i.id FROM interfaces i JOIN machines m ON m.id = i.machine_id WHERE m.system_id = $1`, [m.system_id]);
    const mIp = ((await ok(admin, 'POST', `nodes/${m.system_id}/interfaces/${id}/?op=link_subnet`, { mode: 'STATIC', subnet: String(net.subnet) })) as unknown as Iface).links[0].ip_address!;
    expect(await held(mIp)).toBe(true);
    expect((await call(admin, 'DELETE', `machines/${m.system_id}/`)).status).toBe(204);
    expect(await held(mIp)).toBe(false);
  });
});
