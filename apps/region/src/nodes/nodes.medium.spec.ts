import { RegisterRack } from '@kiln/contracts';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';

type Json = Record<string, unknown> & { system_id: string };

describe('devices/, nodes/ and regioncontrollers/ through HTTP', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let alice: ApiKey;
  let bob: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    alice = await h.createUser('alice', false);
    bob = await h.createUser('bob', false);
    await h.bus.request(RegisterRack, ['rack-n'], {
      rackId: 'rack-n',
      hostname: 'rack-n-host',
      interfaces: [{ name: 'eth0', mac: '52:54:00:ee:10:01', addresses: ['10.60.0.2/24'] }],
    });
  });
  afterAll(() => h.stop());

  const call = (method: string, path: string, body?: Record<string, string | string[]>, key: ApiKey = admin) => h.call(key, method, `${API}/${path}`, body);
  const ok = async (method: string, path: string, body?: Record<string, string | string[]>, key: ApiKey = admin) => {
    const r = await call(method, path, body, key);
    if (r.status !== 200) throw new Error(`${method} ${path} -> ${r.status} ${r.text}`);
    return r.json() as Json;
  };
  const list = async (path: string, key: ApiKey = admin) => (await ok('GET', path, undefined, key)) as unknown as Json[];
  const refused = async (method: string, path: string, body: Record<string, string | string[]> | undefined, status: number, expected?: unknown, key: ApiKey = admin) => {
    const r = await call(method, path, body, key);
    expect({ status: r.status, path, text: r.status === status ? '' : r.text }).toEqual({ status, path, text: '' });
    if (expected !== undefined) expect(typeof expected === 'string' ? r.text : r.json()).toEqual(expected);
  };

  it('creates devices with their MACs, owned by their creator, and shows them as MAAS does', async () => {
    const m = await ok('POST', 'machines/', { architecture: 'amd64/generic', mac_addresses: '52:54:00:aa:10:01', power_type: 'manual', hostname: 'host-m', commission: 'false' });
    const d = await ok('POST', 'devices/', { mac_addresses: ['52:54:00:dd:10:01', '52-54-00-DD-10-02'], hostname: 'cam1', description: 'a camera', parent: m.system_id as string }, alice);
    expect(d).toMatchObject({
      hostname: 'cam1',
      description: 'a camera',
      fqdn: 'cam1.maas',
      domain: expect.objectContaining({ name: 'maas' }),
      owner: 'alice',
      owner_data: {},
      parent: m.system_id,
      zone: expect.objectContaining({ name: 'default' }),
      node_type: 1,
      node_type_name: 'Device',
      resource_uri: `${API}/devices/${d.system_id}/`,
    });
    expect((d.interface_set as Json[]).map((i) => [i.name, i.mac_address])).toEqual([
      ['eth0', '52:54:00:dd:10:01'],
      ['eth1', '52:54:00:dd:10:02'],
    ]);
    const gen = await ok('POST', 'devices/', { mac_addresses: '52:54:00:dd:10:03' }, bob);
    expect(gen.hostname).toMatch(/^[a-z]+-[a-z]+$/);

    // Users see their own devices; administrators see all.
    expect((await list('devices/', alice)).map((x) => x.system_id)).toEqual([d.system_id]);
    expect((await list('devices/', bob)).map((x) => x.system_id)).toEqual([gen.system_id]);
    expect((await list('devices/')).map((x) => x.system_id)).toEqual([d.system_id, gen.system_id]);
    await refused('GET', `devices/${d.system_id}/`, undefined, 403, undefined, bob);
    // Filters.
    expect((await list('devices/?mac_address=52:54:00:dd:10:02')).map((x) => x.system_id)).toEqual([d.system_id]);
    expect((await list('devices/?hostname=cam1&hostname=nothing')).map((x) => x.system_id)).toEqual([d.system_id]);
    expect((await list(`devices/?id=${gen.system_id}`)).map((x) => x.system_id)).toEqual([gen.system_id]);
    expect(await list('devices/?zone=nowhere')).toEqual([]);
    await refused('GET', 'devices/?mac_address=nope', undefined, 400, 'Invalid MAC address(es): nope');

    // Update, annotations, restore, as the owner; not as another user.
    const dom = await ok('POST', 'domains/', { name: 'cams.example' });
    expect(await ok('PUT', `devices/${d.system_id}/`, { hostname: 'cam-one', domain: 'cams.example', parent: '' }, alice)).toMatchObject({
      hostname: 'cam-one',
      fqdn: 'cam-one.cams.example',
      parent: null,
      domain: expect.objectContaining({ id: (dom as unknown as { id: number }).id }),
    });
    await refused('PUT', `devices/${d.system_id}/`, { hostname: 'x' }, 403, undefined, bob);
    expect((await ok('POST', `devices/${d.system_id}/?op=set_workload_annotations`, { rack: 'r1', shelf: '2' }, alice)).workload_annotations).toEqual({ rack: 'r1', shelf: '2' });
    expect((await ok('POST', `devices/${d.system_id}/?op=set_owner_data`, { shelf: '' }, alice)).owner_data).toEqual({ rack: 'r1' });
    expect((await ok('POST', `devices/${d.system_id}/?op=restore_networking_configuration`, {}, alice)).system_id).toBe(d.system_id);
    expect((await ok('POST', `devices/${d.system_id}/?op=restore_default_configuration`, {}, alice)).system_id).toBe(d.system_id);
    await refused('POST', `devices/${gen.system_id}/?op=set_owner_data`, { a: 'b' }, 403, undefined, alice);

    // is_registered and set_zone (administrators).
    expect(await ok('GET', 'devices/?op=is_registered&mac_address=52-54-00-dd-10-02', undefined, bob)).toBe(true);
    expect(await ok('GET', 'devices/?op=is_registered&mac_address=52:54:00:dd:99:99')).toBe(false);
    await refused('GET', 'devices/?op=is_registered&mac_address=zz', undefined, 400);
    await ok('POST', 'zones/', { name: 'lab-zone' });
    expect((await call('POST', 'devices/?op=set_zone', { zone: 'lab-zone', nodes: [d.system_id, gen.system_id] })).status).toBe(204);
    expect(((await ok('GET', `devices/${gen.system_id}/`)).zone as Json).name).toBe('lab-zone');
    expect((await list('devices/?zone=lab-zone')).map((x) => x.system_id)).toEqual([d.system_id, gen.system_id]);
    await refused('POST', 'devices/?op=set_zone', { zone: 'lab-zone', nodes: d.system_id }, 403, undefined, alice);
    await refused('POST', 'devices/?op=set_zone', { zone: 'nozone', nodes: d.system_id }, 400, { zone: ['Select a valid choice. nozone is not one of the available choices.'] });
    await refused('POST', 'devices/?op=set_zone', { zone: 'lab-zone', nodes: 'nothere' }, 400, 'Unknown device(s): nothere.');
    await refused('DELETE', 'zones/lab-zone/', undefined, 400, 'Cannot delete zone lab-zone: 2 node(s) still belong to it.');

    // Refusals of create.
    await refused('POST', 'devices/', {}, 400, { mac_addresses: ['This field is required.'] });
    await refused('POST', 'devices/', { mac_addresses: 'zz' }, 400, { mac_addresses: ["'zz' is not a valid MAC address."] });
    await refused('POST', 'devices/', { mac_addresses: '52:54:00:dd:10:01' }, 400, { mac_addresses: ['MAC address 52:54:00:dd:10:01 already in use on cam-one.'] });
    await refused('POST', 'devices/', { mac_addresses: '52:54:00:aa:10:01' }, 400, { mac_addresses: ['MAC address 52:54:00:aa:10:01 already in use on host-m.'] });
    await refused('POST', 'devices/', { mac_addresses: '52:54:00:dd:10:09', hostname: 'host-m' }, 400, { hostname: ['Node with hostname "host-m" already exists'] });
    await refused('POST', 'devices/', { mac_addresses: '52:54:00:dd:10:09', hostname: 'bad_name' }, 400, { hostname: ["Invalid hostname: 'bad_name'."] });
    await refused('POST', 'devices/', { mac_addresses: '52:54:00:dd:10:09', domain: 'nowhere', zone: 'nozone', parent: 'nomachine' }, 400, {
      domain: ['Select a valid choice. nowhere is not one of the available choices.'],
      zone: ['Select a valid choice. nozone is not one of the available choices.'],
      parent: ['Select a valid choice. nomachine is not one of the available choices.'],
    });
    await refused('GET', 'devices/nothere/', undefined, 404);
    // MACs and hostnames are unique across machines and devices.
    await refused('POST', 'machines/', { architecture: 'amd64/generic', mac_addresses: '52:54:00:dd:10:02', power_type: 'manual', commission: 'false' }, 400, {
      mac_addresses: ['MAC address 52:54:00:dd:10:02 already in use on cam-one.'],
    });
    await refused('POST', 'machines/', { architecture: 'amd64/generic', mac_addresses: '52:54:00:aa:10:09', hostname: 'cam-one', power_type: 'manual', commission: 'false' }, 400, {
      hostname: ['Node with hostname "cam-one" already exists'],
    });

    // A device whose parent machine is deleted goes with it (MAAS cascades children).
    const child = await ok('POST', 'devices/', { mac_addresses: '52:54:00:dd:10:05', parent: m.system_id as string });
    expect((await call('DELETE', `machines/${m.system_id}/`)).status).toBe(204);
    await refused('GET', `devices/${child.system_id}/`, undefined, 404);

    await refused('DELETE', `devices/${d.system_id}/`, undefined, 403, undefined, bob);
    expect((await call('DELETE', `devices/${d.system_id}/`, undefined, alice)).status).toBe(204);
    await refused('GET', `devices/${d.system_id}/`, undefined, 404);
  });

  it('lists every kind of node in nodes/ with its node_type, and reads and deletes through nodes/{system_id}/', async () => {
    const m = await ok('POST', 'machines/', { architecture: 'amd64/generic', mac_addresses: '52:54:00:aa:20:01', power_type: 'manual', hostname: 'node-m', commission: 'false' });
    const d = await ok('POST', 'devices/', { mac_addresses: '52:54:00:dd:20:01', hostname: 'node-d' }, alice);
    const all = await list('nodes/');
    const types = new Map(all.map((n) => [n.system_id, [n.node_type, n.node_type_name]]));
    expect(types.get(m.system_id)).toEqual([0, 'Machine']);
    expect(types.get(d.system_id)).toEqual([1, 'Device']);
    expect(types.get('rack-n')).toEqual([2, 'Rack controller']);
    expect([...types.values()].filter(([t]) => t === 3)).toEqual([[3, 'Region controller']]);

    // Bob sees the machines and controllers, not Alice's device; a machine-only filter lists machines only.
    expect((await list('nodes/', bob)).map((n) => n.system_id)).not.toContain(d.system_id);
    expect((await list('nodes/', alice)).map((n) => n.system_id)).toContain(d.system_id);
    expect((await list('nodes/?hostname=node-d&hostname=node-m')).map((n) => n.system_id).sort()).toEqual([m.system_id, d.system_id].sort());
    expect((await list('nodes/?status=new')).every((n) => n.node_type === 0)).toBe(true);
    expect((await list('nodes/?id=rack-n')).map((n) => n.hostname)).toEqual(['rack-n-host']);
    await refused('GET', 'nodes/?nonsense=1', undefined, 400);

    expect(await ok('GET', `nodes/${m.system_id}/`)).toMatchObject({ system_id: m.system_id, node_type: 0, hostname: 'node-m' });
    expect(await ok('GET', `nodes/${d.system_id}/`, undefined, alice)).toMatchObject({ node_type: 1, hostname: 'node-d', owner: 'alice' });
    expect(await ok('GET', 'nodes/rack-n/', undefined, bob)).toMatchObject({ node_type: 2 });
    await refused('GET', `nodes/${d.system_id}/`, undefined, 403, undefined, bob);
    await refused('GET', 'nodes/nothere/', undefined, 404);

    await refused('DELETE', `nodes/${m.system_id}/`, undefined, 403, undefined, alice);
    await refused('DELETE', 'nodes/rack-n/', undefined, 403, undefined, alice);
    expect((await call('DELETE', `nodes/${d.system_id}/`, undefined, alice)).status).toBe(204);
    expect((await call('DELETE', `nodes/${m.system_id}/`)).status).toBe(204);
    await refused('GET', `nodes/${m.system_id}/`, undefined, 404);
    await refused('DELETE', 'nodes/nothere/', undefined, 404);
  });

  it('records this region with a heartbeat, lists it with its dead peers, and refuses to delete a running region', async () => {
    const regions = await list('regioncontrollers/', alice);
    expect(regions).toHaveLength(1);
    const self = regions[0];
    expect(self).toMatchObject({ node_type: 3, node_type_name: 'Region controller', service_set: [expect.objectContaining({ name: 'regiond', status: 'running' })] });
    expect((await list('region-controllers/')).map((r) => r.system_id)).toEqual([self.system_id]);
    expect((await ok('GET', `regioncontrollers/${self.system_id}/`)).system_id).toBe(self.system_id);

    // The heartbeat moves last_seen.
    const seen = async () => (await h.ds.query(`SELECT last_seen FROM region_controllers WHERE system_id = $1`, [self.system_id]))[0].last_seen as Date;
    const first = await seen();
    const deadline = Date.now() + 10_000;
    while ((await seen()).getTime() === first.getTime() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect((await seen()).getTime()).toBeGreaterThan(first.getTime());

    await refused('DELETE', `regioncontrollers/${self.system_id}/`, undefined, 403, undefined, alice);
    const r = await call('DELETE', `regioncontrollers/${self.system_id}/`);
    expect(r.status).toBe(409);
    expect(r.text).toMatch(/it is running/);

    // A peer that stopped heartbeating long ago is dead, and its record can go.
    await h.ds.query(`INSERT INTO region_controllers (system_id, hostname, pid, version, last_seen) VALUES ('deadpeer', 'old-region', 42, '3.5.0', now() - interval '1 hour')`);
    const peer = (await list('regioncontrollers/')).find((x) => x.system_id === 'deadpeer')!;
    expect(peer.service_set).toEqual([expect.objectContaining({ name: 'regiond', status: 'dead' })]);
    expect((await list('nodes/?id=deadpeer')).map((n) => n.node_type)).toEqual([3]);
    expect((await call('DELETE', 'nodes/deadpeer/')).status).toBe(204);
    await refused('GET', 'regioncontrollers/deadpeer/', undefined, 404);
  });

  it('describes every new handler with its operations and :param docs', async () => {
    const r = await h.call(null, 'GET', '/MAAS/api/2.0/describe/');
    const d = r.json() as { resources: { name: string; auth: null | { path: string; actions: { name: string; op: string | null; doc: string }[] } }[] };
    const byName = new Map(d.resources.map((x) => [x.name, x.auth!]));
    const expected: Record<string, [string, string[]]> = {
      SpacesHandler: ['/MAAS/api/2.0/spaces/', ['read', 'create']],
      SpaceHandler: ['/MAAS/api/2.0/spaces/{id}/', ['read', 'update', 'delete']],
      StaticRoutesHandler: ['/MAAS/api/2.0/static-routes/', ['read', 'create']],
      StaticRouteHandler: ['/MAAS/api/2.0/static-routes/{id}/', ['read', 'update', 'delete']],
      DomainsHandler: ['/MAAS/api/2.0/domains/', ['read', 'create', 'set_serial']],
      DomainHandler: ['/MAAS/api/2.0/domains/{id}/', ['read', 'update', 'delete', 'set_default']],
      DNSResourcesHandler: ['/MAAS/api/2.0/dnsresources/', ['read', 'create']],
      DNSResourceHandler: ['/MAAS/api/2.0/dnsresources/{id}/', ['read', 'update', 'delete']],
      DNSResourceRecordsHandler: ['/MAAS/api/2.0/dnsresourcerecords/', ['read', 'create']],
      DNSResourceRecordHandler: ['/MAAS/api/2.0/dnsresourcerecords/{id}/', ['read', 'update', 'delete']],
      DevicesHandler: ['/MAAS/api/2.0/devices/', ['read', 'create', 'is_registered', 'set_zone']],
      DeviceHandler: [
        '/MAAS/api/2.0/devices/{system_id}/',
        ['read', 'update', 'delete', 'set_workload_annotations', 'set_owner_data', 'restore_networking_configuration', 'restore_default_configuration'],
      ],
      NodesHandler: ['/MAAS/api/2.0/nodes/', ['read']],
      NodeHandler: ['/MAAS/api/2.0/nodes/{system_id}/', ['read', 'delete']],
      RegionControllersHandler: ['/MAAS/api/2.0/regioncontrollers/', ['read']],
      RegionControllerHandler: ['/MAAS/api/2.0/regioncontrollers/{system_id}/', ['read', 'delete']],
    };
    for (const [name, [path, actions]] of Object.entries(expected)) {
      const handler = byName.get(name);
      expect({ name, path: handler?.path }).toEqual({ name, path });
      expect(handler!.actions.map((a) => a.name).sort()).toEqual([...actions].sort());
    }
    const doc = (handler: string, action: string) => byName.get(handler)!.actions.find((a) => a.name === action)!.doc;
    expect(doc('DevicesHandler', 'create')).toContain(':param mac_addresses:');
    expect(doc('DomainsHandler', 'set_serial')).toContain(':param serial:');
    expect(doc('StaticRoutesHandler', 'create')).toContain(':param gateway_ip:');
    expect(doc('DNSResourceRecordsHandler', 'create')).toContain(':param rrdata:');
    expect(doc('SpaceHandler', 'update')).toContain(':param name:');
  });
});
