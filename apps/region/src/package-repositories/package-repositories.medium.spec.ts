import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
type Repo = Record<string, unknown> & { id: number; name: string };

describe('package-repositories/ and package-repositories/{id}/', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let user: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    user = await h.createUser('user', false);
  });
  afterAll(() => h.stop());

  const list = async (key: ApiKey = user) => (await h.call(key, 'GET', `${API}/package-repositories/`)).json() as Repo[];

  it("starts with MAAS's default archives, in MAAS's shape", async () => {
    const repos = await list();
    expect(repos.map((r) => r.name)).toEqual(['main_archive', 'ports_archive']);
    expect(repos[0]).toEqual({
      id: repos[0].id, name: 'main_archive', url: 'http://archive.ubuntu.com/ubuntu', distributions: [], disabled_pockets: [], disabled_components: [],
      disable_sources: true, components: [], arches: ['amd64', 'i386'], key: '', enabled: true, resource_uri: `${API}/package-repositories/${repos[0].id}/`,
    });
    expect(repos[1]).toMatchObject({ url: 'http://ports.ubuntu.com/ubuntu-ports', arches: ['armhf', 'arm64', 'ppc64el', 's390x'] });
  });

  it('creates, reads, updates and deletes a custom repository', async () => {
    const c = await h.call(admin, 'POST', `${API}/package-repositories/`, {
      name: 'internal', url: 'http://apt.example/ubuntu', distributions: 'jammy,noble', components: ['main', 'extra'], arches: 'amd64', disabled_pockets: 'backports', enabled: 'false',
    });
    expect(c.status).toBe(200);
    const r = c.json() as Repo;
    expect(r).toMatchObject({ name: 'internal', distributions: ['jammy', 'noble'], components: ['main', 'extra'], arches: ['amd64'], disabled_pockets: ['backports'], enabled: false });
    expect((await h.call(user, 'GET', `${API}/package-repositories/${r.id}/`)).json()).toEqual(r);
    const u = await h.call(admin, 'PUT', `${API}/package-repositories/${r.id}/`, { enabled: 'true', key: 'KEYDATA' });
    expect(u.json()).toEqual({ ...r, enabled: true, key: 'KEYDATA' });
    expect((await h.call(admin, 'DELETE', `${API}/package-repositories/${r.id}/`)).status).toBe(204);
    expect((await h.call(user, 'GET', `${API}/package-repositories/${r.id}/`)).status).toBe(404);
  });

  it('changes the default archives only as MAAS allows, and never deletes them', async () => {
    const [main] = await list();
    const off = await h.call(admin, 'PUT', `${API}/package-repositories/${main.id}/`, { disabled_components: 'universe,multiverse', disabled_pockets: 'backports' });
    expect(off.json()).toMatchObject({ disabled_components: ['universe', 'multiverse'], disabled_pockets: ['backports'] });
    const comps = await h.call(admin, 'PUT', `${API}/package-repositories/${main.id}/`, { components: 'main' });
    expect(comps.status).toBe(400);
    expect(comps.json()).toEqual({ components: ["This is a default Ubuntu repository. Please update 'disabled_components' instead."] });
    const del = await h.call(admin, 'DELETE', `${API}/package-repositories/${main.id}/`);
    expect(del.status).toBe(409);
    expect(del.text).toMatch(/can't be deleted/);
  });

  it('refuses bad input, duplicate names and non-administrators', async () => {
    const bad = await h.call(admin, 'POST', `${API}/package-repositories/`, { url: 'not a url', arches: 'vax', disabled_pockets: 'proposed' });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.json() as object).sort()).toEqual(['arches', 'disabled_pockets', 'name', 'url']);
    expect((await h.call(admin, 'POST', `${API}/package-repositories/`, { name: 'main_archive', url: 'http://x.example/' })).status).toBe(400);
    expect((await h.call(admin, 'POST', `${API}/package-repositories/`, { name: 'c', url: 'http://x.example/', disabled_components: 'main' })).status).toBe(400);
    expect((await h.call(user, 'POST', `${API}/package-repositories/`, { name: 'u', url: 'http://x.example/' })).status).toBe(403);
    const [main] = await list();
    expect((await h.call(user, 'PUT', `${API}/package-repositories/${main.id}/`, { enabled: 'false' })).status).toBe(403);
    expect((await h.call(user, 'PUT', `${API}/package-repositories/99999/`, { enabled: 'false' })).status).toBe(404);
  });
});
