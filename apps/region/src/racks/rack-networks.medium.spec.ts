import { RegisterRack, ReportRackInterfaces, type RackInterface } from '@kiln/contracts';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';

interface IfaceJson {
  name: string;
  type: string;
  vlan: { id: number; vid: number; fabric: string; fabric_id: number; dhcp_on: boolean; primary_rack: string | null } | null;
  links: { mode: string; ip_address: string; subnet?: { id: number; cidr: string; name: string } }[];
  parents: string[];
  children: string[];
}

/**
 * Networks discovered from the racks: a rack's registration (and every later interface report)
 * creates or links fabrics, VLANs and subnets as MAAS does for a controller's interfaces, and
 * rackcontrollers/ shows the interfaces on their VLANs.
 */
describe('networks discovered from rack interfaces', () => {
  let h: RegionHarness;
  let admin: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
  });

  const register = (rackId: string, interfaces: RackInterface[]) =>
    h.bus.request(RegisterRack, [rackId], { rackId, hostname: `host-${rackId}`, version: '1', architecture: 'amd64', interfaces });
  const report = (rackId: string, interfaces: RackInterface[]) => h.bus.request(ReportRackInterfaces, [rackId], { rackId, interfaces });
  const get = async (path: string) => {
    const r = await h.call(admin, 'GET', `${API}/${path}`);
    expect(r.status).toBe(200);
    return r.json() as never;
  };
  const rackIfaces = async (rackId: string): Promise<Record<string, IfaceJson>> => {
    const rack = (await get(`rackcontrollers/${rackId}/`)) as { interface_set: IfaceJson[] };
    return Object.fromEntries(rack.interface_set.map((i) => [i.name, i]));
  };
  const counts = async () => {
    const [c] = await h.ds.query(`SELECT (SELECT count(*) FROM fabrics)::int AS f, (SELECT count(*) FROM vlans)::int AS v, (SELECT count(*) FROM subnets)::int AS s`);
    return c as { f: number; v: number; s: number };
  };

  const eth0: RackInterface = { name: 'eth0', mac: '52:54:00:aa:00:01', addresses: ['10.30.0.2/24', 'fe80::1/64'], vlan: null };
  const eth0v100: RackInterface = { name: 'eth0.100', mac: '52:54:00:aa:00:01', addresses: ['10.31.0.2/24'], vlan: 100, parent: 'eth0' };
  const lo: RackInterface = { name: 'lo0', mac: '52:54:00:aa:00:09', addresses: ['127.0.0.1/8', '169.254.1.1/16'], vlan: null };

  it('a new network gets a new fabric with its untagged VLAN and the subnet; a tagged interface its VLAN on the same fabric', async () => {
    const before = await counts();
    await register('rack-n1', [eth0, eth0v100, lo]);
    const after = await counts();
    // One fabric, its untagged VLAN, VLAN 100, and two subnets; loopback and link-local made nothing.
    expect(after).toEqual({ f: before.f + 1, v: before.v + 2, s: before.s + 2 });

    const ifaces = await rackIfaces('rack-n1');
    expect(ifaces.eth0.vlan).toMatchObject({ vid: 0, dhcp_on: false });
    expect(ifaces.eth0.type).toBe('physical');
    expect(ifaces.eth0.links).toEqual([expect.objectContaining({ mode: 'static', ip_address: '10.30.0.2', subnet: expect.objectContaining({ cidr: '10.30.0.0/24', name: '10.30.0.0/24' }) })]);
    expect(ifaces.eth0.children).toEqual(['eth0.100']);
    expect(ifaces['eth0.100']).toMatchObject({ type: 'vlan', parents: ['eth0'] });
    expect(ifaces['eth0.100'].vlan).toMatchObject({ vid: 100, fabric_id: ifaces.eth0.vlan!.fabric_id });
    expect(ifaces['eth0.100'].links[0].subnet).toMatchObject({ cidr: '10.31.0.0/24' });
    expect(ifaces.lo0.vlan).toBeNull();
    expect(ifaces.lo0.links).toEqual([]);

    // The same objects through the networking API.
    const subnet = (await get(`subnets/${ifaces.eth0.links[0].subnet!.id}/`)) as { vlan: { id: number; fabric: string } };
    expect(subnet.vlan.id).toBe(ifaces.eth0.vlan!.id);
    const fabric = (await get(`fabrics/${ifaces.eth0.vlan!.fabric_id}/`)) as { name: string; vlans: { vid: number }[] };
    expect(fabric.name).toBe(`fabric-${ifaces.eth0.vlan!.fabric_id}`);
    expect(fabric.vlans.map((v) => v.vid).sort((a, b) => a - b)).toEqual([0, 100]);
  });

  it('the same report twice changes nothing', async () => {
    const before = await counts();
    const [{ interfaces: stored }] = await h.ds.query(`SELECT interfaces FROM rack_controllers WHERE system_id = 'rack-n1'`);
    expect(await report('rack-n1', [eth0, eth0v100, lo])).toEqual({ changed: false });
    await register('rack-n1', [lo, eth0v100, eth0]);
    expect(await counts()).toEqual(before);
    const [{ interfaces: again }] = await h.ds.query(`SELECT interfaces FROM rack_controllers WHERE system_id = 'rack-n1'`);
    expect(again).toEqual(stored);
  });

  it("a second rack's interface on a known subnet joins its VLAN and fabric", async () => {
    const before = await counts();
    await register('rack-n2', [{ name: 'enp1s0', mac: '52:54:00:bb:00:01', addresses: ['10.30.0.3/24'], vlan: null }]);
    expect(await counts()).toEqual(before);
    const n1 = await rackIfaces('rack-n1');
    const n2 = await rackIfaces('rack-n2');
    expect(n2.enp1s0.vlan!.id).toBe(n1.eth0.vlan!.id);
    expect(n2.enp1s0.links[0].subnet!.id).toBe(n1.eth0.links[0].subnet!.id);
  });

  it('a removed interface is dropped; an added one is linked; an unknown rack is told to register', async () => {
    expect(await report('rack-n1', [eth0, { name: 'eth1', mac: '52:54:00:aa:00:02', addresses: ['192.168.77.5/24'], vlan: null }])).toEqual({ changed: true });
    const ifaces = await rackIfaces('rack-n1');
    expect(Object.keys(ifaces).sort()).toEqual(['eth0', 'eth1']);
    expect(ifaces.eth1.vlan).toMatchObject({ vid: 0 });
    expect(ifaces.eth1.vlan!.fabric_id).not.toBe(ifaces.eth0.vlan!.fabric_id);
    expect(ifaces.eth1.links[0].subnet).toMatchObject({ cidr: '192.168.77.0/24' });
    const rack = (await get('rackcontrollers/rack-n1/')) as { ip_addresses: string[] };
    expect(rack.ip_addresses).toEqual(expect.arrayContaining(['10.30.0.2', '192.168.77.5']));
    expect(rack.ip_addresses).not.toContain('10.31.0.2');
    expect(rack.ip_addresses.some((ip) => ip.startsWith('fe80:'))).toBe(false);

    await expect(report('rack-nobody', [eth0])).rejects.toMatchObject({ code: 'UNKNOWN_RACK' });
  });

  it('an interface that loses its address keeps its VLAN; DHCP stays off until an operator turns it on', async () => {
    await report('rack-n1', [{ ...eth0, addresses: [] }]);
    const ifaces = await rackIfaces('rack-n1');
    expect(ifaces.eth0.vlan).toMatchObject({ vid: 0, dhcp_on: false });
    expect(ifaces.eth0.links).toEqual([]);
    const [{ n }] = await h.ds.query(`SELECT count(*)::int AS n FROM vlans WHERE dhcp_on`);
    expect(n).toBe(0);
    // The rack may be made the VLAN's primary rack.
    const r = await h.call(admin, 'PUT', `${API}/vlans/${ifaces.eth0.vlan!.id}/`, { primary_rack: 'rack-n1' });
    expect(r.status).toBe(200);
    expect((r.json() as { primary_rack: string }).primary_rack).toBe('rack-n1');
  });
});
