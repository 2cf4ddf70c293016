import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
type Snippet = Record<string, unknown> & { id: number };

describe('dhcp-snippets/ and dhcp-snippets/{id}/', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let user: ApiKey;
  let subnetId: number;
  let systemId: string;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    user = await h.createUser('user', false);
    const fabric = (await h.call(admin, 'POST', `${API}/fabrics/`, {})).json() as { vlans: { id: number }[] };
    const subnet = await h.call(admin, 'POST', `${API}/subnets/`, { cidr: '10.44.0.0/24', vlan: String(fabric.vlans[0].id) });
    subnetId = (subnet.json() as { id: number }).id;
    const m = await h.call(admin, 'POST', `${API}/machines/`, { mac_addresses: '52:54:00:44:00:01', architecture: 'amd64/generic', power_type: 'manual', hostname: 'snip' });
    if (m.status !== 200) throw new Error(m.text);
    systemId = (m.json() as { system_id: string }).system_id;
  });
  afterAll(() => h.stop());

  const create = (body: Record<string, string>, key: ApiKey = admin) => h.call(key, 'POST', `${API}/dhcp-snippets/`, body);

  it('creates global, subnet and node snippets in MAAS shape, and reads, updates and deletes them', async () => {
    const g = await create({ name: 'ntp', value: 'option ntp-servers 10.44.0.1;', description: 'lab NTP' });
    expect(g.status).toBe(200);
    const global = g.json() as Snippet;
    expect(global).toEqual({
      id: global.id, name: 'ntp', value: 'option ntp-servers 10.44.0.1;', description: 'lab NTP', history: [], enabled: true,
      node: null, subnet: null, iprange: null, global_snippet: true, resource_uri: `${API}/dhcp-snippets/${global.id}/`,
    });
    const s = (await create({ name: 'search', value: 'option domain-search "lab.example";', subnet: '10.44.0.0/24' })).json() as Snippet;
    expect(s).toMatchObject({ global_snippet: false, node: null, subnet: { id: subnetId, cidr: '10.44.0.0/24' } });
    const n = (await create({ name: 'mtu', value: 'option interface-mtu 9000;', enabled: 'false' })).json() as Snippet;
    expect(n).toMatchObject({ global_snippet: true, node: null, subnet: null, enabled: false });

    expect(((await h.call(user, 'GET', `${API}/dhcp-snippets/`)).json() as Snippet[]).map((x) => x.id)).toEqual([global.id, s.id, n.id]);
    expect((await h.call(user, 'GET', `${API}/dhcp-snippets/${s.id}/`)).json()).toEqual(s);
    const u = (await h.call(admin, 'PUT', `${API}/dhcp-snippets/${n.id}/`, { enabled: 'true', subnet: '10.44.0.0/24' })).json();
    expect(u).toMatchObject({ enabled: true, global_snippet: false, subnet: { id: subnetId } });
    const back = (await h.call(admin, 'PUT', `${API}/dhcp-snippets/${n.id}/`, { global_snippet: 'true' })).json();
    expect(back).toMatchObject({ global_snippet: true, subnet: null });
    expect((await h.call(admin, 'DELETE', `${API}/dhcp-snippets/${n.id}/`)).status).toBe(204);
    expect((await h.call(admin, 'GET', `${API}/dhcp-snippets/${n.id}/`)).status).toBe(404);
  });

  it('refuses statements the DHCP server cannot apply, bad scopes and non-administrators', async () => {
    const unsupported = await create({ name: 'pxe', value: 'option ntp-servers 10.0.0.1;\nfilename "pxelinux.0";' });
    expect(unsupported.status).toBe(400);
    expect((unsupported.json() as { value: string[] }).value[0]).toMatch(/cannot apply 'filename "pxelinux.0"'/);
    expect((await create({ name: 'x', value: 'option routers 10.44.0.1;', subnet: '10.99.0.0/24' })).json()).toHaveProperty('subnet');
    expect((await create({ name: 'x', value: 'option routers 10.44.0.1;', node: 'nope' })).json()).toHaveProperty('node');
    const perNode = await create({ name: 'x', value: 'option routers 10.44.0.1;', node: systemId });
    expect(perNode.status).toBe(400);
    expect(perNode.json()).toEqual({ node: [expect.stringContaining('does not apply per-node options yet')] });
    expect((await create({ name: 'x', value: 'option routers 10.44.0.1;', iprange: '1' })).json()).toHaveProperty('iprange');
    expect(Object.keys((await create({})).json() as object).sort()).toEqual(['name', 'value']);
    expect((await create({ name: 'x', value: 'option routers 10.44.0.1;' }, user)).status).toBe(403);
    const ok = (await create({ name: 'fine', value: 'option routers 10.44.0.1;' })).json() as Snippet;
    expect((await h.call(admin, 'PUT', `${API}/dhcp-snippets/${ok.id}/`, { value: 'next-server 10.0.0.1;' })).status).toBe(400);
    expect((await h.call(user, 'DELETE', `${API}/dhcp-snippets/${ok.id}/`)).status).toBe(403);
    expect((await h.call(user, 'DELETE', `${API}/dhcp-snippets/99999/`)).status).toBe(404);
  });
});
