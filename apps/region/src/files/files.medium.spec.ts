import { ApiKey, RegionHarness } from '../testing/region.harness';
import { MAX_FILE_BYTES } from './files.service';

const API = '/MAAS/api/2.0';

/** A multipart body as the maas CLI and python-libmaas send an upload. */
function multipart(fields: Record<string, string>, files: Record<string, Buffer>) {
  const b = 'kilnboundary7MA4YWxkTrZu0gW';
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  for (const [k, v] of Object.entries(files)) {
    parts.push(Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${k}"; filename="${k}"\r\nContent-Type: application/octet-stream\r\n\r\n`), v, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${b}--\r\n`));
  return { raw: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${b}` };
}

describe('files/ and files/{filename}/', () => {
  let h: RegionHarness;
  let alice: ApiKey;
  let bob: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    alice = await h.createUser('alice', false);
    bob = await h.createUser('bob', false);
  });
  afterAll(() => h.stop());

  const add = (key: ApiKey, filename: string, data: Buffer) => h.call(key, 'POST', `${API}/files/?op=add`, multipart({ filename }, { file: data }));

  it('adds, lists by prefix, gets by name and by key (anonymously), reads as JSON and deletes', async () => {
    const bin = Buffer.from([0, 1, 2, 255, 254]);
    expect((await add(alice, 'tools-a.tgz', bin)).status).toBe(201);
    expect((await add(alice, 'tools-b.tgz', Buffer.from('b'))).status).toBe(201);
    expect((await add(alice, 'other', Buffer.from('o'))).status).toBe(201);
    expect((await add(bob, 'tools-a.tgz', Buffer.from('bob'))).status).toBe(201);

    const listed = (await h.call(alice, 'GET', `${API}/files/?op=list&prefix=tools-`)).json() as { filename: string; anon_resource_uri: string; resource_uri: string }[];
    expect(listed.map((f) => f.filename)).toEqual(['tools-a.tgz', 'tools-b.tgz']);
    expect(listed[0]).toEqual({ filename: 'tools-a.tgz', anon_resource_uri: expect.stringMatching(/^\/MAAS\/api\/2\.0\/files\/\?op=get_by_key&key=[0-9a-f-]{36}$/), resource_uri: `${API}/files/tools-a.tgz/` });
    expect(((await h.call(alice, 'GET', `${API}/files/?op=list`)).json() as unknown[]).length).toBe(3);

    const got = await fetch(`${h.baseUrl}${API}/files/?op=get&filename=tools-a.tgz`, { headers: { authorization: RegionHarness.oauthHeader(alice) } });
    expect(Buffer.from(await got.arrayBuffer())).toEqual(bin);
    const byKey = await fetch(`${h.baseUrl}${listed[0].anon_resource_uri}`);
    expect(byKey.status).toBe(200);
    expect(Buffer.from(await byKey.arrayBuffer())).toEqual(bin);

    const read = (await h.call(alice, 'GET', `${API}/files/tools-a.tgz/`)).json();
    expect(read).toEqual({ ...listed[0], content: bin.toString('base64') });
    // Each user sees their own file of a name.
    expect(((await h.call(bob, 'GET', `${API}/files/tools-a.tgz/`)).json() as { content: string }).content).toBe(Buffer.from('bob').toString('base64'));

    // Adding again replaces the content; the key stays.
    expect((await add(alice, 'tools-a.tgz', Buffer.from('new'))).status).toBe(201);
    expect(Buffer.from(await (await fetch(`${h.baseUrl}${listed[0].anon_resource_uri}`)).arrayBuffer()).toString()).toBe('new');

    const deleted = await h.call(alice, 'DELETE', `${API}/files/tools-a.tgz/`);
    expect(deleted.status).toBe(204);
    // With a Content-Type, as Django sends one on a 204: the maas CLI fails on a response without.
    expect(deleted.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect((await h.call(alice, 'POST', `${API}/files/?op=delete`, { filename: 'tools-b.tgz' })).status).toBe(204);
    expect(((await h.call(alice, 'GET', `${API}/files/?op=list`)).json() as { filename: string }[]).map((f) => f.filename)).toEqual(['other']);
    expect((await fetch(`${h.baseUrl}${listed[0].anon_resource_uri}`)).status).toBe(404);
  });

  it('adds, lists and deletes without an op too, as MAAS 2 does (and Juju\'s gomaasapi calls it)', async () => {
    const created = await h.call(alice, 'POST', `${API}/files/?op=`, multipart({ filename: 'juju-state' }, { file: Buffer.from('state') }));
    expect(created.status).toBe(201);
    const listed = (await h.call(alice, 'GET', `${API}/files/?prefix=juju-`)).json() as { filename: string }[];
    expect(listed.map((f) => f.filename)).toEqual(['juju-state']);
    expect((await h.call(bob, 'GET', `${API}/files/?prefix=juju-`)).json()).toEqual([]);
    expect((await h.call(alice, 'DELETE', `${API}/files/?filename=juju-state`)).status).toBe(204);
    expect((await h.call(alice, 'GET', `${API}/files/?prefix=juju-`)).json()).toEqual([]);
    expect((await h.call(alice, 'DELETE', `${API}/files/?filename=juju-state`)).status).toBe(404);
  });

  it('refuses missing names and files, oversize files, other users\' files and anonymous listing', async () => {
    expect((await h.call(alice, 'POST', `${API}/files/?op=add`, multipart({}, { file: Buffer.from('x') }))).status).toBe(400);
    expect((await h.call(alice, 'POST', `${API}/files/?op=add`, multipart({ filename: 'f' }, {}))).status).toBe(400);
    expect((await h.call(alice, 'POST', `${API}/files/?op=add`, multipart({ filename: 'f' }, { file: Buffer.from('1'), other: Buffer.from('2') }))).status).toBe(400);
    const big = await add(alice, 'big', Buffer.alloc(MAX_FILE_BYTES + 1));
    expect(big.status).toBe(400);
    expect(big.text).toMatch(/most a stored file may hold is 16777216 bytes/);

    expect((await add(alice, 'secret', Buffer.from('s'))).status).toBe(201);
    expect((await h.call(bob, 'GET', `${API}/files/?op=get&filename=secret`)).status).toBe(404);
    expect((await h.call(bob, 'GET', `${API}/files/secret/`)).status).toBe(404);
    expect((await h.call(bob, 'DELETE', `${API}/files/secret/`)).status).toBe(404);
    expect((await h.call(alice, 'GET', `${API}/files/?op=get`)).status).toBe(400);
    expect((await h.call(null, 'GET', `${API}/files/?op=list`)).status).toBe(401);
    expect((await h.call(null, 'GET', `${API}/files/?op=get_by_key&key=nope`)).status).toBe(404);
  });

  it('lists FilesHandler (with its anonymous side) and FileHandler in describe/', async () => {
    const doc = (await h.call(null, 'GET', `${API}/describe/`)).json() as { resources: { name: string; anon: { name: string; actions: { name: string }[] } | null; auth: { actions: { name: string; doc: string }[] } | null }[] };
    const files = doc.resources.find((r) => r.name === 'FilesHandler')!;
    expect(files.anon!.name).toBe('AnonFilesHandler');
    expect(files.anon!.actions.map((a) => a.name)).toEqual(['get_by_key']);
    // One action per name, as MAAS describes them (the maas CLI makes a subcommand of each name):
    // the older POST op=delete stays routed but undescribed.
    expect(files.auth!.actions.map((a) => a.name)).toEqual(['add', 'create', 'delete', 'get', 'get_by_key', 'list', 'read']);
    expect(files.auth!.actions.find((a) => a.name === 'delete')).toMatchObject({ method: 'DELETE', op: null });
    expect(files.auth!.actions.every((a) => a.doc.includes(':param'))).toBe(true);
    expect(doc.resources.some((r) => r.name === 'FileHandler')).toBe(true);
  });
});
