import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nkeys } from 'nats';
import pino from 'pino';
import { bootImagePath, HEADER_RACK_SIGNATURE, HEADER_RACK_SIGNED_AT, rackDownloadSigningString, type BootImage } from '@kiln/contracts';
import { HttpBootServer } from '../http/http-boot.server';
import { InMemoryBootFiles } from '../tftp/boot-files.fake';
import { RecordingTransferEvents } from '../tftp/transfer-events.fake';
import { signedDownloadHeaders } from './image.fetcher';
import { ImageLibrary } from './image.library';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const DOWNLOADS = '/MAAS/kiln/boot-resources/files/';

/**
 * A stand-in for the region's download endpoint (the real one is tested in
 * apps/region/src/boot-resources): files by sha256, single ranges, the rack's signature checked,
 * and switches to cut a response short or to send the wrong bytes.
 */
class FakeRegionFiles {
  readonly files = new Map<string, Buffer>();
  readonly ranges: string[] = [];
  /** Next response of this sha256 stops after this many bytes and drops the connection. */
  cut = new Map<string, number>();
  /** Bytes sent instead of the file's (a bad mirror, a disk error). */
  wrong = new Map<string, Buffer>();
  requests = 0;
  private server!: http.Server;
  url = '';

  constructor(private readonly rackPublicKey: string) {}

  add(bytes: Buffer): string {
    this.files.set(sha(bytes), bytes);
    return sha(bytes);
  }

