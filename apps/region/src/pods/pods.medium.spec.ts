import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
type Describe = { resources: { name: string; auth: { path: string; doc: string; params: string[]; actions: { name: string; op: string | null; doc: string; method: string }[] } }[] };

describe('pods/ and vm-hosts/', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let user: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    user = await h.createUser('user', false);
  });
  afterAll(() => h.stop());

  describe.each(['pods', 'vm-hosts'])('%s/', (path) => {
    it('lists no VM hosts', async () => {
      for (const key of [admin, user]) {
        const r = await h.call(key, 'GET', `${API}/${path}/`);
        expect(r.status).toBe(200);
        expect(r.json()).toEqual([]);
      }
      expect((await h.call(null, 'GET', `${API}/${path}/`)).status).toBe(401);
    });

    it('refuses to add a VM host with a 400 saying to add virsh machines instead, and adds nothing', async () => {
      const r = await h.call(admin, 'POST', `${API}/${path}/`, { type: 'virsh', power_address: 'qemu+ssh://kvm.example/system' });
      expect(r.status).toBe(400);
      expect(r.text).toMatch(/Kiln does not manage VM hosts \(pods\)/);
      expect(r.text).toMatch(/power_type=virsh/);
      expect((await h.call(admin, 'POST', `${API}/${path}/`, { type: 'lxd', power_address: 'https://lxd.example:8443' })).status).toBe(400);
      expect((await h.call(user, 'POST', `${API}/${path}/`, { type: 'virsh', power_address: 'qemu+ssh://kvm.example/system' })).status).toBe(403);
      expect((await h.call(admin, 'GET', `${API}/${path}/`)).json()).toEqual([]);
    });

    it('answers 404 for every VM host id and every operation on one', async () => {
      const calls: [string, string, Record<string, string>?][] = [
        ['GET', '1/'], ['PUT', '1/', { name: 'x' }], ['DELETE', '1/'], ['POST', '1/?op=refresh'], ['GET', '1/?op=parameters'],
        ['POST', '1/?op=compose', { cores: '2' }], ['POST', '1/?op=add_tag', { tag: 't' }], ['POST', '1/?op=remove_tag', { tag: 't' }],
      ];
      for (const [method, rest, body] of calls) {
        for (const key of [admin, user]) {
          const r = await h.call(key, method, `${API}/${path}/${rest}`, body);
          // The handler's own 404 (an unrouted path would be a bare 404 too).
          expect([method, rest, r.status, r.text]).toEqual([method, rest, 404, expect.stringMatching(/No Pod matches the given query/)]);
        }
      }
    });
  });

  it('lists the handlers in describe/ with their ops and params', async () => {
    const doc = (await h.call(null, 'GET', `${API}/describe/`)).json() as Describe;
    const byName = (name: string) => doc.resources.find((r) => r.name === name)?.auth;
    const one = ['add_tag POST add_tag', 'compose POST compose', 'delete DELETE -', 'parameters GET parameters', 'read GET -', 'refresh POST refresh', 'remove_tag POST remove_tag', 'update PUT -'];
    for (const [collection, item, path] of [['PodsHandler', 'PodHandler', 'pods'], ['VmHostsHandler', 'VmHostHandler', 'vm-hosts']]) {
      const c = byName(collection)!;
      expect(c.path).toBe(`${API}/${path}/`);
      expect(c.actions.map((a) => `${a.name} ${a.method} ${a.op ?? '-'}`).sort()).toEqual(['create POST -', 'read GET -']);
      expect(c.doc).toMatch(/does not manage VM hosts/);
      const create = c.actions.find((a) => a.name === 'create')!;
      for (const p of ['type', 'power_address', 'power_user', 'power_pass', 'name', 'zone', 'pool', 'tags']) expect(create.doc).toContain(`:param ${p}:`);
      const i = byName(item)!;
      expect(i.path).toBe(`${API}/${path}/{id}/`);
      expect(i.params).toEqual(['id']);
      expect(i.actions.map((a) => `${a.name} ${a.method} ${a.op ?? '-'}`).sort()).toEqual(one);
      expect(i.actions.find((a) => a.name === 'add_tag')!.doc).toContain(':param tag:');
    }
  });
});
