import { DhcpConfigUpdate, DhcpUpdate, GetDhcpConfig, RegisterRack } from '@kiln/contracts';
import { pollUntil } from '@kiln/testing';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';

type Json = Record<string, unknown> & { id: number };

describe('domains/, dnsresources/ and dnsresourcerecords/ through HTTP', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let user: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    user = await h.createUser('user', false);
  });
  afterAll(() => h.stop());

  const call = (method: string, path: string, body?: Record<string, string | string[]>, key: ApiKey = admin) => h.call(key, method, `${API}/${path}`, body);
  const ok = async (method: string, path: string, body?: Record<string, string | string[]>, key: ApiKey = admin) => {
    const r = await call(method, path, body, key);
    if (r.status !== 200) throw new Error(`${method} ${path} -> ${r.status} ${r.text}`);
    return r.json() as Json;
  };
  const list = async (path: string, key: ApiKey = admin) => (await ok('GET', path, undefined, key)) as unknown as Json[];
  const refused = async (method: string, path: string, body: Record<string, string> | undefined, status: number, expected?: unknown, key: ApiKey = admin) => {
    const r = await call(method, path, body, key);
    expect({ status: r.status, path }).toEqual({ status, path });
    if (expected !== undefined) expect(typeof expected === 'string' ? r.text : r.json()).toEqual(expected);
  };

  it('creates, reads, updates and deletes domains; set_default moves new machines to the new default', async () => {
    const maas = (await list('domains/', user)).find((d) => d.name === 'maas')!;
    expect(maas).toEqual({ authoritative: true, id: maas.id, is_default: true, name: 'maas', resource_record_count: 0, resource_uri: `${API}/domains/${maas.id}/`, ttl: null });

    const d = await ok('POST', 'domains/', { name: 'lab.example', authoritative: 'false', ttl: '300' });
    expect(d).toMatchObject({ name: 'lab.example', authoritative: false, ttl: 300, is_default: false, resource_record_count: 0 });
    expect((await ok('GET', `domains/${d.id}/`, undefined, user)).name).toBe('lab.example');
    expect((await ok('GET', 'domains/lab.example/')).id).toBe(d.id);
    expect(await ok('PUT', `domains/${d.id}/`, { name: 'lab.test', ttl: '' })).toMatchObject({ name: 'lab.test', ttl: null, authoritative: false });

    expect(await ok('POST', `domains/${d.id}/?op=set_default`)).toMatchObject({ id: d.id, is_default: true });
    expect((await ok('GET', `domains/${maas.id}/`)).is_default).toBe(false);
    // A new machine without a domain lands in the default one, and its FQDN says so.
    const m = await ok('POST', 'machines/', { architecture: 'amd64/generic', mac_addresses: '52:54:00:dd:00:01', power_type: 'manual', hostname: 'dns-one', commission: 'false' });
    expect(m).toMatchObject({ fqdn: 'dns-one.lab.test', domain: expect.objectContaining({ id: d.id, name: 'lab.test' }) });
    await refused('DELETE', `domains/${d.id}/`, undefined, 400, 'This domain is the default domain, it cannot be deleted.');
    await ok('POST', `domains/${maas.id}/?op=set_default`);
    await refused('DELETE', `domains/${d.id}/`, undefined, 409, 'Domain lab.test cannot be deleted: 1 node is in it.');
    // Renaming the domain renames the machine's FQDN.
    await ok('PUT', `domains/${d.id}/`, { name: 'lab.renamed' });
    expect((await ok('GET', `machines/${m.system_id}/`)).fqdn).toBe('dns-one.lab.renamed');
    expect((await call('DELETE', `machines/${m.system_id}/`)).status).toBe(204);
    expect((await call('DELETE', `domains/${d.id}/`)).status).toBe(204);
    await refused('GET', `domains/${d.id}/`, undefined, 404);
  });

  it('refuses what MAAS refuses on domains', async () => {
    await refused('POST', 'domains/', { name: 'x.example' }, 403, undefined, user);
    await refused('POST', `domains/1/?op=set_default`, undefined, 403, undefined, user);
    await refused('POST', 'domains/', {}, 400, { name: ['This field is required.'] });
    await refused('POST', 'domains/', { name: 'bad_name' }, 400, { name: ['Invalid domain name: bad_name.'] });
    await refused('POST', 'domains/', { name: 'maas' }, 400, { name: ['Domain with this Name already exists.'] });
    await refused('POST', 'domains/', { name: 'ok.example', ttl: 'soon' }, 400, { ttl: ['Ensure this value is greater than or equal to 0.'] });
    await refused('POST', 'domains/', { name: 'ok.example', authoritative: 'maybe' }, 400, { authoritative: ['"maybe" is not a valid boolean.'] });
    await refused('PUT', 'domains/999999/', { name: 'x' }, 404);
    await refused('POST', 'domains/?op=set_serial', {}, 400, { serial: ['Missing parameter'] });
    await refused('POST', 'domains/?op=set_serial', { serial: 'abc' }, 400, { serial: ['Expected a serial number'] });
    await refused('POST', 'domains/?op=set_serial', { serial: '4294967296' }, 400, { serial: ['Expected a serial number between 1 and 4294967295'] });
    await refused('POST', 'domains/?op=set_serial', { serial: '5' }, 403, undefined, user);
    expect((await call('POST', 'domains/?op=set_serial', { serial: '2026120401' })).status).toBe(200);
    const [row] = await h.ds.query(`SELECT nextval('dns_zone_serial')::bigint AS n`);
    expect(String(row.n)).toBe('2026120401');
  });

  it('stores DNS resources with their addresses and records, filtered as MAAS filters', async () => {
    const d = await ok('POST', 'domains/', { name: 'zone.example' });
    const www = await ok('POST', 'dnsresources/', { fqdn: 'www.zone.example', ip_addresses: '10.5.0.10 fd00::10', address_ttl: '60' });
    expect(www).toEqual({
      id: www.id,
      fqdn: 'www.zone.example',
      address_ttl: 60,
      ip_addresses: [
        { ip: '10.5.0.10', alloc_type: 4, alloc_type_name: 'User reserved' },
        { ip: 'fd00::10', alloc_type: 4, alloc_type_name: 'User reserved' },
      ],
      resource_records: [],
      resource_uri: `${API}/dnsresources/${www.id}/`,
    });
    const mail = await ok('POST', 'dnsresources/', { name: 'mail', domain: String(d.id) });
    expect(mail.fqdn).toBe('mail.zone.example');

    const mx = await ok('POST', 'dnsresourcerecords/', { fqdn: 'zone.example', rrtype: 'mx', rrdata: '10 mail.zone.example' });
    expect(mx).toEqual({ id: mx.id, fqdn: 'zone.example', ttl: null, rrtype: 'MX', rrdata: '10 mail.zone.example', resource_uri: `${API}/dnsresourcerecords/${mx.id}/` });
    const txt = await ok('POST', 'dnsresourcerecords/', { name: 'www', domain: 'zone.example', rrtype: 'TXT', rrdata: 'hello', ttl: '30' });
    expect((await ok('GET', `dnsresources/${www.id}/`, undefined, user)).resource_records).toEqual([expect.objectContaining({ id: txt.id, rrtype: 'TXT', ttl: 30 })]);
    expect((await ok('GET', `domains/${d.id}/`)).resource_record_count).toBe(4);

    expect((await list(`dnsresources/?domain=zone.example`, user)).map((r) => r.fqdn)).toEqual(['zone.example', 'mail.zone.example', 'www.zone.example']);
    expect((await list(`dnsresources/?rrtype=txt`)).map((r) => r.id)).toEqual([www.id]);
    expect((await list(`dnsresources/?fqdn=mail.zone.example`)).map((r) => r.id)).toEqual([mail.id]);
    expect((await list(`dnsresourcerecords/?domain=${d.id}&rrtype=MX`, user)).map((r) => r.id)).toEqual([mx.id]);
    expect((await list(`dnsresourcerecords/?name=www`)).map((r) => r.id)).toEqual([txt.id]);

    expect(await ok('PUT', `dnsresources/${mail.id}/`, { ip_addresses: '10.5.0.25' })).toMatchObject({ fqdn: 'mail.zone.example', ip_addresses: [expect.objectContaining({ ip: '10.5.0.25' })] });
    expect(await ok('PUT', `dnsresourcerecords/${txt.id}/`, { rrdata: 'bye', ttl: '' })).toMatchObject({ rrdata: 'bye', ttl: null });

    // A CNAME stands alone on its name; a record on a new name creates the name.
    await refused('POST', 'dnsresourcerecords/', { fqdn: 'www.zone.example', rrtype: 'CNAME', rrdata: 'elsewhere.example' }, 400, {
      __all__: ['CNAME records for a name cannot coexist with non-CNAME records.'],
    });
    const alias = await ok('POST', 'dnsresourcerecords/', { fqdn: 'ftp.zone.example', rrtype: 'CNAME', rrdata: 'www' });
    await refused('POST', 'dnsresourcerecords/', { fqdn: 'ftp.zone.example', rrtype: 'CNAME', rrdata: 'mail' }, 400, { __all__: ['Only one CNAME can be associated with a name.'] });
    const ftp = (await list('dnsresources/?name=ftp'))[0];
    await refused('PUT', `dnsresources/${ftp.id}/`, { ip_addresses: '10.5.0.30' }, 400, { __all__: ['CNAME records for a name cannot coexist with non-CNAME records.'] });

    // Refusals.
    await refused('POST', 'dnsresources/', { fqdn: 'www.zone.example' }, 400, { __all__: ['Labels must be unique within their zone.'] });
    await refused('POST', 'dnsresources/', { name: 'x y', domain: 'zone.example' }, 400, { name: ['Invalid dnsresource name: x y.'] });
    await refused('POST', 'dnsresources/', { name: 'z', domain: 'zone.example', ip_addresses: '10.5.0.300' }, 400, { ip_addresses: ['10.5.0.300 is not a valid IP address.'] });
    await refused('POST', 'dnsresources/', {}, 400, { name: ['This field is required.'], domain: ['This field is required.'] });
    await refused('POST', 'dnsresources/', { name: 'z', domain: 'nowhere.example' }, 404);
    await refused('POST', 'dnsresources/', { fqdn: 'z.zone.example' }, 403, undefined, user);
    await refused('POST', 'dnsresourcerecords/', { fqdn: 'z.zone.example', rrtype: 'A', rrdata: '10.0.0.1' }, 400, { rrtype: ['A is not one of CNAME MX NS SRV SSHFP TXT.'] });
    await refused('POST', 'dnsresourcerecords/', { fqdn: 'z.zone.example', rrtype: 'MX', rrdata: 'mail' }, 400, {
      __all__: ["Invalid MX: Should be '<preference> <server>'. Range for preference is 0-65535."],
    });
    await refused('POST', 'dnsresourcerecords/', { fqdn: 'z.zone.example' }, 400, { rrtype: ['This field is required.'], rrdata: ['This field is required.'] });
    await refused('DELETE', `dnsresourcerecords/${mx.id}/`, undefined, 403, undefined, user);
    await refused('GET', 'dnsresources/999999/', undefined, 404);
    await refused('GET', 'dnsresourcerecords/999999/', undefined, 404);

    expect((await call('DELETE', `dnsresourcerecords/${alias.id}/`)).status).toBe(204);
    await refused('GET', `dnsresourcerecords/${alias.id}/`, undefined, 404);
    expect((await call('DELETE', `dnsresources/${www.id}/`)).status).toBe(204);
    await refused('GET', `dnsresourcerecords/${txt.id}/`, undefined, 404);
    // Deleting the domain takes its names and records with it.
    expect((await call('DELETE', `domains/${d.id}/`)).status).toBe(204);
    await refused('GET', `dnsresources/${mail.id}/`, undefined, 404);
    await refused('GET', `dnsresourcerecords/${mx.id}/`, undefined, 404);
  });

  it("sends the default domain's name to the racks' DHCP when the default changes or is renamed", async () => {
    await h.bus.request(RegisterRack, ['rack-d'], {
      rackId: 'rack-d',
      hostname: 'host-rack-d',
      interfaces: [{ name: 'eth1', mac: '52:54:00:ee:30:01', addresses: [] }],
    });
    const f = await ok('POST', 'fabrics/', {});
    const v = await ok('POST', `fabrics/${f.id}/vlans/`, { vid: '70' });
    await ok('POST', 'subnets/', { cidr: '10.70.0.0/24', vlan: String(v.id) });
    await ok('POST', 'ipranges/', { type: 'dynamic', start_ip: '10.70.0.100', end_ip: '10.70.0.150' });
    await ok('PUT', `vlans/${v.id}/`, { dhcp_on: 'true', primary_rack: 'rack-d' });
    const pushed: DhcpUpdate[] = [];
    h.bus.onPush(DhcpConfigUpdate, ['rack-d'], (u) => void pushed.push(u));
    const pushedDomains = () => pushed.flatMap((u) => u.ops.flatMap((o) => (o.op === 'upsertSubnet' ? [o.subnet.domain] : [])));
    const served = async () => (await h.bus.request(GetDhcpConfig, ['rack-d'], { rackId: 'rack-d' })).subnets.map((s) => s.domain);
    const maas = (await list('domains/')).find((d) => d.is_default)!;
    expect(await served()).toEqual([maas.name]);

    const d = await ok('POST', 'domains/', { name: 'dhcp.example' });
    await ok('POST', `domains/${d.id}/?op=set_default`);
    await pollUntil(pushedDomains, (x) => x.includes('dhcp.example'), { what: 'the new default domain pushed to the rack' });
    expect(await served()).toEqual(['dhcp.example']);
    await ok('PUT', `domains/${d.id}/`, { name: 'dhcp2.example' });
    await pollUntil(pushedDomains, (x) => x.includes('dhcp2.example'), { what: 'the renamed default domain pushed to the rack' });
    await ok('POST', `domains/${maas.id}/?op=set_default`);
    await pollUntil(pushedDomains, (x) => x[x.length - 1] === maas.name, { what: 'the old default pushed back' });
    expect(await served()).toEqual([maas.name]);
  });

  it("lists machines' implicit address records with all=true", async () => {
    const d = await ok('POST', 'domains/', { name: 'implicit.example' });
    const m = await ok('POST', 'machines/', {
      architecture: 'amd64/generic',
      mac_addresses: '52:54:00:dd:40:01',
      power_type: 'manual',
      hostname: 'addr-one',
      domain: 'implicit.example',
      commission: 'false',
    });
    // The address commissioning (or a link) would give the interface.
    await h.ds.query(`UPDATE interfaces SET ip_address = '10.80.0.5' WHERE mac_address = '52:54:00:dd:40:01'`);
    const stored = await ok('POST', 'dnsresources/', { name: 'www', domain: 'implicit.example', ip_addresses: '10.80.0.9' });
    expect((await list('dnsresources/?domain=implicit.example')).map((r) => r.id)).toEqual([stored.id]);
    const all = await list('dnsresources/?domain=implicit.example&all=true', user);
    expect(all).toEqual([
      expect.objectContaining({ id: stored.id }),
      {
        id: -1,
        fqdn: 'addr-one.implicit.example',
        address_ttl: null,
        ip_addresses: null,
        resource_records: [{ ttl: null, rrtype: 'A', rrdata: '10.80.0.5', system_id: m.system_id, node_type: 0 }],
        resource_uri: `${API}/dnsresources/-1/`,
      },
    ]);
    expect((await list('dnsresources/?all=true&rrtype=AAAA')).filter((r) => r.id === -1)).toEqual([]);
    expect((await list('dnsresources/?all=true&name=addr-one')).map((r) => r.fqdn)).toEqual(['addr-one.implicit.example']);
    expect((await call('DELETE', `machines/${m.system_id}/`)).status).toBe(204);
    expect((await list('dnsresources/?all=true&domain=implicit.example')).map((r) => r.id)).toEqual([stored.id]);
    expect(d.name).toBe('implicit.example');
  });
});
