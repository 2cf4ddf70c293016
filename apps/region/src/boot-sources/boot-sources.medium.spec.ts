import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
type Source = Record<string, unknown> & { id: number; url: string };
type Selection = Record<string, unknown> & { id: number; boot_source_id: number };
type Describe = { resources: { name: string; auth: { path: string; doc: string; params: string[]; actions: { name: string; op: string | null; doc: string; method: string }[] } }[] };

const DJANGO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/;

/** A multipart body with `fields` and one uploaded file per entry of `files`, as python-libmaas sends it. */
function multipart(fields: Record<string, string>, files: Record<string, Buffer>) {
  const b = 'kilnbootsrcboundary';
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  for (const [k, v] of Object.entries(files)) {
    parts.push(Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${k}"; filename="${k}"\r\nContent-Type: application/octet-stream\r\n\r\n`), v, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${b}--\r\n`));
  return { raw: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${b}` };
}

describe('boot-sources/ and boot-sources/{id}/selections/', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let user: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    user = await h.createUser('user', false);
  });
  afterAll(() => h.stop());

  const create = async (body: Record<string, string | string[]>) => h.call(admin, 'POST', `${API}/boot-sources/`, body);
  const count = async () => ((await h.call(admin, 'GET', `${API}/boot-sources/`)).json() as Source[]).length;

  describe('BootSourcesHandler and BootSourceHandler', () => {
    it("creates a source with a keyring file name and serves it in MAAS's shape", async () => {
      const before = Date.now();
      const c = await create({ url: 'http://images.example/ephemeral-v3/stable/', keyring_filename: '/usr/share/keyrings/example.gpg' });
      expect(c.status).toBe(201);
      const s = c.json() as Source;
      expect(s).toEqual({
        id: expect.any(Number),
        url: 'http://images.example/ephemeral-v3/stable/',
        keyring_filename: '/usr/share/keyrings/example.gpg',
        keyring_data: '',
        created: expect.stringMatching(DJANGO_TIME),
        updated: expect.stringMatching(DJANGO_TIME),
        resource_uri: `${API}/boot-sources/${s.id}/`,
      });
      expect(Date.parse(`${s.created as string}Z`)).toBeGreaterThanOrEqual(before - 1000);
      expect((await h.call(admin, 'GET', `${API}/boot-sources/${s.id}/`)).json()).toEqual(s);
      expect((await h.call(admin, 'GET', `${API}/boot-sources/`)).json()).toContainEqual(s);
    });

    it('takes keyring_data as base64 or as an uploaded file, and gives it back base64-encoded', async () => {
      const keyring = Buffer.from([0x99, 0x01, 0x0d, 0x04, 0xff, 0x00, 0x7f]);
      const b64 = await create({ url: 'https://mirror.example/b64/', keyring_data: keyring.toString('base64') });
      expect(b64.status).toBe(201);
      expect(b64.json()).toMatchObject({ keyring_filename: '', keyring_data: keyring.toString('base64') });
      const up = await h.call(admin, 'POST', `${API}/boot-sources/`, multipart({ url: 'file:///srv/mirror/', keyring_filename: '' }, { keyring_data: keyring }));
      expect(up.status).toBe(201);
      expect(up.json()).toMatchObject({ url: 'file:///srv/mirror/', keyring_filename: '', keyring_data: keyring.toString('base64') });
    });

    it('updates a source and deletes it with its selections', async () => {
      const s = (await create({ url: 'http://upd.example/', keyring_filename: '/k.gpg' })).json() as Source;
      const sel = (await h.call(admin, 'POST', `${API}/boot-sources/${s.id}/selections/`, { os: 'ubuntu', release: 'noble' })).json() as Selection;
      const u = await h.call(admin, 'PUT', `${API}/boot-sources/${s.id}/`, { url: 'https://upd.example/v2/' });
      expect(u.status).toBe(200);
      const updated = u.json() as Source;
      expect(updated).toEqual({ ...s, url: 'https://upd.example/v2/', updated: expect.stringMatching(DJANGO_TIME) });
      expect((updated.updated as string) >= (s.updated as string)).toBe(true);
      // Switching from a file name to data needs the file name cleared, as in MAAS.
      const both = await h.call(admin, 'PUT', `${API}/boot-sources/${s.id}/`, { keyring_data: Buffer.from('k').toString('base64') });
      expect(both.status).toBe(400);
      expect(both.json()).toEqual({ __all__: ['Only one of keyring_filename or keyring_data can be specified.'] });
      const swapped = await h.call(admin, 'PUT', `${API}/boot-sources/${s.id}/`, { keyring_filename: '', keyring_data: Buffer.from('k').toString('base64') });
      expect(swapped.json()).toMatchObject({ keyring_filename: '', keyring_data: 'aw==' });

      expect((await h.call(admin, 'DELETE', `${API}/boot-sources/${s.id}/`)).status).toBe(204);
      expect((await h.call(admin, 'GET', `${API}/boot-sources/${s.id}/`)).status).toBe(404);
      expect((await h.call(admin, 'GET', `${API}/boot-sources/${s.id}/selections/`)).status).toBe(404);
      expect((await h.call(admin, 'GET', `${API}/boot-sources/${s.id}/selections/${sel.id}/`)).status).toBe(404);
      const rows: unknown[] = await h.ds.query(`SELECT 1 FROM boot_source_selections WHERE id = $1`, [sel.id]);
      expect(rows).toEqual([]);
    });

    it('refuses a missing or bad url, a missing or double keyring, a taken url, and changes nothing', async () => {
      const before = await count();
      const noUrl = await create({ keyring_filename: '/k.gpg' });
      expect(noUrl.status).toBe(400);
      expect(noUrl.json()).toEqual({ url: ['This field is required.'] });
      for (const url of ['not a url', 'ftp://mirror.example/', 'http://', 'images.example/stable']) {
        const bad = await create({ url, keyring_filename: '/k.gpg' });
        expect([url, bad.status, bad.json()]).toEqual([url, 400, { url: ['Enter a valid URL.'] }]);
      }
      const noKeyring = await create({ url: 'http://nokeyring.example/' });
      expect(noKeyring.status).toBe(400);
      expect(noKeyring.json()).toEqual({ __all__: ['One of keyring_data or keyring_filename must be specified.'] });
      const bothKeyrings = await create({ url: 'http://both.example/', keyring_filename: '/k.gpg', keyring_data: 'aw==' });
      expect(bothKeyrings.json()).toEqual({ __all__: ['Only one of keyring_filename or keyring_data can be specified.'] });
      const notB64 = await create({ url: 'http://b64.example/', keyring_data: 'not base64!' });
      expect(notB64.status).toBe(400);
      expect(Object.keys(notB64.json() as object)).toEqual(['keyring_data']);
      const first = (await create({ url: 'http://taken.example/', keyring_filename: '/k.gpg' })).json() as Source;
      const taken = await create({ url: 'http://taken.example/', keyring_filename: '/other.gpg' });
      expect(taken.status).toBe(400);
      expect(taken.json()).toEqual({ url: ['Boot source with this Url already exists.'] });
      const other = (await create({ url: 'http://other.example/', keyring_filename: '/k.gpg' })).json() as Source;
      const moveToTaken = await h.call(admin, 'PUT', `${API}/boot-sources/${other.id}/`, { url: 'http://taken.example/' });
      expect(moveToTaken.status).toBe(400);
      expect((await h.call(admin, 'GET', `${API}/boot-sources/${other.id}/`)).json()).toEqual(other);
      expect(await count()).toBe(before + 2);
      expect(first.url).toBe('http://taken.example/');
    });

    it('refuses non-administrators (reads too, as MAAS does) and unknown ids', async () => {
      const s = (await create({ url: 'http://perm.example/', keyring_filename: '/k.gpg' })).json() as Source;
      expect((await h.call(user, 'POST', `${API}/boot-sources/`, { url: 'http://u.example/', keyring_filename: '/k.gpg' })).status).toBe(403);
      expect((await h.call(user, 'PUT', `${API}/boot-sources/${s.id}/`, { url: 'http://u.example/' })).status).toBe(403);
      expect((await h.call(user, 'DELETE', `${API}/boot-sources/${s.id}/`)).status).toBe(403);
      expect((await h.call(admin, 'GET', `${API}/boot-sources/${s.id}/`)).json()).toEqual(s);
      // As in MAAS, boot sources are an administrator's to read as well.
      expect((await h.call(user, 'GET', `${API}/boot-sources/`)).status).toBe(403);
      expect((await h.call(user, 'GET', `${API}/boot-sources/${s.id}/`)).status).toBe(403);
      for (const method of ['GET', 'PUT', 'DELETE']) expect((await h.call(admin, method, `${API}/boot-sources/999999/`)).status).toBe(404);
      expect((await h.call(user, 'PUT', `${API}/boot-sources/999999/`, { url: 'http://u.example/' })).status).toBe(404);
      expect((await h.call(null, 'GET', `${API}/boot-sources/`)).status).toBe(401);
    });
  });

  describe('BootSourceSelectionsHandler and BootSourceSelectionHandler', () => {
    let source: Source;
    const sel = (path = '') => `${API}/boot-sources/${source.id}/selections/${path}`;

    beforeAll(async () => {
      source = (await create({ url: 'http://selections.example/', keyring_filename: '/k.gpg' })).json() as Source;
    });

    it("creates selections with MAAS's defaults and lists, reads, updates and deletes them", async () => {
      const c = await h.call(admin, 'POST', sel(), { os: 'ubuntu', release: 'jammy' });
      expect(c.status).toBe(200);
      const s = c.json() as Selection;
      expect(s).toEqual({
        id: expect.any(Number), boot_source_id: source.id, os: 'ubuntu', release: 'jammy', arches: ['*'], subarches: ['*'], labels: ['*'],
        resource_uri: `${API}/boot-sources/${source.id}/selections/${s.id}/`,
      });
      const t = (await h.call(admin, 'POST', sel(), { os: 'ubuntu', release: 'noble', arches: ['amd64', 'arm64'], subarches: 'generic,hwe-24.04', labels: 'release' })).json() as Selection;
      expect(t).toMatchObject({ arches: ['amd64', 'arm64'], subarches: ['generic', 'hwe-24.04'], labels: ['release'] });
      expect((await h.call(admin, 'GET', sel())).json()).toEqual([s, t]);
      expect((await h.call(admin, 'GET', sel(`${s.id}/`))).json()).toEqual(s);
      const u = await h.call(admin, 'PUT', sel(`${s.id}/`), { release: 'focal', arches: 'amd64' });
      expect(u.status).toBe(200);
      expect(u.json()).toEqual({ ...s, release: 'focal', arches: ['amd64'] });
      expect((await h.call(admin, 'DELETE', sel(`${t.id}/`))).status).toBe(204);
      expect((await h.call(admin, 'GET', sel(`${t.id}/`))).status).toBe(404);
      expect(((await h.call(admin, 'GET', sel())).json() as Selection[]).map((x) => x.id)).toEqual([s.id]);
    });

    it('refuses a duplicate (os, release) on the same source, but not on another source', async () => {
      await h.call(admin, 'POST', sel(), { os: 'debian', release: 'bookworm' });
      const dup = await h.call(admin, 'POST', sel(), { os: 'debian', release: 'bookworm', arches: 'arm64' });
      expect(dup.status).toBe(400);
      expect(dup.json()).toEqual({ __all__: ['Boot source selection with this Boot source, Os and Release already exists.'] });
      const other = (await h.call(admin, 'POST', sel(), { os: 'debian', release: 'trixie' })).json() as Selection;
      const rename = await h.call(admin, 'PUT', sel(`${other.id}/`), { release: 'bookworm' });
      expect(rename.status).toBe(400);
      expect((await h.call(admin, 'GET', sel(`${other.id}/`))).json()).toEqual(other);
      const another = (await create({ url: 'http://another.example/', keyring_filename: '/k.gpg' })).json() as Source;
      expect((await h.call(admin, 'POST', `${API}/boot-sources/${another.id}/selections/`, { os: 'debian', release: 'bookworm' })).status).toBe(200);
    });

    it('refuses missing fields, non-administrators and unknown ids', async () => {
      const missing = await h.call(admin, 'POST', sel(), { arches: 'amd64' });
      expect(missing.status).toBe(400);
      expect(missing.json()).toEqual({ os: ['This field is required.'], release: ['This field is required.'] });
      const s = (await h.call(admin, 'POST', sel(), { os: 'centos', release: 'centos70' })).json() as Selection;
      expect((await h.call(user, 'POST', sel(), { os: 'centos', release: 'centos8' })).status).toBe(403);
      expect((await h.call(user, 'PUT', sel(`${s.id}/`), { arches: 'arm64' })).status).toBe(403);
      expect((await h.call(user, 'DELETE', sel(`${s.id}/`))).status).toBe(403);
      expect((await h.call(admin, 'GET', sel(`${s.id}/`))).json()).toEqual(s);
      expect((await h.call(user, 'GET', sel())).status).toBe(403);
      expect((await h.call(user, 'GET', sel(`${s.id}/`))).status).toBe(403);
      expect((await h.call(admin, 'GET', `${API}/boot-sources/999999/selections/`)).status).toBe(404);
      expect((await h.call(admin, 'POST', `${API}/boot-sources/999999/selections/`, { os: 'ubuntu', release: 'noble' })).status).toBe(404);
      expect((await h.call(admin, 'GET', sel('999999/'))).status).toBe(404);
      // A selection is found only under its own source.
      const another = (await create({ url: 'http://elsewhere.example/', keyring_filename: '/k.gpg' })).json() as Source;
      expect((await h.call(admin, 'GET', `${API}/boot-sources/${another.id}/selections/${s.id}/`)).status).toBe(404);
      expect((await h.call(admin, 'DELETE', `${API}/boot-sources/${another.id}/selections/${s.id}/`)).status).toBe(404);
      expect((await h.call(admin, 'GET', sel(`${s.id}/`))).status).toBe(200);
    });
  });

  it('lists the four handlers in describe/ with their ops, params, and that Kiln does not sync from them', async () => {
    const doc = (await h.call(null, 'GET', `${API}/describe/`)).json() as Describe;
    const byName = (name: string) => doc.resources.find((r) => r.name === name)?.auth;
    const expected: Record<string, { path: string; params: string[]; actions: string[] }> = {
      BootSourcesHandler: { path: `${API}/boot-sources/`, params: [], actions: ['read GET', 'create POST'] },
      BootSourceHandler: { path: `${API}/boot-sources/{id}/`, params: ['id'], actions: ['read GET', 'update PUT', 'delete DELETE'] },
      BootSourceSelectionsHandler: { path: `${API}/boot-sources/{boot_source_id}/selections/`, params: ['boot_source_id'], actions: ['read GET', 'create POST'] },
      BootSourceSelectionHandler: { path: `${API}/boot-sources/{boot_source_id}/selections/{id}/`, params: ['boot_source_id', 'id'], actions: ['read GET', 'update PUT', 'delete DELETE'] },
    };
    for (const [name, want] of Object.entries(expected)) {
      const handler = byName(name);
      expect(handler).toBeDefined();
      expect(handler!.path).toBe(want.path);
      expect(handler!.params).toEqual(want.params);
      expect(handler!.actions.map((a) => `${a.name} ${a.method}`).sort()).toEqual([...want.actions].sort());
      expect(handler!.actions.every((a) => a.op === null)).toBe(true);
      expect(handler!.doc).toMatch(/does not sync images from simplestreams.*kiln boot-resource-import/);
    }
    const create = byName('BootSourcesHandler')!.actions.find((a) => a.name === 'create')!;
    for (const p of ['url', 'keyring_filename', 'keyring_data']) expect(create.doc).toContain(`:param ${p}:`);
    const selCreate = byName('BootSourceSelectionsHandler')!.actions.find((a) => a.name === 'create')!;
    for (const p of ['os', 'release', 'arches', 'subarches', 'labels']) expect(selCreate.doc).toContain(`:param ${p}:`);
  });
});
