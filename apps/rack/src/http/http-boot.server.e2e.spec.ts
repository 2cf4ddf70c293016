// The HTTP boot server against curl, on 127.0.0.1 and ephemeral ports, with a boot-resources dir
// made in a temp dir and a fake region HTTP server for the metadata/API proxy.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from '@kiln/testing';
import { InMemoryBootFiles } from '../tftp/boot-files.fake';
import { capturedLogger } from '../tftp/testing/captured.logger';
import { runProcess } from '../tftp/testing/run.process';
import { RecordingTransferEvents } from '../tftp/transfer-events.fake';
import { HttpBootServer, HttpBootServerConfig } from './http-boot.server';

jest.setTimeout(30_000);

let dir: string;
let root: string;
const image = randomBytes(5 * 1024 * 1024 + 17);

interface Running {
  server: HttpBootServer;
  base: string;
  events: RecordingTransferEvents;
  bootFiles: InMemoryBootFiles;
}
const running: Running[] = [];

interface RegionRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bodySha: string;
  bodyLength: number;
}
let region: http.Server;
let regionUrl: string;
const regionRequests: RegionRequest[] = [];
const bigAnswer = randomBytes(12 * 1024 * 1024);

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function start(overrides: Partial<HttpBootServerConfig> = {}): Promise<Running> {
  const events = new RecordingTransferEvents();
  const bootFiles = new InMemoryBootFiles()
    .match(/^ipxe\/.*\.ipxe$/, (r) => ({
      content: Buffer.from(`#!ipxe\nkernel http://rack/vmlinuz BOOTIF=${r.mac}\ninitrd http://rack/initrd.gz\nboot\n`),
      mac: r.mac,
      systemId: 'sys-1',
    }))
    .set('boot.ipxe', (r) => `#!ipxe\necho ${r.mac ?? 'unknown'}\n`);
  const server = new HttpBootServer(
    { address: '127.0.0.1', port: 0, root, regionUrl, proxyTimeoutMs: 2_000, ...overrides },
    { bootFiles, events, log: capturedLogger('info').log },
  );
  const { port } = await server.listen();
  const r = { server, base: `http://127.0.0.1:${port}`, events, bootFiles };
  running.push(r);
  return r;
}

let s: Running;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-http-'));
  root = join(dir, 'boot-resources');
  await mkdir(join(root, 'ubuntu', 'amd64'), { recursive: true });
  await writeFile(join(root, 'ubuntu', 'amd64', 'squashfs'), image);
  await writeFile(join(root, 'empty'), Buffer.alloc(0));
  await writeFile(join(dir, 'secret'), 'not for clients');
  await symlink(join(dir, 'secret'), join(root, 'escape-link'));
  await symlink('ubuntu/amd64/squashfs', join(root, 'squashfs-link'));

  region = http.createServer((req, res) => {
    const h = createHash('sha256');
    let n = 0;
    req.on('data', (c: Buffer) => {
      h.update(c);
      n += c.length;
    });
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodySha: h.digest('hex'), bodyLength: n };
      regionRequests.push(r);
      if (req.url?.startsWith('/MAAS/api/2.0/big')) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' }); // no length: chunked
        let off = 0;
        const pump = () => {
          while (off < bigAnswer.length) {
            const c = bigAnswer.subarray(off, off + 65536);
            off += c.length;
            if (!res.write(c)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
        return;
      }
      if (req.url?.startsWith('/MAAS/api/2.0/slow')) return; // never answers
      res.writeHead(req.url?.includes('missing') ? 404 : 200, { 'content-type': 'application/json', 'x-region': 'yes' });
      res.end(JSON.stringify(r));
    });
  });
  await new Promise<void>((ok) => region.listen(0, '127.0.0.1', ok));
  regionUrl = `http://127.0.0.1:${(region.address() as { port: number }).port}`;
  s = await start();
});

afterAll(async () => {
  for (const r of running) await r.server.close();
  region.closeAllConnections();
  await new Promise((ok) => region.close(ok));
  await rm(dir, { recursive: true, force: true });
});

interface CurlHttp {
  code: number;
  status: number;
  headers: Record<string, string>;
  /** The last header block as it came over the wire. */
  raw: string;
  body: Buffer;
}

