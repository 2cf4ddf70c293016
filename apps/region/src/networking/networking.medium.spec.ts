import { DhcpConfigUpdate, DhcpUpdate, GetDhcpConfig, RegisterRack, applyDhcpUpdate, DhcpSnapshot } from '@kiln/contracts';
import { pollUntil } from '@kiln/testing';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';

type Json = Record<string, unknown> & { id: number };

describe('networking model and the DHCP configuration pushed to racks', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let user: ApiKey;
  const pushed = new Map<string, DhcpUpdate[]>();

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    user = await h.createUser('user', false);
    for (const rackId of ['rack-a', 'rack-b']) {
      await h.bus.request(RegisterRack, [rackId], {
        rackId,
        hostname: `host-${rackId}`,
        // No address: these racks are only DHCP servers here; the tests build the networks through the API
        // (a rack's addresses would make them: rack-networks.medium.spec.ts).
        interfaces: [{ name: 'eth1', mac: '52:54:00:ee:00:01', addresses: [] }],
      });
      pushed.set(rackId, []);
      // A stand-in for the rack's DHCP feed: every update pushed to it.
      h.bus.onPush(DhcpConfigUpdate, [rackId], (u) => void pushed.get(rackId)!.push(u));
    }
  });
  afterAll(() => h.stop());

  const call = (method: string, path: string, body?: Record<string, string | string[]>, key: ApiKey = admin) => h.call(key, method, `${API}/${path}`, body);
  const ok = async (method: string, path: string, body?: Record<string, string | string[]>) => {
    const r = await call(method, path, body);
    if (r.status !== 200) throw new Error(`${method} ${path} -> ${r.status} ${r.text}`);
    return r.json() as Json;
  };
  const snapshot = (rackId: string) => h.bus.request(GetDhcpConfig, [rackId], { rackId });

  it("answers fabrics/0/ with the default fabric, as python-libmaas's fabrics.get_default() reads it", async () => {
    const before = (await ok('GET', 'fabrics/')) as unknown as Json[];
    const d = await ok('GET', 'fabrics/0/');
    // The first fabric; with none yet, fabric-0 created with its untagged VLAN, as MAAS creates its default.
    if (before.length) expect(d.id).toBe(Math.min(...before.map((f) => f.id as number)));
    else expect(d).toMatchObject({ name: 'fabric-0', vlans: [expect.objectContaining({ vid: 0 })] });
    expect((await ok('GET', 'fabrics/0/')).id).toBe(d.id);
    expect(((await ok('GET', 'fabrics/')) as unknown as Json[]).length).toBe(Math.max(1, before.length));
    const vlans = (await ok('GET', 'fabrics/0/vlans/')) as unknown as Json[];
    expect(vlans.map((v) => v.fabric_id)).toEqual(vlans.map(() => d.id));
    expect((await ok('GET', 'fabrics/0/vlans/untagged/')).fabric_id).toBe(d.id);
    expect((await call('GET', 'fabrics/999999/')).status).toBe(404);
  });

  it('creates fabrics with their untagged VLAN, VLANs and subnets in MAAS shapes', async () => {
    const f = await ok('POST', 'fabrics/', { description: 'lab' });
    expect(f).toMatchObject({ name: `fabric-${f.id}`, class_type: null, resource_uri: `${API}/fabrics/${f.id}/` });
    expect(f.vlans).toEqual([expect.objectContaining({ vid: 0, name: 'untagged', fabric: f.name, fabric_id: f.id, dhcp_on: false, mtu: 1500, primary_rack: null })]);

    const v = await ok('POST', `fabrics/${f.id}/vlans/`, { vid: '20', name: 'lab20', mtu: '9000' });
    expect(v).toMatchObject({ vid: 20, name: 'lab20', mtu: 9000, resource_uri: `${API}/vlans/${v.id}/` });
    expect((await call('POST', `fabrics/${f.id}/vlans/`, { vid: '20' })).status).toBe(400);
    expect((await ok('GET', `fabrics/${f.id}/vlans/20/`)).id).toBe(v.id);
    expect((await ok('GET', `vlans/${v.id}/`)).vid).toBe(20);

    const s = await ok('POST', 'subnets/', { cidr: '10.20.0.7/24', vlan: String(v.id), gateway_ip: '10.20.0.1', dns_servers: '10.20.0.1, 8.8.8.8' });
    expect(s).toMatchObject({
      name: '10.20.0.0/24',
      cidr: '10.20.0.0/24',
      gateway_ip: '10.20.0.1',
      dns_servers: ['10.20.0.1', '8.8.8.8'],
      managed: true,
      disabled_boot_architectures: [],
      space: 'undefined',
      vlan: expect.objectContaining({ id: v.id, vid: 20 }),
      resource_uri: `${API}/subnets/${s.id}/`,
    });
    for (const key of [String(s.id), encodeURIComponent('10.20.0.0/24'), 'name:10.20.0.0%2F24']) {
      expect((await ok('GET', `subnets/${key}/`)).id).toBe(s.id);
    }
    // Without a VLAN, a subnet lands on the default fabric's untagged VLAN.
    const d = await ok('POST', 'subnets/', { cidr: '192.168.50.0/24', disabled_boot_architectures: 'pxe 00:0b' });
    expect(d).toMatchObject({ vlan: expect.objectContaining({ vid: 0 }), disabled_boot_architectures: ['pxe', 'uefi_arm64_tftp'] });
    expect((await ok('GET', 'fabrics/')).length).toBeGreaterThanOrEqual(1);
  });

  it('answers validation errors as MAAS does', async () => {
    const expectError = async (r: Promise<{ status: number; json: () => unknown; text: string }>, status: number, body?: unknown) => {
      const res = await r;
      expect(res.status).toBe(status);
      if (body !== undefined) expect(res.json()).toEqual(body);
    };
    await expectError(call('POST', 'subnets/', {}), 400, { cidr: ['This field is required.'] });
    await expectError(call('POST', 'subnets/', { cidr: '10.0.0.0/40' }), 400, { cidr: ['Required format: <network>/<prefixlen>.'] });
    await expectError(call('POST', 'subnets/', { cidr: '10.21.0.0/24', gateway_ip: '10.99.0.1' }), 400, { gateway_ip: ['Gateway IP must be within CIDR range.'] });
    await expectError(call('POST', 'subnets/', { cidr: '10.22.0.0/24', disabled_boot_architectures: 'floppy' }), 400);
    await expectError(call('POST', 'subnets/', { cidr: '10.23.0.0/24' }, user), 403);
    await expectError(call('GET', 'subnets/9999/'), 404);
    await expectError(call('GET', 'fabrics/abc/'), 404);
    await expectError(call('POST', 'ipranges/', { type: 'dynamic', start_ip: '10.20.0.10', end_ip: '10.20.0.20' }, user), 403);
    await expectError(call('POST', 'ipranges/', { type: 'weird', start_ip: '10.20.0.10', end_ip: '10.20.0.20' }), 400);
    await expectError(call('POST', 'ipranges/', { type: 'reserved', start_ip: '10.20.0.30', end_ip: '10.20.0.20' }), 400, {
      end_ip: ['End IP address must not be less than Start IP address.'],
    });
    await expectError(call('POST', 'ipranges/', { type: 'reserved', start_ip: '172.31.0.1', end_ip: '172.31.0.5' }), 400);
  });

  it('turns DHCP on only with a primary rack and a dynamic range, and pushes the subnet to the racks', async () => {
    const v = (await ok('GET', 'subnets/10.20.0.0%2F24/')).vlan as Json;
    const noRack = await call('PUT', `vlans/${v.id}/`, { dhcp_on: 'true' });
    expect(noRack.status).toBe(400);
    expect(noRack.json()).toEqual({ __all__: ['dhcp can only be turned on when a primary rack controller is set.'] });
    const noRange = await call('PUT', `vlans/${v.id}/`, { dhcp_on: 'true', primary_rack: 'rack-a' });
    expect(noRange.status).toBe(400);
    expect(noRange.json()).toEqual({ dhcp_on: ['dhcp can only be turned on when a dynamic IP range is defined.'] });

    const r1 = await ok('POST', 'ipranges/', { type: 'dynamic', start_ip: '10.20.0.100', end_ip: '10.20.0.150', comment: 'pool' });
    expect(r1).toMatchObject({ type: 'dynamic', start_ip: '10.20.0.100', end_ip: '10.20.0.150', user: 'admin', subnet: expect.objectContaining({ cidr: '10.20.0.0/24' }) });
    const overlap = await call('POST', 'ipranges/', { type: 'reserved', start_ip: '10.20.0.140', end_ip: '10.20.0.160' });
    expect(overlap.status).toBe(400);
    expect(JSON.stringify(overlap.json())).toContain('conflicts with an existing dynamic range 10.20.0.100-10.20.0.150');
    expect((await call('POST', 'ipranges/', { type: 'dynamic', start_ip: '10.20.0.1', end_ip: '10.20.0.5' })).status).toBe(400); // gateway inside
    expect(pushed.get('rack-a')).toEqual([]); // nothing served yet: no DHCP on the VLAN

    const on = await ok('PUT', `vlans/${v.id}/`, { dhcp_on: 'true', primary_rack: 'rack-a', secondary_rack: 'host-rack-b' });
    expect(on).toMatchObject({ dhcp_on: true, primary_rack: 'rack-a', secondary_rack: 'rack-b' });
    const [ua] = await pollUntil(() => pushed.get('rack-a')!, (l) => l.length === 1, { what: 'update to rack-a' });
    const [ub] = await pollUntil(() => pushed.get('rack-b')!, (l) => l.length === 1, { what: 'update to rack-b' });
    expect(ua).toMatchObject({ rackId: 'rack-a', baseRevision: 0, revision: 1 });
    expect(ua.ops).toEqual([
      {
        op: 'upsertSubnet',
        subnet: expect.objectContaining({ cidr: '10.20.0.0/24', gateway: '10.20.0.1', dnsServers: ['10.20.0.1', '8.8.8.8'], mtu: 9000, primary: true, peerRackId: 'rack-b', relayed: false, domain: 'maas' }),
      },
      { op: 'upsertRange', subnetId: expect.any(Number), range: { id: r1.id, start: '10.20.0.100', end: '10.20.0.150' } },
    ]);
    expect(ub.ops[0]).toMatchObject({ op: 'upsertSubnet', subnet: expect.objectContaining({ primary: false, peerRackId: 'rack-a' }) });
    // The snapshot is what the pushed updates add up to.
    const snapA = await snapshot('rack-a');
    expect(snapA.revision).toBe(1);
    const replay = applyDhcpUpdate({ rackId: 'rack-a', revision: 0, subnets: [] }, ua) as { kind: 'applied'; snapshot: DhcpSnapshot };
    expect(replay.snapshot).toEqual(snapA);
  });

  it('pushes only what changed: a new range, a reservation, a subnet setting; never the whole configuration', async () => {
    const before = pushed.get('rack-a')!.length;
    const r2 = await ok('POST', 'ipranges/', { type: 'dynamic', start_ip: '10.20.0.200', end_ip: '10.20.0.210' });
    const u1 = (await pollUntil(() => pushed.get('rack-a')!, (l) => l.length === before + 1, { what: 'range update' }))[before];
    expect(u1).toMatchObject({ baseRevision: 1, revision: 2, ops: [{ op: 'upsertRange', range: { id: r2.id, start: '10.20.0.200', end: '10.20.0.210' } }] });

    // A reserved range changes nothing the racks serve.
    await ok('POST', 'ipranges/', { type: 'reserved', start_ip: '10.20.0.10', end_ip: '10.20.0.19' });
    const res = await ok('POST', 'reservedips/', { ip: '10.20.0.60', mac_address: '52-54-00-AB-CD-EF', comment: 'bmc' });
    expect(res).toMatchObject({ ip: '10.20.0.60', mac_address: '52:54:00:ab:cd:ef', comment: 'bmc' });
    const u2 = (await pollUntil(() => pushed.get('rack-a')!, (l) => l.length === before + 2, { what: 'reservation update' }))[before + 1];
    expect(u2).toMatchObject({ baseRevision: 2, revision: 3, ops: [{ op: 'upsertReservation', reservation: { id: res.id, mac: '52:54:00:ab:cd:ef', ip: '10.20.0.60' } }] });
    expect((await call('POST', 'reservedips/', { ip: '10.20.0.120' })).status).toBe(400); // inside the dynamic range

    await ok('PUT', 'subnets/10.20.0.0%2F24/', { gateway_ip: '10.20.0.254' });
    const u3 = (await pollUntil(() => pushed.get('rack-a')!, (l) => l.length === before + 3, { what: 'subnet update' }))[before + 2];
    expect(u3.ops).toEqual([{ op: 'upsertSubnet', subnet: expect.objectContaining({ gateway: '10.20.0.254' }) }]);
    expect((await snapshot('rack-a')).revision).toBe(4);
    expect(pushed.get('rack-b')!.map((u) => u.revision)).toEqual([1, 2, 3, 4]);

    const stats = await ok('GET', 'subnets/10.20.0.0%2F24/?op=statistics');
    expect(stats).toMatchObject({ total_addresses: 254, first_address: '10.20.0.1', last_address: '10.20.0.254', ip_version: 4 });
    expect(stats.num_unavailable).toBe(51 + 11 + 10 + 1 + 2); // dynamic, dynamic, reserved, reserved IP, gateway + DNS server
    const free = (await call('GET', `${'subnets/10.20.0.0%2F24/'}?op=unreserved_ip_ranges`)).json() as { start: string; end: string }[];
    expect(free[0]).toEqual({ start: '10.20.0.2', end: '10.20.0.9', num_addresses: 8 });
  });

  it('refuses to leave a DHCP VLAN without a dynamic range, and stops serving when DHCP goes off', async () => {
    const ranges = (await ok('GET', 'ipranges/')) as unknown as Json[];
    const dynamic = ranges.filter((r) => r.type === 'dynamic');
    expect((await call('DELETE', `ipranges/${dynamic[0].id}/`)).status).toBe(204);
    const last = await call('DELETE', `ipranges/${dynamic[1].id}/`);
    expect(last.status).toBe(400);
    expect(last.text).toContain('has DHCP on');
    const s = await ok('GET', 'subnets/10.20.0.0%2F24/');
    const before = pushed.get('rack-a')!.length;
    await ok('PUT', `vlans/${(s.vlan as Json).id}/`, { dhcp_on: 'false' });
    const off = (await pollUntil(() => pushed.get('rack-a')!, (l) => l.length === before + 1, { what: 'dhcp off update' }))[before];
    expect(off.ops).toEqual([{ op: 'removeSubnet', subnetId: s.id }]);
    expect((await snapshot('rack-a')).subnets).toEqual([]);
    await expect(snapshot('no-such-rack')).rejects.toMatchObject({ code: 'UNKNOWN_RACK' });
  });

  it('promotes the secondary rack when the primary is removed, and lists networking in describe/', async () => {
    const f = await ok('POST', 'fabrics/', { name: 'promo' });
    const v = (f.vlans as Json[])[0];
    await ok('PUT', `fabrics/${f.id}/vlans/untagged/`, { primary_rack: 'rack-a', secondary_rack: 'rack-b' });
    const promoted = await ok('PUT', `vlans/${v.id}/`, { primary_rack: '' });
    expect(promoted).toMatchObject({ primary_rack: 'rack-b', secondary_rack: null });
    const same = await call('PUT', `vlans/${v.id}/`, { secondary_rack: 'rack-b' });
    expect(same.status).toBe(400);
    const d = (await h.call(null, 'GET', `${API}/describe/`)).json() as { resources: { name: string; auth: { path: string } | null }[] };
    const names = d.resources.map((r) => r.name);
    for (const n of ['FabricsHandler', 'FabricHandler', 'VlansHandler', 'VlanHandler', 'SubnetsHandler', 'SubnetHandler', 'IPRangesHandler', 'IPRangeHandler']) {
      expect(names.filter((x) => x === n)).toHaveLength(1);
    }
    expect(d.resources.find((r) => r.name === 'VlanHandler')!.auth!.path).toBe(`${API}/fabrics/{fabric_id}/vlans/{vid}/`);
    const del = await call('DELETE', `fabrics/${f.id}/`);
    expect(del.status).toBe(204);
  });
});
