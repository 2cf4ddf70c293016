import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';

type Json = Record<string, unknown> & { id: number };

describe('spaces/ and static-routes/ through HTTP', () => {
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

  it('creates, reads, renames and deletes spaces; VLANs reference them and fall back to the undefined space', async () => {
    const s = await ok('POST', 'spaces/', { name: 'dmz', description: 'outside' });
    expect(s).toEqual({ id: s.id, name: 'dmz', description: 'outside', vlans: [], subnets: [], resource_uri: `${API}/spaces/${s.id}/` });
    const unnamed = await ok('POST', 'spaces/', {});
    expect(unnamed.name).toBe(`space-${unnamed.id}`);

    const f = await ok('POST', 'fabrics/', {});
    const v = await ok('POST', `fabrics/${f.id}/vlans/`, { vid: '30', space: 'dmz' });
    expect(v.space).toBe('dmz');
    const sub = await ok('POST', 'subnets/', { cidr: '10.30.0.0/24', vlan: String(v.id) });
    expect(sub.space).toBe('dmz');

    const read = await ok('GET', `spaces/${s.id}/`, undefined, user);
    expect((read.vlans as Json[]).map((x) => x.id)).toEqual([v.id]);
    expect((read.subnets as Json[]).map((x) => x.id)).toEqual([sub.id]);
    expect((await ok('GET', 'spaces/dmz/')).id).toBe(s.id);

    // The fabric's untagged VLAN is in no space: the undefined space lists it.
    const list = (await ok('GET', 'spaces/', undefined, user)) as unknown as Json[];
    const undef = list.find((x) => x.id === -1)!;
    expect(undef).toMatchObject({ name: 'undefined', resource_uri: `${API}/spaces/-1/` });
    expect((undef.vlans as Json[]).some((x) => x.fabric_id === f.id && x.vid === 0)).toBe(true);
    expect((await ok('GET', 'spaces/-1/')).name).toBe('undefined');

    // Renaming the space renames what the VLAN shows.
    expect((await ok('PUT', `spaces/${s.id}/`, { name: 'edge' })).name).toBe('edge');
    expect((await ok('GET', `vlans/${v.id}/`)).space).toBe('edge');

    // Moving a VLAN out of its space, and back.
    expect((await ok('PUT', `vlans/${v.id}/`, { space: '' })).space).toBe('undefined');
    expect((await ok('PUT', `vlans/${v.id}/`, { space: String(s.id) })).space).toBe('edge');

    expect((await call('DELETE', `spaces/${s.id}/`)).status).toBe(204);
    expect((await call('GET', `spaces/${s.id}/`)).status).toBe(404);
    expect((await ok('GET', `vlans/${v.id}/`)).space).toBe('undefined');
  });

  it('refuses what MAAS refuses', async () => {
    await ok('POST', 'spaces/', { name: 'taken' });
    expect((await call('POST', 'spaces/', { name: 'x' }, user)).status).toBe(403);
    const dup = await call('POST', 'spaces/', { name: 'taken' });
    expect(dup.status).toBe(400);
    expect(dup.json()).toEqual({ name: ['Space with this Name already exists.'] });
    expect((await call('POST', 'spaces/', { name: 'undefined' })).status).toBe(400);
    expect((await call('POST', 'spaces/', { name: 'bad name' })).json()).toHaveProperty('name');
    const mod = await call('PUT', 'spaces/-1/', { name: 'x' });
    expect(mod.status).toBe(400);
    expect(mod.text).toContain('Space cannot be modified: undefined');
    expect((await call('DELETE', 'spaces/-1/')).text).toContain('Space cannot be deleted: undefined');
    expect((await call('GET', 'spaces/999999/')).status).toBe(404);
    expect((await call('DELETE', 'spaces/999999/')).status).toBe(404);
    const f = await ok('POST', 'fabrics/', {});
    const bad = await call('POST', `fabrics/${f.id}/vlans/`, { vid: '31', space: 'nowhere' });
    expect(bad.status).toBe(400);
    expect(bad.json()).toEqual({ space: ['Select a valid choice. nowhere is not one of the available choices.'] });
  });

  it('keeps static routes between subnets with a gateway on the source subnet', async () => {
    const a = await ok('POST', 'subnets/', { cidr: '10.40.0.0/24' });
    const b = await ok('POST', 'subnets/', { cidr: '10.41.0.0/24' });
    const c = await ok('POST', 'subnets/', { cidr: 'fd40::/64' });
    const r = await ok('POST', 'static-routes/', { source: String(a.id), destination: '10.41.0.0/24', gateway_ip: '10.40.0.254' });
    expect(r).toMatchObject({
      gateway_ip: '10.40.0.254',
      metric: 0,
      source: expect.objectContaining({ id: a.id, cidr: '10.40.0.0/24' }),
      destination: expect.objectContaining({ id: b.id }),
      resource_uri: `${API}/static-routes/${r.id}/`,
    });
    expect((await ok('GET', `static-routes/${r.id}/`, undefined, user)).id).toBe(r.id);
    expect(((await ok('GET', 'static-routes/', undefined, user)) as unknown as Json[]).map((x) => x.id)).toContain(r.id);
    expect(await ok('PUT', `static-routes/${r.id}/`, { metric: '5' })).toMatchObject({ metric: 5, gateway_ip: '10.40.0.254' });

    const refuse = async (body: Record<string, string>, expected: unknown, path = 'static-routes/', method = 'POST') => {
      const res = await call(method, path, body);
      expect(res.status).toBe(400);
      expect(res.json()).toEqual(expected);
    };
    await refuse({}, { source: ['This field is required.'], destination: ['This field is required.'], gateway_ip: ['This field is required.'] });
    await refuse({ source: String(a.id), destination: String(b.id), gateway_ip: '10.41.0.1' }, { gateway_ip: ['gateway_ip must be with in the source subnet.'] });
    await refuse({ source: String(a.id), destination: String(a.id), gateway_ip: '10.40.0.1' }, { __all__: ['source and destination cannot be the same subnet.'] });
    await refuse({ source: String(a.id), destination: String(c.id), gateway_ip: '10.40.0.1' }, { __all__: ['source and destination must be the same IP version.'] });
    await refuse({ source: String(a.id), destination: String(b.id), gateway_ip: '10.40.0.254' }, {
      __all__: ['Static route with this Source, Destination and Gateway ip already exists.'],
    });
    await refuse({ source: '999999', destination: String(b.id), gateway_ip: '10.40.0.1' }, { source: ['Select a valid choice. 999999 is not one of the available choices.'] });
    await refuse({ gateway_ip: '10.99.0.1' }, { gateway_ip: ['gateway_ip must be with in the source subnet.'] }, `static-routes/${r.id}/`, 'PUT');
    expect((await call('POST', 'static-routes/', { source: String(a.id), destination: String(b.id), gateway_ip: '10.40.0.2' }, user)).status).toBe(403);
    expect((await call('DELETE', `static-routes/${r.id}/`, undefined, user)).status).toBe(403);

    // Deleting the source subnet takes its routes with it.
    const r2 = await ok('POST', 'static-routes/', { source: String(b.id), destination: String(a.id), gateway_ip: '10.41.0.1' });
    expect((await call('DELETE', `static-routes/${r.id}/`)).status).toBe(204);
    expect((await call('GET', `static-routes/${r.id}/`)).status).toBe(404);
    expect((await call('DELETE', `subnets/${b.id}/`)).status).toBe(204);
    expect((await call('GET', `static-routes/${r2.id}/`)).status).toBe(404);
  });
});