let outN = 0;
async function curl(url: string, ...args: string[]): Promise<CurlHttp> {
  const n = ++outN;
  const hfile = join(dir, `h${n}`);
  const bfile = join(dir, `b${n}`);
  const r = await runProcess('curl', ['-s', '-S', '--max-time', '15', '-D', hfile, '-o', bfile, ...args, url]);
  const rawHeaders = await readFile(hfile, 'latin1').catch(() => '');
  const blocks = rawHeaders.trim().split(/\r\n\r\n/);
  const last = blocks[blocks.length - 1].split('\r\n');
  const status = Number(/^HTTP\/[\d.]+ (\d+)/.exec(last[0] ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of last.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const body = await readFile(bfile).catch(() => Buffer.alloc(0));
  return { code: r.code, status, headers, raw: last.join('\r\n'), body };
}

const IMG = '/ubuntu/amd64/squashfs';

describe('static boot resources', () => {
  it('streams a whole image with its length and validators', async () => {
    const r = await curl(s.base + IMG);
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe(String(image.length));
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(r.headers.etag).toBeDefined();
    // GRUB's HTTP client matches the header name exactly: without "Content-Length: " it cannot load a kernel.
    expect(r.raw).toContain(`\r\nContent-Length: ${image.length}`);
    expect(sha(r.body)).toBe(sha(image));
    const ev = await pollUntil(() => s.events.servedEvents.find((e) => e.file === IMG), Boolean);
    expect(ev).toMatchObject({ protocol: 'http', source: 'static', bytes: image.length, size: image.length, http: { method: 'GET', status: 200 } });
  });

  it('serves single ranges with 206 and Content-Range', async () => {
    const mid = await curl(s.base + IMG, '-r', '100-199');
    expect(mid.status).toBe(206);
    expect(mid.headers['content-range']).toBe(`bytes 100-199/${image.length}`);
    expect(mid.body.equals(image.subarray(100, 200))).toBe(true);

    const open = await curl(s.base + IMG, '-r', `${image.length - 10}-`);
    expect(open.status).toBe(206);
    expect(open.body.equals(image.subarray(image.length - 10))).toBe(true);

    const suffix = await curl(s.base + IMG, '-r', '-4096');
    expect(suffix.status).toBe(206);
    expect(suffix.headers['content-range']).toBe(`bytes ${image.length - 4096}-${image.length - 1}/${image.length}`);
    expect(suffix.body.equals(image.subarray(image.length - 4096))).toBe(true);

    const ev = await pollUntil(() => s.events.servedEvents.find((e) => e.http?.status === 206), Boolean);
    expect(ev).toMatchObject({ bytes: 100, size: 100, http: { range: 'bytes=100-199' } });
  });

  it('answers an unsatisfiable range with 416 and bytes */size', async () => {
    const r = await curl(s.base + IMG, '-r', `${image.length}-`);
    expect(r.status).toBe(416);
    expect(r.headers['content-range']).toBe(`bytes */${image.length}`);
    const empty = await curl(`${s.base}/empty`, '-r', '0-');
    expect(empty.status).toBe(416);
  });

  it('sends the whole file for several ranges, and for a range of another version (If-Range)', async () => {
    const multi = await curl(s.base + IMG, '-r', '0-1,10-20');
    expect(multi.status).toBe(200);
    expect(multi.body.length).toBe(image.length);
    const stale = await curl(s.base + IMG, '-r', '0-9', '-H', 'If-Range: "other-version"');
    expect(stale.status).toBe(200);
    const head = await curl(s.base + IMG, '-I');
    const fresh = await curl(s.base + IMG, '-r', '0-9', '-H', `If-Range: ${head.headers.etag}`);
    expect(fresh.status).toBe(206);
  });

  it('answers HEAD with the headers and no body', async () => {
    const r = await curl(s.base + IMG, '-I');
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe(String(image.length));
    expect(r.headers['content-type']).toBe('application/octet-stream');
    // curl -I prints the headers as its output; count the bytes on the wire instead.
    const net = await import('node:net');
    const wire = await new Promise<string>((done) => {
      const c = net.connect(Number(new URL(s.base).port), '127.0.0.1', () =>
        c.write(`HEAD ${IMG} HTTP/1.1\r\nHost: rack\r\nConnection: close\r\n\r\n`),
      );
      let got = '';
      c.on('data', (d) => (got += d.toString('latin1')));
      c.on('close', () => done(got));
    });
    expect(wire).toMatch(/^HTTP\/1.1 200 OK\r\n/);
    expect(wire.endsWith('\r\n\r\n')).toBe(true);
    const range = await curl(s.base + IMG, '-I', '-r', '0-99');
    expect(range.status).toBe(206);
    expect(range.headers['content-length']).toBe('100');
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const head = await curl(s.base + IMG, '-I');
    const r = await curl(s.base + IMG, '-H', `If-None-Match: ${head.headers.etag}`);
    expect(r.status).toBe(304);
    expect(r.body.length).toBe(0);
  });

  it('follows a symlink inside the root', async () => {
    const r = await curl(`${s.base}/squashfs-link`, '-r', '0-9');
    expect(r.body.equals(image.subarray(0, 10))).toBe(true);
  });

  it('reports a download the client abandoned', async () => {
    const before = s.events.failedEvents.length;
    await new Promise<void>((done) => {
      http.get(s.base + IMG, (res) => {
        res.once('data', () => {
          res.destroy();
          done();
        });
      });
    });
    const ev = await pollUntil(() => s.events.failedEvents.slice(before).find((e) => e.reason === 'aborted'), Boolean);
    expect(ev!.bytes).toBeLessThan(image.length);
    expect(ev!.file).toBe(IMG);
  });
});

describe('refusals', () => {
  it.each([
    ['/../secret', 403],
    ['/ubuntu/../../secret', 403],
    ['/%2e%2e/secret', 403],
    ['/ubuntu/..%2f..%2fsecret', 403],
    ['/..%5csecret', 403],
    ['/escape-link', 403],
    ['/ubuntu', 403],
    ['/nope', 404],
    ['/', 404],
    ['/a%00b', 400],
    ['/%zz', 400],
  ])('%s -> %d', async (path, status) => {
    const r = await curl(s.base + path, '--path-as-is');
    expect(r.status).toBe(status);
    expect(r.body.toString()).not.toContain('not for clients');
  });

  it('refuses absolute paths outside the root', async () => {
    const r = await curl(`${s.base}${join(dir, 'secret')}`);
    expect(r.status).toBe(404);
    expect(r.body.toString()).not.toContain('not for clients');
  });

  it('refuses methods other than GET and HEAD on boot resources', async () => {
    const r = await curl(s.base + IMG, '-X', 'POST', '--data', 'x');
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD');
  });

  it('answers a garbled request line with 400 and keeps serving', async () => {
    const net = await import('node:net');
    const reply = await new Promise<string>((done) => {
      const c = net.connect(Number(new URL(s.base).port), '127.0.0.1', () => c.write('GARBAGE \x01\x02 nonsense\r\n\r\n'));
      let got = '';
      c.on('data', (d) => (got += d.toString()));
      c.on('close', () => done(got));
    });
    expect(reply).toMatch(/^HTTP\/1.1 400/);
    expect((await curl(s.base + IMG, '-r', '0-0')).status).toBe(206);
    expect(Object.keys(s.server.stats().badInput).some((k) => k.startsWith('http-client-error'))).toBe(true);
  });
});

describe('per-MAC boot scripts', () => {
  it('renders an iPXE script for the MAC in the path', async () => {
    const r = await curl(`${s.base}/ipxe/52:54:00:12:34:56.ipxe`);
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.body.toString()).toBe('#!ipxe\nkernel http://rack/vmlinuz BOOTIF=52:54:00:12:34:56\ninitrd http://rack/initrd.gz\nboot\n');
    const ev = await pollUntil(() => s.events.servedEvents.find((e) => e.file.startsWith('/ipxe/')), Boolean);
    expect(ev).toMatchObject({ source: 'rendered', mac: '52:54:00:12:34:56', systemId: 'sys-1', http: { status: 200 } });
  });

  it('passes the query to the source (boot.ipxe?mac=${net0/mac})', async () => {
    const r = await curl(`${s.base}/boot.ipxe?mac=52-54-00-aa-bb-cc`);
    expect(r.body.toString()).toBe('#!ipxe\necho 52:54:00:aa:bb:cc\n');
    const req = s.bootFiles.requests.find((q) => q.path === 'boot.ipxe');
    expect(req?.query?.get('mac')).toBe('52-54-00-aa-bb-cc');
    expect(req?.client.address).toBe('127.0.0.1');
  });

  it('answers 503 when the source cannot render', async () => {
    const r2 = await start();
    r2.bootFiles.failWith = new Error('region down, nothing cached');
    const r = await curl(`${r2.base}/boot.ipxe`);
    expect(r.status).toBe(503);
    const ev = await pollUntil(() => r2.events.failedEvents[0], Boolean);
    expect(ev).toMatchObject({ reason: 'unavailable', source: 'rendered' });
  });
});

describe('metadata and API proxy', () => {
  it('relays a metadata GET with its Authorization header, query and the client address', async () => {
    const auth = 'OAuth oauth_consumer_key="CKEY", oauth_token="TKEY", oauth_signature="%26TSECRET"';
    const r = await curl(`${s.base}/MAAS/metadata/2012-03-01/meta-data/instance-id?op=x`, '-H', `Authorization: ${auth}`);
    expect(r.status).toBe(200);
    expect(r.headers['x-region']).toBe('yes');
    const seen = JSON.parse(r.body.toString()) as RegionRequest;
    expect(seen.method).toBe('GET');
    expect(seen.url).toBe('/MAAS/metadata/2012-03-01/meta-data/instance-id?op=x');
    expect(seen.headers.authorization).toBe(auth);
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-host']).toBe(new URL(s.base).host);
    expect(seen.headers.host).toBe(new URL(regionUrl).host);
  });

  it('streams a large request body to the region, keeping the method', async () => {
    const upload = randomBytes(8 * 1024 * 1024);
    await writeFile(join(dir, 'upload.bin'), upload);
    for (const method of ['POST', 'PUT']) {
      const r = await curl(`${s.base}/MAAS/api/2.0/machines/abc/`, '-X', method, '--data-binary', `@${join(dir, 'upload.bin')}`, '-H', 'Content-Type: application/octet-stream');
      const seen = JSON.parse(r.body.toString()) as RegionRequest;
      expect(seen).toMatchObject({ method, bodyLength: upload.length, bodySha: sha(upload) });
    }
    const chunked = await curl(`${s.base}/MAAS/api/2.0/machines/abc/`, '-X', 'POST', '-H', 'Transfer-Encoding: chunked', '--data-binary', `@${join(dir, 'upload.bin')}`);
    expect(JSON.parse(chunked.body.toString())).toMatchObject({ bodyLength: upload.length, bodySha: sha(upload) });
    const del = await curl(`${s.base}/MAAS/api/2.0/machines/abc/`, '-X', 'DELETE');
    expect(JSON.parse(del.body.toString()).method).toBe('DELETE');
  });

  it('streams a large response back and relays the region status', async () => {
    const r = await curl(`${s.base}/MAAS/api/2.0/big`);
    expect(r.status).toBe(200);
    expect(sha(r.body)).toBe(sha(bigAnswer));
    const missing = await curl(`${s.base}/MAAS/api/2.0/missing/`);
    expect(missing.status).toBe(404);
  });

  it('answers 502 with a clear message when the region is down', async () => {
    const closed = http.createServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
    const deadUrl = `http://127.0.0.1:${(closed.address() as { port: number }).port}`;
    await new Promise((ok) => closed.close(ok));
    const r2 = await start({ regionUrl: deadUrl });
    const r = await curl(`${r2.base}/MAAS/metadata/latest/meta-data/`);
    expect(r.status).toBe(502);
    expect(r.body.toString()).toBe(`Kiln rack: the region at ${deadUrl} is unreachable (ECONNREFUSED)\n`);
    const ev = await pollUntil(() => r2.events.failedEvents[0], Boolean);
    expect(ev).toMatchObject({ reason: 'unavailable', source: 'proxy', http: { status: 502 } });
  });

  it('answers 504 when the region does not answer in time', async () => {
    const r2 = await start({ proxyTimeoutMs: 300 });
    const r = await curl(`${r2.base}/MAAS/api/2.0/slow`);
    expect(r.status).toBe(504);
    expect(r.body.toString()).toMatch(/did not answer within 300 ms/);
  });

  it('refuses dot segments that would leave the proxied paths', async () => {
    const before = regionRequests.length;
    const r = await curl(`${s.base}/MAAS/api/2.0/../../../other`, '--path-as-is');
    expect(r.status).toBe(400);
    const enc = await curl(`${s.base}/MAAS/metadata/%2e%2e/%2e%2e/other`, '--path-as-is');
    expect(enc.status).toBe(400);
    expect(regionRequests.length).toBe(before);
  });
});
