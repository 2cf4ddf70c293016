import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';

type Json = Record<string, unknown>;

/**
 * Allocation by networking constraints (reference 2.7): subnets/not_subnets with MAAS's
 * specifiers, fabrics, fabric_classes, vlans and their not_ forms, and the labelled interfaces
 * constraint with constraints_by_type.interfaces, against the real database.
 */
describe('allocation by networking constraints', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  const net = { fabricA: '', fabricB: '', vlanA: 0, vlanA30: 0, vlanB: 0, subnetA: 0, subnetA30: 0 };
  const m = { a: '', a30: '', b: '', bare: '' };
  let macs = 0;

  const ok = async (method: string, path: string, body: Record<string, string> = {}) => {
    const r = await h.call(admin, method, `${API}/${path}`, body);
    if (r.status !== 200) throw new Error(`${method} ${path} → ${r.status} ${r.text}`);
    return r.json() as Json & { id: number; name: string; vlans?: { id: number; vid: number }[] };
  };

  /** A Ready machine with eth0 (and optionally eth1) on the given VLANs (null: none); links eth0 STATIC to a subnet if given. */
  async function machine(vlans: (number | null)[], link?: { subnet: number; ip: string }, tags: string[] = []): Promise<string> {
    const names = ['eth0', 'eth1'];
    const macList = vlans.map(() => `52:54:00:a7:00:${(macs++).toString(16).padStart(2, '0')}`);
    const created = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64/generic', mac_addresses: macList, power_type: 'manual', deployed: 'true' });
    expect(created.status).toBe(200);
    const sid = (created.json() as { system_id: string }).system_id;
    expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=release`)).json()).toMatchObject({ status_name: 'Ready' });
    for (const [i, mac] of macList.entries()) {
      await h.ds.query(`UPDATE interfaces SET name = $2, vlan_id = $3, tags = $4 WHERE mac_address = $1`, [mac, names[i], vlans[i], i === 0 ? tags : []]);
    }
    if (link) {
      const [eth0]: { id: number }[] = await h.ds.query(`SELECT id FROM interfaces WHERE mac_address = $1`, [macList[0]]);
      const r = await h.call(admin, 'POST', `${API}/nodes/${sid}/interfaces/${eth0.id}/?op=link_subnet`, { mode: 'STATIC', subnet: String(link.subnet), ip_address: link.ip });
      expect(r.status).toBe(200);
    }
    return sid;
  }

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    const fa = await ok('POST', 'fabrics/', { name: 'fabric-a', class_type: '10g' });
    const fb = await ok('POST', 'fabrics/', { name: 'fabric-b', class_type: '1g' });
    net.fabricA = fa.name;
    net.fabricB = fb.name;
    net.vlanA = fa.vlans!.find((v) => v.vid === 0)!.id;
    net.vlanB = fb.vlans!.find((v) => v.vid === 0)!.id;
    net.vlanA30 = (await ok('POST', `fabrics/${fa.id}/vlans/`, { vid: '30', name: 'storage' })).id;
    const space = await ok('POST', 'spaces/', { name: 'public' });
    await ok('PUT', `vlans/${net.vlanA}/`, { space: String(space.id) });
    net.subnetA = (await ok('POST', 'subnets/', { cidr: '10.92.0.0/24', vlan: String(net.vlanA), name: 'sub-a', gateway_ip: '10.92.0.1' })).id;
    net.subnetA30 = (await ok('POST', 'subnets/', { cidr: '10.92.30.0/24', vlan: String(net.vlanA30), gateway_ip: '10.92.30.1' })).id;
    m.a = await machine([net.vlanA], { subnet: net.subnetA, ip: '10.92.0.20' }, ['uplink']);
    m.a30 = await machine([net.vlanA, net.vlanA30], { subnet: net.subnetA, ip: '10.92.0.21' });
    m.b = await machine([net.vlanB]);
    m.bare = await machine([null]);
  }, 120_000);
  afterAll(() => h.stop());

  /** Every machine matching: lists them through GET machines/ with the same filters (the listing shares them). */
  async function listed(filters: Record<string, string | string[]>): Promise<string[]> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) for (const x of Array.isArray(v) ? v : [v]) q.append(k, x);
    const r = await h.call(admin, 'GET', `${API}/machines/?${q}`);
    expect(r.status).toBe(200);
    return (r.json() as { system_id: string }[]).map((x) => x.system_id).sort();
  }

  it('matches subnets by every MAAS specifier, and not_subnets excludes them', async () => {
    const both = [m.a, m.a30].sort();
    expect(await listed({ subnets: String(net.subnetA) })).toEqual(both);
    expect(await listed({ subnets: `id:${net.subnetA}` })).toEqual(both);
    expect(await listed({ subnets: '10.92.0.0/24' })).toEqual(both);
    expect(await listed({ subnets: 'cidr:10.92.0.0/24' })).toEqual(both);
    expect(await listed({ subnets: 'name:sub-a' })).toEqual(both);
    expect(await listed({ subnets: 'ip:10.92.0.77' })).toEqual(both);
    expect(await listed({ subnets: `fabric:${net.fabricA}` })).toEqual(both);
    expect(await listed({ subnets: 'space:public' })).toEqual(both);
    expect(await listed({ subnets: 'vid:0' })).toEqual(both);
    expect(await listed({ subnets: 'cidr:10.92.30.0/24' })).toEqual([]);
    expect(await listed({ not_subnets: 'sub-a' })).toEqual([m.b, m.bare].sort());
  });

  it('matches fabrics, fabric classes and VLANs on the interfaces, and their not_ forms', async () => {
    expect(await listed({ fabrics: net.fabricA })).toEqual([m.a, m.a30].sort());
    expect(await listed({ fabrics: [net.fabricA, net.fabricB] })).toEqual([m.a, m.a30, m.b].sort());
    expect(await listed({ not_fabrics: net.fabricA })).toEqual([m.b, m.bare].sort());
    expect(await listed({ fabric_classes: '1g' })).toEqual([m.b]);
    expect(await listed({ not_fabric_classes: '10g' })).toEqual([m.b, m.bare].sort());
    expect(await listed({ vlans: 'vid:30' })).toEqual([m.a30]);
    expect(await listed({ vlans: 'name:storage' })).toEqual([m.a30]);
    expect(await listed({ not_vlans: `id:${net.vlanA30}` })).toEqual([m.a, m.b, m.bare].sort());
  });

  it('allocates by interface labels, each label its own interface, and says which in constraints_by_type', async () => {
    const r = await h.call(admin, 'POST', `${API}/machines/?op=allocate`, { interfaces: `public:space=public;storage:vid=30`, dry_run: 'true' });
    expect(r.status).toBe(200);
    const got = r.json() as { system_id: string; constraints_by_type: { interfaces: Record<string, number[]> }; interface_set: { id: number; name: string }[] };
    expect(got.system_id).toBe(m.a30);
    const byName = new Map(got.interface_set.map((i) => [i.name, i.id]));
    expect(got.constraints_by_type.interfaces).toEqual({ public: [byName.get('eth0')], storage: [byName.get('eth1')] });

    // Two labels one interface could meet, on a machine with one interface: refused (each label needs its own).
    const one = await h.call(admin, 'POST', `${API}/machines/?op=allocate`, { interfaces: `x:tag=uplink;y:fabric=${net.fabricA}`, system_id: m.a, dry_run: 'true' });
    expect(one.status).toBe(409);
    const tagged = await h.call(admin, 'POST', `${API}/machines/?op=allocate`, { interfaces: 'x:tag=uplink,ip=10.92.0.20', dry_run: 'true' });
    expect((tagged.json() as { system_id: string }).system_id).toBe(m.a);
    // Nothing meets it: 409 with the constraint repeated.
    const none = await h.call(admin, 'POST', `${API}/machines/?op=allocate`, { interfaces: 'x:vid=99' });
    expect(none.status).toBe(409);
    expect(none.text).toContain('interfaces=x:vid=99');
  });

  it('refuses malformed specifiers with 400 naming the constraint, and allocates nothing', async () => {
    for (const [field, value] of [
      ['subnets', 'bogus:1'],
      ['subnets', 'ip:not-an-ip'],
      ['vlans', 'vid:5000'],
      ['interfaces', 'no-colon'],
      ['interfaces', 'a:colour=red'],
      ['interfaces', 'a:mode=static'],
    ] as const) {
      const r = await h.call(admin, 'POST', `${API}/machines/?op=allocate`, { [field]: value });
      expect({ field, value, status: r.status }).toEqual({ field, value, status: 400 });
      expect(Object.keys(r.json() as Json)).toEqual([field]);
    }
    const [{ n }]: { n: string }[] = await h.ds.query(`SELECT count(*) AS n FROM machines WHERE owner_id IS NOT NULL`);
    expect(Number(n)).toBe(0);
  });
});
