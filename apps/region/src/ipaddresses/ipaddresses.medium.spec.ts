import { GetDhcpConfig, RegisterRack } from '@kiln/contracts';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';

type Json = Record<string, unknown>;

describe('ipaddresses/: reserve, list and release', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let alice: ApiKey;
  let bob: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    alice = await h.createUser('alice', false);
    bob = await h.createUser('bob', false);
    // 10.77.0.0/24: gateway .1, dynamic .2-.9, a reserved range .10-.11; the first free address is .12.
    const s = await call(admin, 'POST', 'subnets/', { cidr: '10.77.0.0/24', gateway_ip: '10.77.0.1' });
    expect(s.status).toBe(200);
    expect((await call(admin, 'POST', 'ipranges/', { type: 'dynamic', start_ip: '10.77.0.2', end_ip: '10.77.0.9' })).status).toBe(200);
    expect((await call(admin, 'POST', 'ipranges/', { type: 'reserved', start_ip: '10.77.0.10', end_ip: '10.77.0.11' })).status).toBe(200);
    // rack-ip serves DHCP on the subnet's VLAN (no addresses of its own: the test builds the network).
    await h.bus.request(RegisterRack, ['rack-ip'], { rackId: 'rack-ip', hostname: 'rack-ip', interfaces: [{ name: 'eth1', mac: '52:54:00:ee:77:01', addresses: [] }] });
    const vlanId = ((s.json() as Json).vlan as Json).id;
    expect((await call(admin, 'PUT', `vlans/${vlanId}/`, { dhcp_on: 'true', primary_rack: 'rack-ip' })).status).toBe(200);
    // A tiny subnet for exhaustion: /30 has two usable addresses.
    expect((await call(admin, 'POST', 'subnets/', { cidr: '10.78.0.0/30' })).status).toBe(200);
  });
  afterAll(() => h.stop());

  function call(key: ApiKey, method: string, path: string, body?: Record<string, string>) {
    return h.call(key, method, `${API}/${path}`, body);
  }
  const reserve = (key: ApiKey, body: Record<string, string>) => call(key, 'POST', 'ipaddresses/?op=reserve', body);
  const release = (key: ApiKey, body: Record<string, string>) => call(key, 'POST', 'ipaddresses/?op=release', body);
  const list = async (key: ApiKey, query = '') => {
    const r = await call(key, 'GET', `ipaddresses/${query}`);
    expect(r.status).toBe(200);
    return r.json() as Json[];
  };

  it('reserves the first free address outside ranges and the gateway, in MAAS shape', async () => {
    const r = await reserve(alice, { subnet: '10.77.0.0/24' });
    expect(r.status).toBe(200);
    const body = r.json() as Json;
    expect(body).toMatchObject({
      alloc_type: 4,
      alloc_type_name: 'User reserved',
      ip: '10.77.0.12',
      owner: expect.objectContaining({ username: 'alice', resource_uri: `${API}/users/alice/` }),
      subnet: expect.objectContaining({ cidr: '10.77.0.0/24' }),
      interface_set: [],
      resource_uri: `${API}/ipaddresses/`,
    });
    expect(Number.isNaN(Date.parse(String(body.created)))).toBe(false);
    // The next one skips it.
    expect((await reserve(alice, { subnet: '10.77.0.0/24' })).json()).toMatchObject({ ip: '10.77.0.13' });
  });

  it('reserves a chosen address (subnet found from it), with MAC and host name stored', async () => {
    const r = await reserve(bob, { ip: '10.77.0.200', mac: '52-54-00-AA-BB-CC', hostname: 'printer' });
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ ip: '10.77.0.200', hostname: 'printer', mac_address: '52:54:00:aa:bb:cc', owner: expect.objectContaining({ username: 'bob' }) });
    // The older parameter name works too, and a chosen address may sit in a reserved range.
    expect((await reserve(bob, { ip_address: '10.77.0.10', subnet: '10.77.0.0/24' })).json()).toMatchObject({ ip: '10.77.0.10' });
    // With a MAC it is a DHCP host entry: reservedips-style rows feed the rack's configuration; the
    // address shows among the subnet's addresses.
    const used = (await call(admin, 'GET', 'subnets/10.77.0.0%2F24/?op=ip_addresses')).json() as Json[];
    expect(used.map((x) => x.ip)).toEqual(expect.arrayContaining(['10.77.0.200', '10.77.0.10']));
  });

  it("makes a reservation with a MAC a DHCP host entry of the rack serving the subnet, and none of the rack's pool", async () => {
    const snap = await h.bus.request(GetDhcpConfig, ['rack-ip'], { rackId: 'rack-ip' });
    const subnet = snap.subnets.find((x) => x.cidr === '10.77.0.0/24')!;
    expect(subnet.reservations).toEqual([expect.objectContaining({ mac: '52:54:00:aa:bb:cc', ip: '10.77.0.200' })]);
    // The pool is the dynamic range alone: no user reservation (with or without a MAC) is in it.
    expect(subnet.ranges.map((r) => [r.start, r.end])).toEqual([['10.77.0.2', '10.77.0.9']]);
  });

  it('refuses bad input with 400 naming the field, and changes nothing', async () => {
    const before = (await list(admin, '?all=true')).length;
    const refusals: [Record<string, string>, string, RegExp][] = [
      [{ ip: '10.77.0.5' }, 'ip', /dynamic range/],
      [{ ip: '10.77.0.1' }, 'ip', /already in use/],
      [{ ip: '10.77.0.12' }, 'ip', /already in use/],
      [{ ip: '10.99.0.5' }, 'ip', /No subnet contains/],
      [{ ip: '10.78.0.1', subnet: '10.77.0.0/24' }, 'ip', /not a usable address/],
      [{ ip: '10.77.0.255' }, 'ip', /not a usable address/],
      [{ ip: 'nonsense' }, 'ip', /valid IPv4/],
      [{}, 'subnet', /required/],
      [{ subnet: '10.66.0.0/24' }, 'subnet', /No subnet/],
      [{ subnet: '10.77.0.0/24', mac: 'zz' }, 'mac', /not a valid MAC/],
      [{ subnet: '10.77.0.0/24', hostname: 'bad_name!' }, 'hostname', /not a valid host name/],
      [{ subnet: '10.77.0.0/24', mac: '52:54:00:aa:bb:cc' }, 'mac', /already has a reserved address/],
    ];
    for (const [body, fieldName, message] of refusals) {
      const r = await reserve(alice, body);
      expect({ body, status: r.status }).toEqual({ body, status: 400 });
      expect((r.json() as Record<string, string[]>)[fieldName]?.join(' ')).toMatch(message);
    }
    expect((await list(admin, '?all=true')).length).toBe(before);
  });

  it('answers 503 when the subnet has no free address left', async () => {
    expect((await reserve(alice, { subnet: '10.78.0.0/30' })).json()).toMatchObject({ ip: '10.78.0.1' });
    expect((await reserve(alice, { subnet: '10.78.0.0/30' })).json()).toMatchObject({ ip: '10.78.0.2' });
    const r = await reserve(alice, { subnet: '10.78.0.0/30' });
    expect(r.status).toBe(503);
    expect(r.text).toMatch(/No more IP addresses/);
  });

  it('lists the caller\'s reservations; administrators all of them or one owner\'s', async () => {
    const mine = (await list(alice)).map((x) => x.ip);
    expect(mine).toEqual(['10.77.0.12', '10.77.0.13', '10.78.0.1', '10.78.0.2']);
    expect((await list(bob)).map((x) => x.ip)).toEqual(['10.77.0.200', '10.77.0.10']);
    expect((await list(admin)).length).toBe(0);
    const all = (await list(admin, '?all=true')).map((x) => x.ip);
    expect(all).toEqual(expect.arrayContaining([...mine, '10.77.0.200', '10.77.0.10']));
    expect((await list(admin, '?owner=bob')).map((x) => x.ip)).toEqual(['10.77.0.200', '10.77.0.10']);
    expect((await call(alice, 'GET', 'ipaddresses/?all=true')).status).toBe(403);
    expect((await call(alice, 'GET', 'ipaddresses/?owner=bob')).status).toBe(403);
    expect((await call(admin, 'GET', 'ipaddresses/?owner=nobody')).status).toBe(400);
  });

  it('releases own reservations; someone else\'s only by an administrator with force', async () => {
    expect((await release(alice, {})).status).toBe(400);
    expect((await release(alice, { ip: '10.77.0.250' })).status).toBe(404);
    const other = await release(alice, { ip: '10.77.0.200' });
    expect(other.status).toBe(403);
    expect((await release(alice, { ip: '10.77.0.200', force: 'true' })).status).toBe(403);
    expect((await list(bob)).map((x) => x.ip)).toContain('10.77.0.200');

    expect((await release(alice, { ip: '10.77.0.12' })).status).toBe(204);
    expect((await list(alice)).map((x) => x.ip)).not.toContain('10.77.0.12');
    expect((await release(alice, { ip: '10.77.0.12' })).status).toBe(404);
    expect((await release(admin, { ip: '10.77.0.200', force: 'true' })).status).toBe(204);
    expect((await list(bob)).map((x) => x.ip)).toEqual(['10.77.0.10']);
    // A released address is free again: the next automatic reservation takes it.
    expect((await reserve(bob, { subnet: '10.77.0.0/24' })).json()).toMatchObject({ ip: '10.77.0.12' });
  });

  it('keeps reserved addresses out of dynamic ranges created later', async () => {
    expect((await reserve(bob, { ip: '10.77.0.150' })).status).toBe(200);
    const r = await call(admin, 'POST', 'ipranges/', { type: 'dynamic', start_ip: '10.77.0.100', end_ip: '10.77.0.220' });
    expect(r.status).toBe(400);
    expect(r.text).toContain('10.77.0.150');
  });

  it('never gives the same address to reservations made at the same time', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => reserve(i % 2 ? alice : bob, { subnet: '10.77.0.0/24' })));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const ips = results.map((r) => (r.json() as Json).ip as string);
    expect(new Set(ips).size).toBe(20);
    for (const ip of ips) {
      const last = Number(ip.split('.')[3]);
      expect(last < 2 || last > 11).toBe(true); // never in the dynamic or reserved range
    }
  });
});
