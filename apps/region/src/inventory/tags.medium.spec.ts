import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
type Json = Record<string, unknown>;

/** tags/ and tags/{name}/ through HTTP against a real region (MAAS api/tags.py). */
describe('tags against a real region', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let alice: ApiKey;
  const call = (key: ApiKey, method: string, path: string, body?: Record<string, string | string[]>) => h.call(key, method, `${API}/${path}`, body);

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    alice = await h.createUser('alice', false);
  });
  afterAll(() => h.stop());

  async function machine(mac: string): Promise<string> {
    const r = await call(admin, 'POST', 'machines/', { architecture: 'amd64/generic', mac_addresses: mac, power_type: 'manual', commission: 'false' });
    expect(r.status).toBe(200);
    return (r.json() as { system_id: string }).system_id;
  }

  it('creates, reads, updates and deletes tags as MAAS shows them; refuses what Kiln cannot do', async () => {
    const created = await call(admin, 'POST', 'tags/', { name: 'gpu', comment: 'has a GPU', kernel_opts: 'nomodeset' });
    expect(created.status).toBe(200);
    expect(created.json()).toEqual({ name: 'gpu', definition: '', comment: 'has a GPU', kernel_opts: 'nomodeset', resource_uri: `${API}/tags/gpu/` });
    expect((await call(alice, 'GET', 'tags/')).json()).toEqual([created.json()]);
    expect((await call(admin, 'PUT', 'tags/gpu/', { comment: 'GPU inside' })).json()).toMatchObject({ name: 'gpu', comment: 'GPU inside', kernel_opts: 'nomodeset' });

    const xpath = await call(admin, 'POST', 'tags/', { name: 'virtual', definition: '//node[@class="system"]' });
    expect(xpath.status).toBe(400);
    expect(xpath.json()).toEqual({ definition: ['Automatic (XPath) tag definitions are not supported by Kiln yet.'] });
    expect((await call(admin, 'POST', 'tags/', { name: 'gpu' })).status).toBe(400);
    expect((await call(alice, 'POST', 'tags/', { name: 'mine' })).status).toBe(403);
    expect((await call(alice, 'PUT', 'tags/gpu/', { comment: 'x' })).status).toBe(403);
    expect((await call(admin, 'GET', 'tags/nosuch/')).status).toBe(404);

    expect((await call(admin, 'POST', 'tags/', { name: 'doomed' })).status).toBe(200);
    expect((await call(admin, 'DELETE', 'tags/doomed/')).status).toBe(204);
    expect((await call(admin, 'GET', 'tags/doomed/')).status).toBe(404);
  });

  it('tags machines with update_nodes and lists them by machines and nodes; devices and controllers carry none; rebuild answers as MAAS', async () => {
    expect((await call(admin, 'POST', 'tags/', { name: 'rack-a' })).status).toBe(200);
    const [m1, m2] = [await machine('52:54:00:7a:00:01'), await machine('52:54:00:7a:00:02')];
    const updated = await call(admin, 'POST', 'tags/rack-a/?op=update_nodes', { add: [m1, m2, 'nosuchnode'] });
    expect(updated.json()).toEqual({ added: 2, removed: 0 });
    expect((await call(admin, 'POST', 'tags/rack-a/?op=update_nodes', { remove: m2 })).json()).toEqual({ added: 0, removed: 1 });
    expect((await call(alice, 'POST', 'tags/rack-a/?op=update_nodes', { add: m2 })).status).toBe(403);

    const ids = async (op: string) => ((await call(alice, 'GET', `tags/rack-a/?op=${op}`)).json() as Json[]).map((x) => x.system_id);
    expect(await ids('machines')).toEqual([m1]);
    expect(await ids('nodes')).toEqual([m1]);
    expect(((await call(admin, 'GET', `machines/${m1}/`)).json() as { tag_names: string[] }).tag_names).toEqual(['rack-a']);
    for (const op of ['devices', 'rack_controllers', 'region_controllers']) {
      const r = await call(alice, 'GET', `tags/rack-a/?op=${op}`);
      expect({ op, status: r.status, body: r.json() }).toEqual({ op, status: 200, body: [] });
      expect((await call(alice, 'GET', `tags/nosuch/?op=${op}`)).status).toBe(404);
    }
    expect((await call(admin, 'POST', 'tags/rack-a/?op=rebuild')).json()).toEqual({ rebuilding: 'rack-a' });
    expect((await call(alice, 'POST', 'tags/rack-a/?op=rebuild')).status).toBe(403);
    expect((await call(admin, 'POST', 'tags/nosuch/?op=rebuild')).status).toBe(404);
    // Rebuild leaves the mapping as update_nodes made it.
    expect(await ids('nodes')).toEqual([m1]);
  });
});
