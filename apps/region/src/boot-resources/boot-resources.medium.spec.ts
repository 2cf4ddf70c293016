import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GetBootImages, HEADER_RACK_ID, HEADER_RACK_SIGNATURE, HEADER_RACK_SIGNED_AT, rackDownloadSigningString } from '@kiln/contracts';
import { nkeys } from 'nats';
import { BootResourcesService } from './boot-resources.service';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
const ROOT = resolve(__dirname, '../../../..');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

type FileJson = { filename: string; sha256: string; size: number; complete: boolean; progress?: number; upload_uri?: string };
type ResourceJson = { id: number; type: string; name: string; architecture: string; resource_uri: string; title?: string; sets: Record<string, { complete: boolean; files: Record<string, FileJson> }> };

describe('boot-resources/ API, uploads and rack downloads', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let user: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    user = await h.createUser('someone', false);
  });
  afterAll(() => h.stop());

  const create = (fields: Record<string, string>, key = admin) => h.call(key, 'POST', `${API}/boot-resources/`, fields);
  const onlyFile = (r: ResourceJson): FileJson => Object.values(Object.values(r.sets)[0].files)[0];
  const put = (uri: string, body: Buffer, key = admin) => h.call(key, 'PUT', uri, { raw: body, contentType: 'application/octet-stream' });
  const contents = async () => Number((await h.ds.query(`SELECT count(*) AS n FROM boot_resource_contents`))[0].n);

  it('creates a resource announced by sha256 and size, then takes its bytes in parts through upload_uri', async () => {
    const bytes = randomBytes(9 * 1024 * 1024 + 123);
    const created = await create({ name: 'custom/parts', architecture: 'amd64/generic', title: 'Parts', sha256: sha(bytes), size: String(bytes.length), filetype: 'ddraw' });
    expect(created.status).toBe(201);
    const r = created.json() as ResourceJson;
    expect(r).toMatchObject({ type: 'Uploaded', name: 'custom/parts', architecture: 'amd64/generic', title: 'Parts', resource_uri: `${API}/boot-resources/${r.id}/` });
    const f = onlyFile(r);
    expect(f).toMatchObject({ filename: 'ddraw', sha256: sha(bytes), size: bytes.length, complete: false, progress: 0 });
    expect(f.upload_uri).toMatch(new RegExp(`^${API}/boot-resources/${r.id}/upload/\\d+/$`));

    expect((await put(f.upload_uri!, bytes.subarray(0, 5_000_000))).status).toBe(200);
    const half = onlyFile((await h.call(admin, 'GET', `${API}/boot-resources/${r.id}/`)).json() as ResourceJson);
    expect(half.complete).toBe(false);
    expect(half.progress).toBeCloseTo((5_000_000 / bytes.length) * 100, 1);
    // More than the file has left is refused before it is stored.
    expect((await put(f.upload_uri!, randomBytes(bytes.length))).status).toBe(400);
    expect((await put(f.upload_uri!, bytes.subarray(5_000_000))).status).toBe(200);
    const done = (await h.call(admin, 'GET', `${API}/boot-resources/${r.id}/`)).json() as ResourceJson;
    expect(Object.values(done.sets)[0].complete).toBe(true);
    expect(onlyFile(done)).toEqual({ filename: 'ddraw', filetype: 'ddraw', sha256: sha(bytes), size: bytes.length, complete: true });
    // A complete file takes no more bytes.
    expect((await put(f.upload_uri!, Buffer.from('x'))).status).toBe(400);
  });

  it('refuses bytes that do not match the sha256, and the file starts over', async () => {
    const bytes = randomBytes(300_000);
    const r = (await create({ name: 'custom/bad', architecture: 'amd64/generic', sha256: sha(randomBytes(8)), size: String(bytes.length) })).json() as ResourceJson;
    const before = await contents();
    const res = await put(onlyFile(r).upload_uri!, bytes);
    expect(res.status).toBe(400);
    expect(res.text).toBe('Saved content does not match given SHA256 value.');
    const again = onlyFile((await h.call(admin, 'GET', `${API}/boot-resources/${r.id}/`)).json() as ResourceJson);
    expect(again).toMatchObject({ complete: false, progress: 0 });
    expect(await contents()).toBe(before);
  });

  it('stores the same bytes once, and drops them when the last resource naming them goes', async () => {
    const bytes = randomBytes(1_000_000);
    const before = await contents();
    const a = (await create({ name: 'custom/a', architecture: 'amd64/generic', sha256: sha(bytes), size: String(bytes.length) })).json() as ResourceJson;
    expect((await put(onlyFile(a).upload_uri!, bytes)).status).toBe(200);
    expect(await contents()).toBe(before + 1);
    // The same digest again: complete at once, nothing to upload, nothing stored twice.
    const b = (await create({ name: 'custom/b', architecture: 'arm64/generic', sha256: sha(bytes), size: String(bytes.length) })).json() as ResourceJson;
    expect(onlyFile(b)).toMatchObject({ complete: true });
    expect(onlyFile(b).upload_uri).toBeUndefined();
    // The same bytes as a multipart `content`, as `maas admin boot-resources create content@=...` sends them.
    const form = new FormData();
    for (const [k, v] of Object.entries({ name: 'custom/c', architecture: 'amd64/hwe-22.04', filetype: 'tgz' })) form.append(k, v);
    form.append('content', new Blob([bytes]), 'root.tgz');
    const c = await fetch(`${h.baseUrl}${API}/boot-resources/`, { method: 'POST', body: form, headers: { authorization: RegionHarness.oauthHeader(admin) } });
    expect(c.status).toBe(201);
    expect(onlyFile((await c.json()) as ResourceJson)).toMatchObject({ complete: true, sha256: sha(bytes) });
    expect(await contents()).toBe(before + 1);

    expect((await h.call(admin, 'DELETE', `${API}/boot-resources/${a.id}/`)).status).toBe(204);
    expect((await h.call(admin, 'GET', `${API}/boot-resources/${a.id}/`)).status).toBe(404);
    expect(await contents()).toBe(before + 1);
    expect((await h.call(admin, 'DELETE', `${API}/boot-resources/${b.id}/`)).status).toBe(204);
    const cId = ((await h.call(admin, 'GET', `${API}/boot-resources/`)).json() as ResourceJson[]).find((x) => x.name === 'custom/c')!.id;
    expect((await h.call(admin, 'DELETE', `${API}/boot-resources/${cId}/`)).status).toBe(204);
    expect(await contents()).toBe(before);
    expect((await h.call(admin, 'DELETE', `${API}/boot-resources/${cId}/`)).status).toBe(404);
  });

  it('answers the listing, the import ops and the validation errors as MAAS does', async () => {
    const list = (await h.call(user, 'GET', `${API}/boot-resources/`)).json() as ResourceJson[];
    expect(list.map((r) => r.name)).toEqual(expect.arrayContaining(['custom/parts']));
    expect(list.every((r) => !('sets' in r))).toBe(true);
    expect((await h.call(user, 'GET', `${API}/boot-resources/?type=synced`)).json()).toEqual([]);
    expect((await h.call(user, 'GET', `${API}/boot-resources/?op=is_importing`)).json()).toBe(false);
    expect((await h.call(admin, 'POST', `${API}/boot-resources/?op=import`)).text).toMatch(/^Import of boot resources started/);
    expect((await h.call(admin, 'POST', `${API}/boot-resources/?op=stop_import`)).text).toBe('Import of boot resources is being stopped');
    expect((await create({ name: 'x/y', architecture: 'amd64/generic', sha256: 'a'.repeat(64), size: '1' }, user)).status).toBe(403);
    expect((await h.call(user, 'POST', `${API}/boot-resources/?op=import`)).status).toBe(403);
    const bad = await create({ name: 'x/y', architecture: 'amd64', sha256: 'nothex', size: '1' });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.json() as object).sort()).toEqual(['architecture', 'sha256']);
    expect((await create({ name: 'x/y' })).json()).toEqual({ architecture: ['This field is required.'], sha256: ['This field is required.'], size: ['This field is required.'] });
    expect((await h.call(user, 'GET', `${API}/boot-resources/999999/`)).status).toBe(404);
    // Uploads are for admins, with a valid key.
    const r = (await create({ name: 'custom/auth', architecture: 'amd64/generic', sha256: sha(Buffer.from('abc')), size: '3' })).json() as ResourceJson;
    expect((await put(onlyFile(r).upload_uri!, Buffer.from('abc'), user)).status).toBe(403);
    expect((await h.call(null, 'PUT', onlyFile(r).upload_uri!, { raw: Buffer.from('abc'), contentType: 'application/octet-stream' })).status).toBe(401);
  });

  it('lists the complete netboot images to racks over NATS, and lets only enrolled racks download, with ranges', async () => {
    const kernel = randomBytes(5 * 1024 * 1024);
    const initrd = randomBytes(2000);
    const squashfs = randomBytes(6000);
    const files = { 'boot-kernel': kernel, 'boot-initrd': initrd, squashfs };
    // Announced but not uploaded: not an image a rack can hold yet.
    await create({ name: 'debian/bookworm', architecture: 'amd64/generic', filetype: 'boot-kernel', sha256: sha(kernel), size: String(kernel.length) });
    const rack = await h.provisionRack();
    const before = await h.bus.request(GetBootImages, [rack.rackId], { rackId: rack.rackId });
    expect(before.images.find((i) => i.name === 'debian/bookworm')).toBeUndefined();

    // The import the CLI does: one set with the three files, then their bytes.
    const resources = h.app.get(BootResourcesService);
    const created = await resources.create({
      name: 'debian/bookworm',
      architecture: 'amd64/generic',
      version: 'v1',
      files: Object.entries(files).map(([filetype, bytes]) => ({ filename: filetype, filetype, sha256: sha(bytes), size: bytes.length })),
    });
    for (const f of created.sets[0].files) {
      const bytes = files[f.filename as keyof typeof files];
      await resources.upload(created.id, f.id, (async function* () { yield bytes; })(), bytes.length);
    }
    const reply = await h.bus.request(GetBootImages, [rack.rackId], { rackId: rack.rackId });
    const image = reply.images.find((i) => i.name === 'debian/bookworm')!;
    expect(image).toEqual({
      name: 'debian/bookworm',
      architecture: 'amd64/generic',
      version: 'v1',
      files: Object.entries(files).map(([filename, bytes]) => ({ filename, sha256: sha(bytes), size: bytes.length })),
    });

    const path = `${reply.downloadPath}${sha(kernel)}`;
    const signed = (method: string, p: string, seed = rack.nkey.seed, at = Date.now()) => ({
      [HEADER_RACK_ID]: rack.rackId,
      [HEADER_RACK_SIGNED_AT]: String(at),
      [HEADER_RACK_SIGNATURE]: Buffer.from(nkeys.fromSeed(seed).sign(Buffer.from(rackDownloadSigningString(method, p, at)))).toString('base64url'),
    });
    expect((await fetch(`${h.baseUrl}${path}`)).status).toBe(403);
    const other = nkeys.createUser().getSeed();
    expect((await fetch(`${h.baseUrl}${path}`, { headers: signed('GET', path, other) })).status).toBe(403);
    expect((await fetch(`${h.baseUrl}${path}`, { headers: signed('GET', path, rack.nkey.seed, Date.now() - 3_600_000) })).status).toBe(403);
    // A signature for another file does not open this one.
    expect((await fetch(`${h.baseUrl}${path}`, { headers: signed('GET', `${reply.downloadPath}${sha(initrd)}`) })).status).toBe(403);

    const whole = await fetch(`${h.baseUrl}${path}`, { headers: signed('GET', path) });
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer()).equals(kernel)).toBe(true);
    // A range across the boundary of two stored chunks (4 MiB).
    const from = 4 * 1024 * 1024 - 10;
    const part = await fetch(`${h.baseUrl}${path}`, { headers: { ...signed('GET', path), range: `bytes=${from}-` } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes ${from}-${kernel.length - 1}/${kernel.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(kernel.subarray(from))).toBe(true);
    expect((await fetch(`${h.baseUrl}${path}`, { headers: { ...signed('GET', path), range: `bytes=${kernel.length}-` } })).status).toBe(416);
    const missing = `${reply.downloadPath}${'0'.repeat(64)}`;
    expect((await fetch(`${h.baseUrl}${missing}`, { headers: signed('GET', missing) })).status).toBe(404);
  });

  it('registers an image directory with `kiln boot-resource-import`, once, through the API', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-image-'));
    try {
      const files = { vmlinuz: randomBytes(300_000), 'initrd.img': randomBytes(200_000), 'filesystem.squashfs': randomBytes(5 * 1024 * 1024) };
      for (const [n, b] of Object.entries(files)) writeFileSync(join(dir, n), b);
      const manifest = {
        os: 'debian',
        series: 'trixie',
        architecture: 'amd64',
        kernel: '6.12.0-1-amd64',
        inputsHash: 'ab'.repeat(32),
        files: Object.fromEntries(Object.entries(files).map(([n, b]) => [n, { sha256: sha(b), size: b.length }])),
      };
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
      const key = `${admin.consumerKey}:${admin.tokenKey}:${admin.tokenSecret}`;
      // A process of its own (as deploy/up.sh runs it); asynchronous, since the region answers from this one.
      const run = () =>
        new Promise<{ status: number; stdout: string; stderr: string }>((done) => {
          execFile(
            process.execPath,
            ['-r', './tools/register.js', 'apps/cli/src/main.ts', 'boot-resource-import', dir, '--url', `${h.baseUrl}/MAAS`, '--apikey', key],
            { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 120_000 },
            (err, stdout, stderr) => done({ status: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
          );
        });
      const first = await run();
      expect(first.stderr).toContain('squashfs: stored and verified');
      expect(first.status).toBe(0);
      expect(first.stdout).toMatch(/debian\/trixie amd64\/generic version abababababababab \(uploaded: boot-kernel, boot-initrd, squashfs; already stored: nothing\)/);
      const again = await run();
      expect(again.status).toBe(0);
      expect(again.stdout).toContain('(uploaded: nothing; already stored: boot-kernel, boot-initrd, squashfs)');
      const images = await h.app.get(BootResourcesService).netbootImages();
      expect(images.find((i) => i.name === 'debian/trixie')).toEqual({
        name: 'debian/trixie',
        architecture: 'amd64/generic',
        version: 'abababababababab',
        files: {
          'boot-kernel': { sha256: sha(files.vmlinuz), size: files.vmlinuz.length },
          'boot-initrd': { sha256: sha(files['initrd.img']), size: files['initrd.img'].length },
          squashfs: { sha256: sha(files['filesystem.squashfs']), size: files['filesystem.squashfs'].length },
        },
      });
      // A damaged local file is refused before anything is sent.
      writeFileSync(join(dir, 'vmlinuz'), randomBytes(300_000));
      const bad = await run();
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain("vmlinuz: its sha256 is not the manifest's");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
