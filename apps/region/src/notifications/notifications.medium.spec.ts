import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
type N = { id: number; user: unknown; users: boolean; admins: boolean; message: string; context: unknown; category: string; dismissable: boolean };

describe('notifications/ and notifications/{id}/', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let alice: ApiKey;
  let bob: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    alice = await h.createUser('alice', false);
    bob = await h.createUser('bob', false);
  });
  afterAll(() => h.stop());

  const create = async (body: Record<string, string>) => {
    const r = await h.call(admin, 'POST', `${API}/notifications/`, body);
    if (r.status !== 200) throw new Error(`${r.status} ${r.text}`);
    return r.json() as N;
  };
  const ids = async (key: ApiKey) => ((await h.call(key, 'GET', `${API}/notifications/`)).json() as N[]).map((n) => n.id);

  it('targets users, admins or one user, and each sees what is aimed at them', async () => {
    const all = await create({ message: 'to users', users: 'true', context: '{"a": 1}', category: 'warning' });
    expect(all).toEqual({
      id: all.id, ident: null, user: null, users: true, admins: false, message: 'to users', context: { a: 1 }, category: 'warning', dismissable: true,
      resource_uri: `${API}/notifications/${all.id}/`,
    });
    const admins = await create({ message: 'to admins', admins: 'true' });
    const one = await create({ message: 'to alice', user: 'alice', ident: 'hello' });
    expect(one.user).toEqual({ is_superuser: false, username: 'alice', email: expect.any(String), is_local: true, resource_uri: `${API}/users/alice/` });
    expect(await ids(alice)).toEqual([all.id, one.id]);
    expect(await ids(bob)).toEqual([all.id]);
    expect(await ids(admin)).toEqual([admins.id]);

    expect((await h.call(bob, 'GET', `${API}/notifications/${one.id}/`)).status).toBe(403);
    expect((await h.call(admin, 'GET', `${API}/notifications/${one.id}/`)).status).toBe(200);
    expect((await h.call(alice, 'GET', `${API}/notifications/${one.id}/`)).json()).toMatchObject({ message: 'to alice', ident: 'hello' });
  });

  it('dismisses per user, repeatably, and only what is aimed at the caller', async () => {
    const n = await create({ message: 'dismiss me', users: 'true' });
    expect((await h.call(alice, 'POST', `${API}/notifications/${n.id}/?op=dismiss`)).status).toBe(200);
    expect((await h.call(alice, 'POST', `${API}/notifications/${n.id}/?op=dismiss`)).status).toBe(200);
    expect(await ids(alice)).not.toContain(n.id);
    expect(await ids(bob)).toContain(n.id);
    expect((await h.call(admin, 'POST', `${API}/notifications/${n.id}/?op=dismiss`)).status).toBe(403);
    const sticky = await create({ message: 'sticky', users: 'true', dismissable: 'false' });
    expect(sticky.dismissable).toBe(false);
    expect((await h.call(bob, 'POST', `${API}/notifications/${sticky.id}/?op=dismiss`)).status).toBe(409);
  });

  it('lets administrators update and delete, and refuses users and bad input', async () => {
    const n = await create({ message: 'draft', admins: 'true' });
    const u = await h.call(admin, 'PUT', `${API}/notifications/${n.id}/`, { message: 'final', category: 'error' });
    expect(u.json()).toMatchObject({ id: n.id, message: 'final', category: 'error', admins: true });
    expect((await h.call(alice, 'PUT', `${API}/notifications/${n.id}/`, { message: 'x' })).status).toBe(403);
    expect((await h.call(alice, 'POST', `${API}/notifications/`, { message: 'x', users: 'true' })).status).toBe(403);
    expect((await h.call(alice, 'DELETE', `${API}/notifications/${n.id}/`)).status).toBe(403);
    expect((await h.call(admin, 'DELETE', `${API}/notifications/${n.id}/`)).status).toBe(204);
    expect((await h.call(admin, 'GET', `${API}/notifications/${n.id}/`)).status).toBe(404);
    expect((await h.call(alice, 'PUT', `${API}/notifications/${n.id}/`, { message: 'x' })).status).toBe(404);

    const bad = await h.call(admin, 'POST', `${API}/notifications/`, { category: 'loud', context: '[1]', user: 'nobody', users: 'maybe' });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.json() as object).sort()).toEqual(['category', 'context', 'message', 'user', 'users']);
  });
});
