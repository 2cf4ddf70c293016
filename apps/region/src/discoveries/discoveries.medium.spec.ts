import { randomUUID } from 'node:crypto';
import { LeaseEvents, RegisterRack } from '@kiln/contracts';
import { pollUntil } from '@kiln/testing';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';

interface Discovery {
  discovery_id: string;
  ip: string;
  mac_address: string;
  hostname: string | null;
  first_seen: string;
  last_seen: string;
  fabric_name: string | null;
  vid: number | null;
  observer: { system_id: string; hostname: string; interface_name: string };
  resource_uri: string;
}

/**
 * discoveries/ fed by the leases a rack grants: each commit or renew is an observation of a MAC
 * using an IP on the rack's interface, listed as MAAS lists discoveries.
 */
describe('discoveries/ from the DHCP leases racks report', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let user: ApiKey;
  const KNOWN_MAC = '52:54:00:dd:00:01';
  const STRANGER = '52:54:00:dd:00:99';

  const ok = async (key: ApiKey, method: string, path: string, body?: Record<string, string>) => {
    const r = await h.call(key, method, `${API}/${path}`, body);
    if (r.status !== 200) throw new Error(`${method} ${path} -> ${r.status} ${r.text}`);
    return r.json() as never;
  };
  const lease = (mac: string, ip: string, hostname?: string) =>
    h.bus.publishDurable(LeaseEvents, ['rack-d'], {
      eventId: randomUUID(),
      rackId: 'rack-d',
      at: new Date().toISOString(),
      action: 'commit',
      mac,
      ip,
      iface: 'eth1',
      ...(hostname ? { hostname } : {}),
    });

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    user = await h.createUser('user', false);
    await h.bus.request(RegisterRack, ['rack-d'], {
      rackId: 'rack-d',
      hostname: 'rack-d',
      interfaces: [{ name: 'eth1', mac: '52:54:00:dd:ff:01', addresses: ['10.40.0.2/24'], vlan: null }],
    });
    // DHCP on the network the rack found, with rack-d as its primary rack.
    const rack = (await ok(admin, 'GET', 'rackcontrollers/rack-d/')) as { interface_set: { vlan: { id: number } }[] };
    const vlanId = rack.interface_set[0].vlan.id;
    await ok(admin, 'POST', 'ipranges/', { type: 'dynamic', start_ip: '10.40.0.100', end_ip: '10.40.0.199' });
    await ok(admin, 'PUT', `vlans/${vlanId}/`, { dhcp_on: 'true', primary_rack: 'rack-d' });
    await ok(admin, 'POST', 'machines/', { architecture: 'amd64/generic', mac_addresses: KNOWN_MAC, power_type: 'manual', commission: 'false' });
  }, 60_000);
  afterAll(() => h?.stop());

  it('lists what the rack leased, most recent first, in MAAS shapes; each discovery readable by its id', async () => {
    await lease(STRANGER, '10.40.0.150', 'stranger');
    await new Promise((r) => setTimeout(r, 20));
    await lease(KNOWN_MAC, '10.40.0.151');
    const all = await pollUntil(() => ok(admin, 'GET', 'discoveries/') as Promise<Discovery[]>, (d) => d.length === 2, { what: 'two discoveries' });
    expect(all.map((d) => d.mac_address)).toEqual([KNOWN_MAC, STRANGER]);
    const s = all[1];
    expect(s).toMatchObject({
      ip: '10.40.0.150',
      hostname: 'stranger',
      vid: 0,
      observer: { system_id: 'rack-d', hostname: 'rack-d', interface_name: 'eth1' },
      resource_uri: `${API}/discoveries/${s.discovery_id}/`,
    });
    expect(s.fabric_name).toMatch(/^fabric-\d+$/);
    expect(Date.parse(s.first_seen)).toBeLessThanOrEqual(Date.parse(s.last_seen));
    // Any user may read them; one by its id; an unknown id is a 404.
    expect(await ok(user, 'GET', `discoveries/${s.discovery_id}/`)).toEqual(s);
    expect((await h.call(user, 'GET', `${API}/discoveries/bm9uZSwx/`)).status).toBe(404);
  });

  it('a second lease refreshes last_seen and keeps first_seen', async () => {
    const before = ((await ok(admin, 'GET', 'discoveries/')) as Discovery[]).find((d) => d.mac_address === STRANGER)!;
    await lease(STRANGER, '10.40.0.150');
    const after = await pollUntil(
      async () => ((await ok(admin, 'GET', 'discoveries/')) as Discovery[]).find((d) => d.mac_address === STRANGER)!,
      (d) => d.last_seen !== before.last_seen,
      { what: 'last_seen to move' },
    );
    expect(after.first_seen).toBe(before.first_seen);
    expect(after.hostname).toBe('stranger');
    expect(((await ok(admin, 'GET', 'discoveries/')) as Discovery[])).toHaveLength(2);
  });

  it('filters out what MAAS knows: by_unknown_mac, by_unknown_ip, by_unknown_ip_and_mac', async () => {
    // The lease set the known machine's interface to 10.40.0.151: its MAC and its IP are known.
    const macs = async (op: string) => ((await ok(admin, 'GET', `discoveries/?op=${op}`)) as Discovery[]).map((d) => d.mac_address);
    expect(await macs('by_unknown_mac')).toEqual([STRANGER]);
    expect(await macs('by_unknown_ip')).toEqual([STRANGER]);
    expect(await macs('by_unknown_ip_and_mac')).toEqual([STRANGER]);
  });

  it('refuses to scan, with the reason', async () => {
    const r = await h.call(admin, 'POST', `${API}/discoveries/?op=scan`, { force: 'true' });
    expect(r.status).toBe(409);
    expect(r.text).toContain('do not scan');
  });

  it('clears for administrators only, and only when told what', async () => {
    expect((await h.call(user, 'POST', `${API}/discoveries/?op=clear`, { all: 'true' })).status).toBe(403);
    const vague = await h.call(admin, 'POST', `${API}/discoveries/?op=clear`, {});
    expect(vague.status).toBe(400);
    expect(vague.text).toContain('Must specify mdns=True, neighbours=True, or all=True');
    expect((await h.call(admin, 'POST', `${API}/discoveries/?op=clear`, { neighbours: 'maybe' })).status).toBe(400);
    expect(((await ok(admin, 'GET', 'discoveries/')) as Discovery[])).toHaveLength(2);
    expect((await h.call(admin, 'POST', `${API}/discoveries/?op=clear`, { neighbours: 'true' })).status).toBe(204);
    expect(((await ok(admin, 'GET', 'discoveries/')) as Discovery[])).toEqual([]);
  });

  it('is described, with the parameters of its actions', async () => {
    const d = (await h.call(admin, 'GET', `${API}/describe/`)).text;
    for (const s of ['DiscoveriesHandler', 'DiscoveryHandler', 'by_unknown_ip_and_mac', ':param neighbours']) expect(d).toContain(s);
  });
});
