import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
type Json = Record<string, unknown>;
type Iface = Json & { id: number; name: string; type: string; mac_address: string; parents: string[]; children: string[]; links: (Json & { id: number })[]; vlan: (Json & { id: number }) | null; params: Json | '' };
let macCounter = 0;
const nextMac = () => `52:54:00:1f:${(++macCounter >> 8).toString(16).padStart(2, '0')}:${(macCounter & 255).toString(16).padStart(2, '0')}`;

/** nodes/{system_id}/interfaces/ through HTTP against a real region. */
describe('machine interfaces against a real region', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let alice: ApiKey;
  let bob: ApiKey;
  /** A fabric with its untagged VLAN, a tagged VLAN 30, and a subnet on each; a second fabric's VLAN. */
  const net = { untagged: 0, tagged: 0, otherFabricVlan: 0, subnet: 0, taggedSubnet: 0 };

  const ok = async (key: ApiKey, method: string, path: string, body?: Record<string, string | string[]>) => {
    const r = await h.call(key, method, `${API}/${path}`, body);
    if (r.status !== 200) throw new Error(`${method} ${path} → ${r.status} ${r.text}`);
    return r.json() as Json & { id: number; vlans?: { id: number; vid: number }[] };
  };

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    alice = await h.createUser('alice', false);
    bob = await h.createUser('bob', false);
    const fabric = await ok(admin, 'POST', 'fabrics/', { description: 'ifaces' });
    net.untagged = fabric.vlans!.find((v) => v.vid === 0)!.id;
    net.tagged = (await ok(admin, 'POST', `fabrics/${fabric.id}/vlans/`, { vid: '30' })).id;
    const other = await ok(admin, 'POST', 'fabrics/', { description: 'other' });
    net.otherFabricVlan = (await ok(admin, 'POST', `fabrics/${other.id}/vlans/`, { vid: '31' })).id;
    net.subnet = (await ok(admin, 'POST', 'subnets/', { cidr: '10.91.0.0/24', vlan: String(net.untagged), gateway_ip: '10.91.0.1' })).id;
    net.taggedSubnet = (await ok(admin, 'POST', 'subnets/', { cidr: '10.91.30.0/24', vlan: String(net.tagged), gateway_ip: '10.91.30.1' })).id;
    await ok(admin, 'POST', 'ipranges/', { type: 'dynamic', start_ip: '10.91.0.2', end_ip: '10.91.0.9', subnet: String(net.subnet) });
    await ok(admin, 'POST', 'ipranges/', { type: 'reserved', start_ip: '10.91.0.10', end_ip: '10.91.0.11', subnet: String(net.subnet) });
  });
  afterAll(() => h.stop());

  /** A Ready machine with one physical interface eth0 on the untagged VLAN; its system_id and eth0's id. */
  async function readyMachine(): Promise<{ sid: string; eth0: number }> {
    const created = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64/generic', mac_addresses: nextMac(), power_type: 'manual', deployed: 'true' });
    expect(created.status).toBe(200);
    const sid = (created.json() as { system_id: string }).system_id;
    const released = await h.call(admin, 'POST', `${API}/machines/${sid}/?op=release`);
    expect(released.json()).toMatchObject({ status_name: 'Ready' });
    await h.ds.query(`UPDATE interfaces SET name = 'eth0', vlan_id = $2 WHERE machine_id = (SELECT id FROM machines WHERE system_id = $1)`, [sid, net.untagged]);
    const [row]: { id: number }[] = await h.ds.query(`SELECT i.id FROM interfaces i JOIN machines m ON m.id = i.machine_id WHERE m.system_id = $1`, [sid]);
    return { sid, eth0: row.id };
  }
  const setStatus = (sid: string, status: number, ownerOf?: string) =>
    h.ds.query(`UPDATE machines SET status = $2, owner_id = (SELECT id FROM users WHERE username = $3) WHERE system_id = $1`, [sid, status, ownerOf ?? null]);
  const list = (sid: string) => `${API}/nodes/${sid}/interfaces/`;
  const item = (sid: string, id: number) => `${API}/nodes/${sid}/interfaces/${id}/`;
  const read = async (sid: string, id: number) => (await h.call(admin, 'GET', item(sid, id))).json() as Iface;
  const post = (key: ApiKey, path: string, op: string, body: Record<string, string | string[]> = {}) => h.call(key, 'POST', `${path}?op=${op}`, body);

  it('lists and reads interfaces field by field with the reference shape, and the machine JSON agrees', async () => {
    const { sid, eth0 } = await readyMachine();
    const r = await h.call(alice, 'GET', list(sid));
    expect(r.status).toBe(200);
    const [i] = r.json() as Iface[];
    expect(Object.keys(i).sort()).toEqual(
      [
        'system_id', 'id', 'name', 'type', 'vlan', 'mac_address', 'parents', 'children', 'tags', 'enabled', 'links', 'params', 'discovered', 'effective_mtu',
        'vendor', 'product', 'firmware_version', 'link_connected', 'interface_speed', 'link_speed', 'numa_node', 'sriov_max_vf', 'resource_uri',
      ].sort(),
    );
    expect(i).toMatchObject({ system_id: sid, id: eth0, name: 'eth0', type: 'physical', parents: [], children: [], links: [], params: '', discovered: null, resource_uri: item(sid, eth0) });
    expect(Object.keys(i.vlan!).sort()).toEqual(['id', 'name', 'description', 'vid', 'fabric', 'fabric_id', 'mtu', 'primary_rack', 'secondary_rack', 'dhcp_on', 'external_dhcp', 'relay_vlan', 'space', 'resource_uri'].sort());
    expect(i.vlan).toMatchObject({ id: net.untagged, vid: 0, name: 'untagged' });
    expect(await read(sid, eth0)).toEqual(i);
    const machine = (await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as { interface_set: Iface[] };
    expect(machine.interface_set).toEqual([i]);
    expect((await h.call(admin, 'GET', item(sid, 999999))).status).toBe(404);
    expect((await h.call(admin, 'GET', item(sid, Number.NaN))).status).toBe(404);
    expect((await h.call(admin, 'GET', `${API}/nodes/nosuch/interfaces/`)).status).toBe(404);
  });

  it('creates physical, bond, bridge and VLAN interfaces with their parents, children and params', async () => {
    const { sid, eth0 } = await readyMachine();
    const mac1 = nextMac();
    const eth1 = (await post(admin, list(sid), 'create_physical', { mac_address: mac1.toUpperCase(), name: 'eth1', vlan: String(net.untagged), tags: 'a,b' })).json() as Iface;
    expect(eth1).toMatchObject({ name: 'eth1', type: 'physical', mac_address: mac1, tags: ['a', 'b'], vlan: { id: net.untagged } });

    const bondReply = await post(admin, list(sid), 'create_bond', { name: 'bond0', parents: [String(eth0), String(eth1.id)], bond_mode: '802.3ad', bond_xmit_hash_policy: 'layer3+4' });
    expect(bondReply.status).toBe(200);
    const bond = bondReply.json() as Iface;
    const eth0Mac = (await read(sid, eth0)).mac_address;
    expect(bond).toMatchObject({ name: 'bond0', type: 'bond', mac_address: eth0Mac, parents: ['eth0', 'eth1'], children: [], vlan: { id: net.untagged } });
    expect(bond.params).toEqual({ bond_mode: '802.3ad', bond_miimon: 100, bond_downdelay: 0, bond_updelay: 0, bond_lacp_rate: 'slow', bond_xmit_hash_policy: 'layer3+4', bond_num_grat_arp: 1 });
    expect((await read(sid, eth0)).children).toEqual(['bond0']);

    const vlanIf = (await post(admin, list(sid), 'create_vlan', { parent: String(bond.id), vlan: String(net.tagged) })).json() as Iface;
    expect(vlanIf).toMatchObject({ name: 'bond0.30', type: 'vlan', mac_address: eth0Mac, parents: ['bond0'], vlan: { id: net.tagged, vid: 30 } });
    const bridge = (await post(admin, list(sid), 'create_bridge', { parent: String(vlanIf.id), bridge_stp: 'true' })).json() as Iface;
    expect(bridge).toMatchObject({ name: 'br-bond0.30', type: 'bridge', parents: ['bond0.30'], params: { bridge_type: 'standard', bridge_stp: true, bridge_fd: 15 } });
    expect((await read(sid, bond.id)).children).toEqual(['bond0.30']);

    const names = ((await h.call(admin, 'GET', list(sid))).json() as Iface[]).map((x) => x.name);
    expect(names).toEqual(['eth0', 'eth1', 'bond0', 'bond0.30', 'br-bond0.30']);
    // Deleting the bond takes the VLAN interface and the bridge built on it alone; the members stay.
    expect((await h.call(admin, 'DELETE', item(sid, bond.id))).status).toBe(204);
    expect(((await h.call(admin, 'GET', list(sid))).json() as Iface[]).map((x) => [x.name, x.children])).toEqual([['eth0', []], ['eth1', []]]);
  });

  it('refuses bad creates with 400 naming the field, and nothing is created', async () => {
    const { sid, eth0 } = await readyMachine();
    const other = await readyMachine();
    const count = async () => ((await h.call(admin, 'GET', list(sid))).json() as Iface[]).length;
    const refusals: [string, Record<string, string | string[]>, string][] = [
      ['create_physical', { name: 'eth0', mac_address: nextMac() }, 'name'],
      ['create_physical', {}, 'mac_address'],
      ['create_physical', { mac_address: 'nonsense' }, 'mac_address'],
      ['create_physical', { mac_address: (await read(other.sid, other.eth0)).mac_address }, 'mac_address'],
      ['create_physical', { mac_address: nextMac(), vlan: '999999' }, 'vlan'],
      ['create_bond', { name: 'bond0', bond_mode: 'fastest' , parents: String(eth0) }, 'bond_mode'],
      ['create_bond', { name: 'bond0' }, 'parents'],
      ['create_bond', { name: 'bond0', parents: String(other.eth0) }, 'parents'],
      ['create_vlan', { parent: String(eth0), vlan: String(net.otherFabricVlan) }, 'vlan'],
      ['create_vlan', { parent: String(eth0), vlan: String(net.untagged) }, 'vlan'],
      ['create_vlan', { parent: String(eth0) }, 'vlan'],
      ['create_bridge', {}, 'parent'],
    ];
    for (const [op, body, field] of refusals) {
      const r = await post(admin, list(sid), op, body);
      expect([op, body, r.status]).toEqual([op, body, 400]);
      expect(Object.keys(r.json() as Json)).toContain(field);
    }
    expect(await count()).toBe(1);
    // The same VLAN twice on one parent, and a duplicate name through update.
    expect((await post(admin, list(sid), 'create_vlan', { parent: String(eth0), vlan: String(net.tagged) })).status).toBe(200);
    expect((await post(admin, list(sid), 'create_vlan', { parent: String(eth0), vlan: String(net.tagged), name: 'again' })).status).toBe(400);
    const dup = await h.call(admin, 'PUT', item(sid, eth0), { name: 'eth0.30' });
    expect(dup.status).toBe(400);
    expect(dup.json()).toEqual({ name: [expect.stringContaining("already has an interface named 'eth0.30'")] });
  });

  it('updates name, mac, vlan, mtu, tags and bond params; tags through add_tag/remove_tag', async () => {
    const { sid, eth0 } = await readyMachine();
    const mac = nextMac();
    const u = await h.call(admin, 'PUT', item(sid, eth0), { name: 'lan0', mac_address: mac, vlan: String(net.tagged), mtu: '9000', tags: 'x' });
    expect(u.status).toBe(200);
    expect(u.json()).toMatchObject({ name: 'lan0', mac_address: mac, vlan: { id: net.tagged }, effective_mtu: 9000, tags: ['x'] });
    expect((await post(admin, item(sid, eth0), 'add_tag', { tag: 'y' })).json()).toMatchObject({ tags: ['x', 'y'] });
    expect((await post(admin, item(sid, eth0), 'remove_tag', { tag: 'x' })).json()).toMatchObject({ tags: ['y'] });
    const bond = (await post(admin, list(sid), 'create_bond', { name: 'bond0', parents: String(eth0) })).json() as Iface;
    const b = await h.call(admin, 'PUT', item(sid, bond.id), { bond_mode: 'active-backup', bond_miimon: '200' });
    expect(b.json()).toMatchObject({ params: { bond_mode: 'active-backup', bond_miimon: 200, bond_xmit_hash_policy: 'layer2' } });
    expect((await h.call(admin, 'PUT', item(sid, bond.id), { bond_mode: 'nope' })).status).toBe(400);
    expect((await h.call(admin, 'PUT', item(sid, eth0), { vlan: '999999' })).status).toBe(400);
  });

  it('refuses edits outside New, Ready, Allocated or Broken with 409 naming the status; Deployed takes name only', async () => {
    const { sid, eth0 } = await readyMachine();
    await setStatus(sid, 6, 'alice'); // Deployed
    const r = await post(admin, list(sid), 'create_physical', { mac_address: nextMac() });
    expect(r.status).toBe(409);
    expect(r.text).toContain('Cannot create interface because the machine is not New, Ready, Allocated, or Broken');
    expect(r.text).toContain('Deployed');
    expect((await post(admin, item(sid, eth0), 'link_subnet', { mode: 'DHCP' })).status).toBe(409);
    expect((await h.call(admin, 'DELETE', item(sid, eth0))).status).toBe(409);
    const renamed = await h.call(admin, 'PUT', item(sid, eth0), { name: 'deployed0', mtu: '9000' });
    expect(renamed.status).toBe(200);
    expect(renamed.json()).toMatchObject({ name: 'deployed0', effective_mtu: 1500 });
    await setStatus(sid, 1); // Commissioning
    const c = await post(admin, item(sid, eth0), 'disconnect');
    expect(c.status).toBe(409);
    expect(c.text).toContain('Commissioning');
    expect((await read(sid, eth0)).vlan).not.toBeNull();
  });

  it("keeps other users' machines from them: 403 to read another's, 403 for structure changes by non-admins", async () => {
    const { sid, eth0 } = await readyMachine();
    await setStatus(sid, 10, 'alice'); // Allocated to alice
    expect((await h.call(bob, 'GET', list(sid))).status).toBe(403);
    expect((await h.call(bob, 'GET', item(sid, eth0))).status).toBe(403);
    expect((await post(bob, item(sid, eth0), 'link_subnet', { mode: 'DHCP' })).status).toBe(403);
    expect((await post(alice, list(sid), 'create_physical', { mac_address: nextMac() })).status).toBe(403);
    expect((await post(alice, item(sid, eth0), 'add_tag', { tag: 't' })).status).toBe(403);
    // The owner links her allocated machine's interface.
    const linked = await post(alice, item(sid, eth0), 'link_subnet', { mode: 'dhcp', subnet: String(net.subnet) });
    expect(linked.status).toBe(200);
    expect((linked.json() as Iface).links).toEqual([expect.objectContaining({ mode: 'dhcp', subnet: expect.objectContaining({ id: net.subnet, cidr: '10.91.0.0/24' }) })]);
    expect((linked.json() as Iface).links[0]).not.toHaveProperty('ip_address');
  });

  it('links STATIC addresses: picks the first free outside dynamic and reserved ranges, checks a given one, frees it on unlink and delete', async () => {
    const { sid, eth0 } = await readyMachine();
    expect((await h.call(admin, 'GET', `${API}/machines/`)).status).toBe(200); // renders (and caches) the machine without links
    const a = (await post(admin, item(sid, eth0), 'link_subnet', { mode: 'STATIC', subnet: String(net.subnet), default_gateway: 'true' })).json() as Iface;
    // .1 gateway, .2-.9 dynamic, .10-.11 reserved: the first free is .12.
    expect(a.links).toEqual([expect.objectContaining({ mode: 'static', ip_address: '10.91.0.12', subnet: expect.objectContaining({ id: net.subnet }) })]);
    // Link and its subnet field by field (reference 2.8.1: link {id, mode, subnet, ip_address}; subnet object).
    expect(Object.keys(a.links[0]).sort()).toEqual(['id', 'ip_address', 'mode', 'subnet']);
    expect(Object.keys(a.links[0].subnet as Json).sort()).toEqual(
      ['id', 'name', 'description', 'vlan', 'space', 'cidr', 'gateway_ip', 'dns_servers', 'rdns_mode', 'active_discovery', 'allow_dns', 'allow_proxy', 'managed', 'disabled_boot_architectures', 'resource_uri'].sort(),
    );
    expect(a.links[0].subnet).toMatchObject({ gateway_ip: '10.91.0.1', space: 'undefined', resource_uri: `${API}/subnets/${net.subnet}/`, vlan: { id: net.untagged } });
    const row = await h.ds.query(`SELECT alloc_type, interface_id FROM static_ip_addresses WHERE ip = '10.91.0.12'`);
    expect(row).toEqual([{ alloc_type: 'sticky', interface_id: eth0 }]);
    const machine = (await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as Json;
    expect(machine.ip_addresses).toContain('10.91.0.12');
    // The machines listing (rendered once per render revision) shows the new link too.
    const listed = ((await h.call(admin, 'GET', `${API}/machines/`)).json() as (Json & { system_id: string; interface_set: Iface[] })[]).find((m) => m.system_id === sid)!;
    expect(listed.interface_set).toEqual(machine.interface_set);
    expect(listed.interface_set[0].links[0]).toMatchObject({ ip_address: '10.91.0.12' });
    expect(machine.default_gateways).toEqual({ ipv4: { gateway_ip: '10.91.0.1', link_id: a.links[0].id }, ipv6: { gateway_ip: null, link_id: null } });
    // The installer's network configuration carries the static address and the gateway.
    await setStatus(sid, 6, 'alice');
    const curtin = await h.call(admin, 'GET', `${API}/machines/${sid}/?op=get_curtin_config`);
    expect(curtin.status).toBe(200);
    expect(curtin.text).toMatch(/- address: "10\.91\.0\.12\/24"\n\s+gateway: "10\.91\.0\.1"\n\s+type: static\n/);
    await setStatus(sid, 4);

    const other = await readyMachine();
    const bad: [Record<string, string>, string, string][] = [
      [{ mode: 'STATIC', subnet: String(net.subnet), ip_address: '10.91.0.12' }, 'ip_address', 'already in use'],
      [{ mode: 'STATIC', subnet: String(net.subnet), ip_address: '10.91.0.5' }, 'ip_address', 'dynamic range'],
      [{ mode: 'STATIC', subnet: String(net.subnet), ip_address: '10.92.0.5' }, 'ip_address', 'not in the given subnet'],
      [{ mode: 'STATIC' }, 'subnet', 'required'],
      [{ mode: 'STATIC', subnet: '999999' }, 'subnet', 'valid choice'],
      [{ mode: 'STATIC', subnet: String(net.taggedSubnet) }, 'subnet', 'VLAN'],
      [{ mode: 'SOMETIMES', subnet: String(net.subnet) }, 'mode', 'valid choice'],
      [{ mode: 'DHCP', subnet: String(net.subnet), ip_address: '10.91.0.40' }, 'ip_address', 'mode'],
    ];
    for (const [body, field, text] of bad) {
      const r = await post(admin, item(other.sid, other.eth0), 'link_subnet', body);
      expect([body, r.status]).toEqual([body, 400]);
      expect(JSON.stringify((r.json() as Record<string, string[]>)[field])).toContain(text);
    }
    expect((await read(other.sid, other.eth0)).links).toEqual([]);
    const given = (await post(admin, item(other.sid, other.eth0), 'link_subnet', { mode: 'static', subnet: 'cidr:10.91.0.0/24', ip_address: '10.91.0.40' })).json() as Iface;
    expect(given.links[0]).toMatchObject({ ip_address: '10.91.0.40' });

    // unlink_subnet frees the address; an unknown link id is a 400 naming id.
    expect((await post(admin, item(sid, eth0), 'unlink_subnet', { id: '999999' })).status).toBe(400);
    const unlinked = (await post(admin, item(sid, eth0), 'unlink_subnet', { id: String(a.links[0].id) })).json() as Iface;
    expect(unlinked.links).toEqual([]);
    expect(await h.ds.query(`SELECT 1 FROM static_ip_addresses WHERE ip = '10.91.0.12'`)).toEqual([]);
    // Deleting the interface frees its address too.
    expect((await h.call(admin, 'DELETE', item(other.sid, other.eth0))).status).toBe(204);
    expect(await h.ds.query(`SELECT 1 FROM static_ip_addresses WHERE ip = '10.91.0.40'`)).toEqual([]);
  });

  it('gives machines linking STATIC on one subnet at the same time different addresses', async () => {
    const machines = await Promise.all([readyMachine(), readyMachine(), readyMachine(), readyMachine()]);
    const replies = await Promise.all(machines.map((m) => post(admin, item(m.sid, m.eth0), 'link_subnet', { mode: 'STATIC', subnet: String(net.subnet) })));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const ips = replies.map((r) => (r.json() as Iface).links[0].ip_address);
    expect(new Set(ips).size).toBe(4);
    for (const m of machines) await post(admin, item(m.sid, m.eth0), 'disconnect');
  });

  it('sets the default gateway, and disconnect drops links and the VLAN', async () => {
    const { sid, eth0 } = await readyMachine();
    const eth1 = (await post(admin, list(sid), 'create_physical', { mac_address: nextMac(), vlan: String(net.tagged) })).json() as Iface;
    const auto0 = ((await post(admin, item(sid, eth0), 'link_subnet', { mode: 'AUTO', subnet: String(net.subnet) })).json() as Iface).links[0];
    const auto1 = ((await post(admin, item(sid, eth1.id), 'link_subnet', { mode: 'AUTO', subnet: String(net.taggedSubnet), default_gateway: 'true' })).json() as Iface).links[0];
    const gw = async () => ((await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as { default_gateways: { ipv4: Json } }).default_gateways.ipv4;
    expect(await gw()).toEqual({ gateway_ip: '10.91.30.1', link_id: auto1.id });
    expect((await post(admin, item(sid, eth0), 'set_default_gateway')).status).toBe(200);
    expect(await gw()).toEqual({ gateway_ip: '10.91.0.1', link_id: auto0.id });
    expect((await post(admin, item(sid, eth0), 'set_default_gateway', { link_id: String(auto1.id) })).status).toBe(400);
    const dhcp = (await post(admin, list(sid), 'create_physical', { mac_address: nextMac() })).json() as Iface;
    await post(admin, item(sid, dhcp.id), 'link_subnet', { mode: 'DHCP' });
    expect((await post(admin, item(sid, dhcp.id), 'set_default_gateway')).status).toBe(400);

    const d = await post(admin, item(sid, eth0), 'disconnect');
    expect(d.status).toBe(200);
    expect(d.json()).toMatchObject({ links: [], vlan: null });
    expect(await gw()).toEqual({ gateway_ip: null, link_id: null });
  });

  it('clear_default_gateways forgets the chosen link; restore_networking_configuration drops bonds and links and frees addresses', async () => {
    const { sid, eth0 } = await readyMachine();
    const eth1 = (await post(admin, list(sid), 'create_physical', { mac_address: nextMac() })).json() as Iface;
    const bond = (await post(admin, list(sid), 'create_bond', { name: 'bond0', parents: [String(eth0), String(eth1.id)] })).json() as Iface;
    const linked = (await post(admin, item(sid, bond.id), 'link_subnet', { mode: 'STATIC', subnet: String(net.subnet), ip_address: '10.91.0.77', default_gateway: 'true' })).json() as Iface;
    const machine = async () => (await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as { default_gateways: { ipv4: Json }; interface_set: Iface[] };
    expect((await machine()).default_gateways.ipv4).toEqual({ gateway_ip: '10.91.0.1', link_id: linked.links[0].id });
    expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=clear_default_gateways`)).json()).toMatchObject({ default_gateways: { ipv4: { gateway_ip: null, link_id: null } } });
    expect((await read(sid, bond.id)).links).toHaveLength(1);

    expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=restore_networking_configuration`)).status).toBe(200);
    const after = await machine();
    expect(after.interface_set.map((i) => [i.name, i.type, i.links, i.children])).toEqual([
      ['eth0', 'physical', [], []],
      [eth1.name, 'physical', [], []],
    ]);
    expect(await h.ds.query(`SELECT 1 FROM static_ip_addresses WHERE ip = '10.91.0.77'`)).toEqual([]);
    const [event] = await h.ds.query(
      `SELECT description FROM events WHERE system_id = $1 AND type = 'Networking configuration restored'`,
      [sid],
    );
    expect(event.description).toBe('Networking configuration restored to the interfaces commissioning discovered, dropping 1 bond, bridge or VLAN interface and 1 subnet link (by admin)');
  });

  it('describe/ lists both handlers with their ops and params', async () => {
    const doc = (await h.call(admin, 'GET', `${API}/describe/`)).json() as { resources: { auth: { name: string; uri: string; actions: { name: string; op: string | null; doc: string }[] } | null }[] };
    const handler = (name: string) => doc.resources.map((r) => r.auth).find((a) => a?.name === name)!;
    const ops = (name: string) => handler(name).actions.map((a) => a.op ?? a.name).sort();
    expect(ops('InterfacesHandler')).toEqual(['create_bond', 'create_bridge', 'create_physical', 'create_vlan', 'read'].sort());
    expect(ops('InterfaceHandler')).toEqual(['add_tag', 'delete', 'disconnect', 'link_subnet', 'read', 'remove_tag', 'set_default_gateway', 'unlink_subnet', 'update'].sort());
    expect(handler('InterfaceHandler').uri).toContain('/nodes/{system_id}/interfaces/{id}/');
    expect(handler('InterfaceHandler').actions.find((a) => a.op === 'link_subnet')!.doc).toContain(':param mode:');
  });
});