  async start() {
    this.server = http.createServer((req, res) => {
      this.requests++;
      const path = req.url!;
      const at = Number(req.headers[HEADER_RACK_SIGNED_AT]);
      const sig = Buffer.from(String(req.headers[HEADER_RACK_SIGNATURE]), 'base64url');
      if (!nkeys.fromPublic(this.rackPublicKey).verify(Buffer.from(rackDownloadSigningString('GET', path, at)), sig)) {
        res.writeHead(403).end();
        return;
      }
      const s = path.slice(DOWNLOADS.length);
      const file = this.wrong.get(s) ?? this.files.get(s);
      if (!file) return void res.writeHead(404).end();
      let start = 0;
      const range = req.headers.range;
      if (range) {
        this.ranges.push(range);
        start = Number(/^bytes=(\d+)-$/.exec(range)![1]);
        res.writeHead(206, { 'content-length': file.length - start, 'content-range': `bytes ${start}-${file.length - 1}/${file.length}` });
      } else {
        res.writeHead(200, { 'content-length': file.length });
      }
      const cutAt = this.cut.get(s);
      if (cutAt !== undefined) {
        this.cut.delete(s);
        res.write(file.subarray(start, start + cutAt), () => res.socket?.destroy());
        return;
      }
      res.end(file.subarray(start));
    });
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop() {
    await new Promise<void>((ok) => {
      this.server.close(() => ok());
      this.server.closeAllConnections();
    });
  }
}

describe('the rack image cache', () => {
  const log = pino({ level: process.env.KILN_TEST_LOG_LEVEL ?? 'silent' });
  const kp = nkeys.createUser();
  const seed = kp.getSeed();
  let dir: string;
  let region: FakeRegionFiles;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-images-'));
    region = new FakeRegionFiles(kp.getPublicKey());
    await region.start();
  });
  afterEach(async () => {
    await region.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const library = (maxBytes = 64 * MiB, regionUrl: string | null = region.url) =>
    new ImageLibrary({
      stateDir: join(dir, 'state', 'images'),
      bootRoot: join(dir, 'boot'),
      maxBytes,
      regionUrl,
      sign: (path) => signedDownloadHeaders('rack-1', seed, path),
      log,
    });
  const image = (version: string, files: Partial<Record<'boot-kernel' | 'boot-initrd' | 'squashfs', Buffer>>): BootImage => ({
    name: 'debian/bookworm',
    architecture: 'amd64/generic',
    version,
    files: Object.entries(files).map(([filename, bytes]) => ({ filename: filename as 'squashfs', sha256: region.add(bytes!), size: bytes!.length })),
  });
  const served = (img: BootImage, f: 'boot-kernel' | 'boot-initrd' | 'squashfs') => join(dir, 'boot', 'images', bootImagePath(img, f));

  it('resumes a cut download where its partial copy ends, and serves only the verified whole', async () => {
    const squashfs = randomBytes(3 * MiB + 17);
    const img = image('v1', { squashfs });
    region.cut.set(sha(squashfs), MiB);
    const lib = library();
    await lib.restore();
    const first = await lib.sync([img], DOWNLOADS);
    expect(first.failed).toEqual([{ sha256: sha(squashfs), reason: expect.stringContaining('cut') }]);
    expect(existsSync(served(img, 'squashfs'))).toBe(false);
    const part = await readFile(join(dir, 'state', 'images', 'cache', `${sha(squashfs)}.part`));
    expect(part.length).toBeGreaterThan(0);
    expect(part.equals(squashfs.subarray(0, part.length))).toBe(true);

    const second = await lib.sync([img], DOWNLOADS);
    expect(second).toMatchObject({ fetched: [sha(squashfs)], failed: [] });
    expect(region.ranges).toEqual([`bytes=${part.length}-`]);
    expect((await readFile(served(img, 'squashfs'))).equals(squashfs)).toBe(true);
    expect(await readdir(join(dir, 'state', 'images', 'cache'))).toEqual(expect.not.arrayContaining([`${sha(squashfs)}.part`]));
  });

  it('rejects bytes whose sha256 is not the one the region listed', async () => {
    const kernel = randomBytes(MiB);
    const img = image('v1', { 'boot-kernel': kernel });
    region.wrong.set(sha(kernel), randomBytes(MiB));
    const lib = library();
    await lib.restore();
    const r = await lib.sync([img], DOWNLOADS);
    expect(r.failed).toEqual([{ sha256: sha(kernel), reason: expect.stringContaining('sha256 mismatch') }]);
    expect(lib.cache.has(sha(kernel))).toBe(false);
    expect(existsSync(served(img, 'boot-kernel'))).toBe(false);
    expect(await readdir(join(dir, 'state', 'images', 'cache'))).toEqual(['index.json']);
    // The next sync, with the right bytes, starts from zero.
    region.wrong.clear();
    expect((await lib.sync([img], DOWNLOADS)).fetched).toEqual([sha(kernel)]);
    expect(region.ranges).toEqual([]);
  });

  it('evicts the least recently used files the region no longer lists, never the ones in use', async () => {
    const [a, b, c, d] = [1, 2, 3, 4].map(() => randomBytes(MiB));
    const lib = library(3 * MiB);
    await lib.restore();
    const ia = image('a', { squashfs: a });
    const ib = image('b', { squashfs: b });
    await lib.sync([ia], DOWNLOADS);
    await new Promise((r) => setTimeout(r, 5)); // distinct last-use times
    await lib.sync([ib], DOWNLOADS);
    expect(lib.cache.list().sort()).toEqual([sha(a), sha(b)].sort());
    // a and b are no longer listed; c needs no room yet (3 MiB bound), d does: a (older) goes, b stays.
    const icd = image('cd', { 'boot-kernel': c, squashfs: d });
    const r = await lib.sync([icd], DOWNLOADS);
    expect(r).toMatchObject({ failed: [] });
    expect(lib.cache.list().sort()).toEqual([sha(b), sha(c), sha(d)].sort());
    expect(existsSync(served(ia, 'squashfs'))).toBe(false);
    expect(existsSync(served(ib, 'squashfs'))).toBe(false);
    // More listed than the bound holds: b (not listed) makes room for e; nothing listed is
    // evicted for f, which waits.
    const [e, f] = [5, 6].map(() => randomBytes(MiB));
    const big = image('big', { 'boot-kernel': c, squashfs: d, 'boot-initrd': e });
    const more = image('more', { squashfs: f });
    const r2 = await lib.sync([big, more], DOWNLOADS);
    expect(r2.fetched).toEqual([sha(e)]);
    expect(r2.failed).toEqual([{ sha256: sha(f), reason: expect.stringContaining('too small') }]);
    expect(lib.cache.list().sort()).toEqual([sha(c), sha(d), sha(e)].sort());
    expect((await readFile(served(big, 'squashfs'))).equals(d)).toBe(true);
    expect(existsSync(served(more, 'squashfs'))).toBe(false);
  });

  it('serves its images over HTTP after a restart while the region is down, and re-verifies them first', async () => {
    const kernel = randomBytes(2 * MiB);
    const initrd = randomBytes(MiB);
    const squashfs = randomBytes(3 * MiB);
    const img = image('v1', { 'boot-kernel': kernel, 'boot-initrd': initrd, squashfs });
    const first = library();
    await first.restore();
    expect((await first.sync([img], DOWNLOADS)).fetched).toHaveLength(3);
    await region.stop();
    // Damage one cached file behind the rack's back: the restart finds and drops it.
    await writeFile(join(dir, 'state', 'images', 'cache', sha(initrd)), randomBytes(MiB));

    const again = library();
    await again.restore();
    expect(again.cache.list().sort()).toEqual([sha(kernel), sha(squashfs)].sort());
    expect(again.images()).toEqual([img]);
    const server = new HttpBootServer({ address: '127.0.0.1', port: 0, root: join(dir, 'boot') }, { bootFiles: new InMemoryBootFiles(), events: new RecordingTransferEvents(), log });
    const { port } = await server.listen();
    try {
      const url = (f: 'boot-kernel' | 'boot-initrd' | 'squashfs') => `http://127.0.0.1:${port}/images/${bootImagePath(img, f)}`;
      const whole = await fetch(url('squashfs'));
      expect(whole.status).toBe(200);
      expect(Buffer.from(await whole.arrayBuffer()).equals(squashfs)).toBe(true);
      const part = await fetch(url('boot-kernel'), { headers: { range: `bytes=${MiB}-` } });
      expect(part.status).toBe(206);
      expect(Buffer.from(await part.arrayBuffer()).equals(kernel.subarray(MiB))).toBe(true);
      // The damaged file is not served until a region lists it again.
      expect((await fetch(url('boot-initrd'))).status).toBe(404);
      // The region is down: a sync changes nothing that is served.
      const r = await again.sync([img], DOWNLOADS);
      expect(r.failed).toEqual([{ sha256: sha(initrd), reason: expect.stringMatching(/download failed|ECONNREFUSED/) }]);
      expect((await fetch(url('squashfs'))).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
