import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0/account/prefs/sshkeys/';
const fakeKey = (comment: string) => `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${randomBytes(24).toString('base64')} ${comment}`;

interface KeyJson {
  id: number;
  key: string;
  keysource: string | null;
  resource_uri: string;
}

/** sshkeys op=import against a stand-in Launchpad and GitHub on 127.0.0.1. */
describe('SSH key import (sshkeys op=import)', () => {
  let h: RegionHarness;
  let server: Server;
  let alice: ApiKey;
  const lpKeys = [fakeKey('alice@one'), fakeKey('alice@two')];
  const ghKeys = [fakeKey('bob@gh'), fakeKey('bob@gh2')];
  const requests: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      switch (req.url) {
        case '/lp/~alice/+sshkeys':
          res.end(`${lpKeys[0]}\nthis is not a key\n\n${lpKeys[1]}\n${lpKeys[0]}\nclé ✓\n`);
          return;
        case '/gh/users/bob/keys':
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(ghKeys.map((key, i) => ({ id: i + 1, key }))));
          return;
        case '/lp/~junk/+sshkeys':
          res.end(Array.from({ length: 200 }, (_, i) => `junk line ${i}`).join('\n'));
          return;
        case '/gh/users/slow/keys':
          return; // never answers
        case '/gh/users/huge/keys':
          res.end(JSON.stringify([{ id: 1, key: fakeKey('x'.repeat(10_000)) }]));
          return;
        case '/lp/~broken/+sshkeys':
          res.statusCode = 500;
          res.end('oops');
          return;
        default:
          res.statusCode = 404;
          res.end('Not found');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    h = await RegionHarness.start({
      KILN_SSH_IMPORT_LAUNCHPAD_URL: `${base}/lp`,
      KILN_SSH_IMPORT_GITHUB_URL: `${base}/gh/`,
      KILN_SSH_IMPORT_TIMEOUT_MS: '400',
      KILN_SSH_IMPORT_MAX_BYTES: '4096',
    });
    alice = await h.createUser('alice', false);
  });
  afterAll(async () => {
    await h.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const list = async (who: ApiKey) => (await h.call(who, 'GET', API)).json() as KeyJson[];

  it('imports Launchpad keys with their keysource, skipping and reporting invalid and repeated lines', async () => {
    const r = await h.call(alice, 'POST', `${API}?op=import`, { keysource: 'lp:alice' });
    expect(r.status).toBe(200);
    const imported = r.json() as KeyJson[];
    expect(imported.map((k) => k.key)).toEqual(lpKeys);
    for (const k of imported) {
      expect(k).toEqual({ id: expect.any(Number), key: k.key, keysource: 'lp:alice', resource_uri: `${API}${k.id}/` });
    }
    const skipped = JSON.parse(r.headers.get('x-kiln-skipped-keys') ?? '[]') as { key: string; reason: string }[];
    expect(skipped.map((s) => s.reason).sort()).toEqual(['Duplicate key in the answer.', 'Invalid SSH public key.', 'Invalid SSH public key.']);
    expect(skipped.filter((s) => s.reason === 'Invalid SSH public key.').map((s) => s.key)).toEqual(['this is not a key', 'cl? ?']);
    expect(r.headers.get('x-kiln-skipped-count')).toBe('3');
    expect((await list(alice)).map((k) => [k.key, k.keysource])).toEqual(lpKeys.map((k) => [k, 'lp:alice']));
  });

  it('skips keys the user already has on a second import', async () => {
    const r = await h.call(alice, 'POST', `${API}?op=import`, { keysource: 'lp:alice' });
    expect(r.status).toBe(200);
    expect(r.json()).toEqual([]);
    expect(await list(alice)).toHaveLength(2);
  });

  it('imports GitHub keys from the configured base URL', async () => {
    const bob = await h.createUser('bob', false);
    const r = await h.call(bob, 'POST', `${API}?op=import`, { keysource: 'gh:bob' });
    expect(r.status).toBe(200);
    expect((r.json() as KeyJson[]).map((k) => [k.key, k.keysource])).toEqual(ghKeys.map((k) => [k, 'gh:bob']));
    expect(requests).toContain('/gh/users/bob/keys');
    // Keys added by hand show keysource "" (MAAS), imported ones keep theirs.
    const own = fakeKey('bob@laptop');
    const added = await h.call(bob, 'POST', API, { key: own });
    expect(added.status).toBe(201);
    expect(added.json()).toMatchObject({ key: own, keysource: '' });
    expect((await list(bob)).map((k) => k.keysource)).toEqual(['gh:bob', 'gh:bob', '']);
  });

  it('takes a bare keysource as a Launchpad user, as MAAS does', async () => {
    const carol = await h.createUser('carol', false);
    const r = await h.call(carol, 'POST', `${API}?op=import`, { keysource: 'alice' });
    expect(r.status).toBe(200);
    expect((r.json() as KeyJson[]).map((k) => k.keysource)).toEqual(['lp:alice', 'lp:alice']);
  });

  it('reads, lists and deletes keys field by field as MAAS does; only the owner deletes', async () => {
    const keys = await list(alice);
    const one = await h.call(alice, 'GET', `${API}${keys[0].id}/`);
    expect(one.json()).toEqual(keys[0]);
    expect(Object.keys(keys[0]).sort()).toEqual(['id', 'key', 'keysource', 'resource_uri']);
    const admin = await h.createUser('root', true);
    expect((await h.call(admin, 'GET', `${API}${keys[0].id}/`)).status).toBe(200);
    const refused = await h.call(admin, 'DELETE', `${API}${keys[0].id}/`);
    expect(refused.status).toBe(403);
    expect(refused.text).toContain("Can't delete a key you don't own.");
    expect((await h.call(alice, 'DELETE', `${API}${keys[0].id}/`)).status).toBe(204);
    expect((await h.call(alice, 'GET', `${API}${keys[0].id}/`)).status).toBe(404);
    // An import brings the deleted key back, and only it.
    const again = await h.call(alice, 'POST', `${API}?op=import`, { keysource: 'lp:alice' });
    expect((again.json() as KeyJson[]).map((k) => k.key)).toEqual([keys[0].key]);
  });

  it('reports a long list of skipped lines by count and the first few', async () => {
    const dave = await h.createUser('dave', false);
    const r = await h.call(dave, 'POST', `${API}?op=import`, { keysource: 'lp:junk' });
    expect(r.status).toBe(200);
    expect(r.json()).toEqual([]);
    expect(r.headers.get('x-kiln-skipped-count')).toBe('200');
    expect((JSON.parse(r.headers.get('x-kiln-skipped-keys')!) as unknown[]).length).toBe(20);
  });

  it('refuses a malformed keysource naming the field', async () => {
    for (const keysource of ['', 'xx:alice', 'lp:', 'gh:a/../b', 'lp:a b']) {
      const r = await h.call(alice, 'POST', `${API}?op=import`, { keysource });
      expect(r.status).toBe(400);
      expect(r.json()).toHaveProperty('keysource');
    }
  });

  it('answers 400 naming the source for an unknown user (as MAAS), and 503 when the source fails, times out or answers too much', async () => {
    const before = await list(alice);
    const missing = await h.call(alice, 'POST', `${API}?op=import`, { keysource: 'lp:nobody' });
    expect(missing.status).toBe(400);
    expect(missing.text).toContain('Launchpad');
    expect(missing.text).toContain('nobody');

    const broken = await h.call(alice, 'POST', `${API}?op=import`, { keysource: 'lp:broken' });
    expect(broken.status).toBe(503);
    expect(broken.text).toContain('Launchpad');
    expect(broken.text).toContain('500');

    const started = Date.now();
    const slow = await h.call(alice, 'POST', `${API}?op=import`, { keysource: 'gh:slow' });
    expect(slow.status).toBe(503);
    expect(slow.text).toContain('GitHub');
    expect(slow.text).toContain('400 ms');
    expect(Date.now() - started).toBeLessThan(5000);

    const huge = await h.call(alice, 'POST', `${API}?op=import`, { keysource: 'gh:huge' });
    expect(huge.status).toBe(503);
    expect(huge.text).toContain('larger than 4096 bytes');

    expect(await list(alice)).toEqual(before);
  });
});
