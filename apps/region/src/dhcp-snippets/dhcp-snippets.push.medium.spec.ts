import { DhcpConfigUpdate, DhcpUpdate, GetDhcpConfig, RegisterRack } from '@kiln/contracts';
import { pollUntil } from '@kiln/testing';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';

describe('DHCP snippets reach the racks with the DHCP configuration', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let subnetId: number;
  const pushed: DhcpUpdate[] = [];

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    await h.bus.request(RegisterRack, ['snip-rack'], { rackId: 'snip-rack', hostname: 'snip-rack', interfaces: [{ name: 'eth1', mac: '52:54:00:5e:00:01', addresses: [] }] });
    h.bus.onPush(DhcpConfigUpdate, ['snip-rack'], (u) => void pushed.push(u));
    const fabric = (await h.call(admin, 'POST', `${API}/fabrics/`, {})).json() as { vlans: { id: number }[] };
    const vlan = fabric.vlans[0].id;
    subnetId = ((await h.call(admin, 'POST', `${API}/subnets/`, { cidr: '10.55.0.0/24', vlan: String(vlan), gateway_ip: '10.55.0.1' })).json() as { id: number }).id;
    await h.call(admin, 'POST', `${API}/ipranges/`, { type: 'dynamic', start_ip: '10.55.0.100', end_ip: '10.55.0.150' });
    const on = await h.call(admin, 'PUT', `${API}/vlans/${vlan}/`, { dhcp_on: 'true', primary_rack: 'snip-rack' });
    if (on.status !== 200) throw new Error(on.text);
    await pollUntil(() => pushed, (l) => l.length === 1, { what: 'the first DHCP update' });
  });
  afterAll(() => h.stop());

  const served = async () => (await h.bus.request(GetDhcpConfig, ['snip-rack'], { rackId: 'snip-rack' })).subnets.find((s) => s.id === subnetId)!;

  it('pushes global snippet options to every served subnet, and subnet snippets over them', async () => {
    expect(await served()).not.toHaveProperty('ntpServers');
    const g = await h.call(admin, 'POST', `${API}/dhcp-snippets/`, { name: 'ntp', value: 'option ntp-servers 10.55.0.1; option domain-name "lab.example";' });
    expect(g.status).toBe(200);
    const [u] = await pollUntil(() => pushed.slice(1), (l) => l.length === 1, { what: 'the update the global snippet causes' });
    expect(u.ops).toEqual([{ op: 'upsertSubnet', subnet: expect.objectContaining({ id: subnetId, ntpServers: ['10.55.0.1'], domain: 'lab.example', gateway: '10.55.0.1' }) }]);

    const s = await h.call(admin, 'POST', `${API}/dhcp-snippets/`, {
      name: 'search',
      subnet: String(subnetId),
      value: 'option domain-search "lab.example", "example.com"; option ntp-servers 10.55.0.9;',
    });
    expect(s.status).toBe(200);
    await pollUntil(() => pushed.length, (n) => n === 3, { what: 'the update the subnet snippet causes' });
    expect(await served()).toMatchObject({ ntpServers: ['10.55.0.9'], domainSearch: ['lab.example', 'example.com'], domain: 'lab.example' });

    // Disabling and deleting take the options back out.
    const sid = (s.json() as { id: number }).id;
    expect((await h.call(admin, 'PUT', `${API}/dhcp-snippets/${sid}/`, { enabled: 'false' })).status).toBe(200);
    await pollUntil(() => pushed.length, (n) => n === 4, { what: 'the update disabling causes' });
    expect(await served()).toMatchObject({ ntpServers: ['10.55.0.1'] });
    expect(await served()).not.toHaveProperty('domainSearch');
    expect((await h.call(admin, 'DELETE', `${API}/dhcp-snippets/${(g.json() as { id: number }).id}/`)).status).toBe(204);
    await pollUntil(() => pushed.length, (n) => n === 5, { what: 'the update deleting causes' });
    const after = await served();
    expect(after).not.toHaveProperty('ntpServers');
    expect(after.domain).toBe('maas');
  });
});
