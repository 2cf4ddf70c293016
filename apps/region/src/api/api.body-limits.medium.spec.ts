import { request } from 'node:http';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
const MB = 1024 * 1024;

interface Sent {
  status: number;
  text: string;
  ms: number;
}

/**
 * POSTs `size` bytes in 1 MiB chunks (declared with Content-Length, or chunked), stopping as soon
 * as the region answers: what a client sees when the region refuses a body without reading it.
 */
function post(baseUrl: string, path: string, size: number, opts: { chunked?: boolean; authorization?: string } = {}): Promise<Sent> {
  const started = Date.now();
  return new Promise<Sent>((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (!opts.chunked) headers['content-length'] = String(size);
    if (opts.authorization) headers.authorization = opts.authorization;
    const req = request(`${baseUrl}${path}`, { method: 'POST', headers });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, ms: Date.now() - started }));
      res.on('error', reject);
    });
    // The region closes the connection once it has answered; writes after that fail, as expected.
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    const chunk = Buffer.alloc(MB, 'a');
    let sent = 0;
    const pump = () => {
      while (!answered && sent < size) {
        const n = Math.min(MB, size - sent);
        sent += n;
        if (!req.write(n === MB ? chunk : chunk.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}

/** Unauthenticated callers may send only a small body, and nobody's body is read before the OAuth header is checked. */
describe('request body limits', () => {
  let h: RegionHarness;
  let admin: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
  });
  afterAll(() => h.stop());

  it('refuses an anonymous 60 MB POST at once, declared or chunked', async () => {
    const declared = await post(h.baseUrl, `${API}/machines/`, 60 * MB);
    expect(declared.status).toBe(413);
    expect(declared.text).toBe('Request body exceeds the limit of 65536 bytes.');
    expect(declared.ms).toBeLessThan(400);
    const chunked = await post(h.baseUrl, `${API}/machines/`, 60 * MB, { chunked: true });
    expect(chunked.status).toBe(413);
    expect(chunked.ms).toBeLessThan(400);
  });

  it('refuses an anonymous POST to an authenticated-only resource before reading its body', async () => {
    const r = await post(h.baseUrl, `${API}/users/`, 60 * MB, { chunked: true });
    expect(r.status).toBe(401);
    expect(r.text).toBe('Authorization Error: Anonymous access is not allowed for this request.');
    expect(r.ms).toBeLessThan(400);
  });

  it('refuses a bad signature with a 60 MB body before reading it', async () => {
    const bad = RegionHarness.oauthHeader(admin, { signature: '%26wrong' });
    const r = await post(h.baseUrl, `${API}/machines/`, 60 * MB, { chunked: true, authorization: bad });
    expect(r.status).toBe(401);
    expect(r.ms).toBeLessThan(400);
  });

  it('keeps memory bounded and version/ fast under a dozen anonymous 60 MB POSTs', async () => {
    global.gc?.();
    const before = process.memoryUsage().rss;
    const slowest = { ms: 0 };
    let flooding = true;
    const probe = (async () => {
      while (flooding) {
        const t = Date.now();
        const v = await h.call(null, 'GET', `${API}/version/`);
        expect(v.status).toBe(200);
        slowest.ms = Math.max(slowest.ms, Date.now() - t);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => post(h.baseUrl, `${API}/machines/`, 60 * MB, { chunked: i % 2 === 0 })),
    );
    flooding = false;
    await probe;
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(413));
    // The region runs in this process: its resident memory grows by far less than one such body.
    expect(process.memoryUsage().rss - before).toBeLessThan(60 * MB);
    expect(slowest.ms).toBeLessThan(500);
  });

  it('still takes a small anonymous enlistment and large authenticated bodies up to the limit', async () => {
    const enlist = await h.call(null, 'POST', `${API}/machines/`, { architecture: 'amd64/generic', mac_addresses: '52:54:00:e1:00:01' });
    expect(enlist.status).toBe(200);
    const big = await h.call(admin, 'POST', `${API}/tags/`, { name: 'big', comment: 'c'.repeat(2 * MB) });
    expect(big.status).toBeLessThan(500);
    expect(big.status).not.toBe(413);
    const tooBig = await post(h.baseUrl, `${API}/tags/`, 65 * MB, { authorization: RegionHarness.oauthHeader(admin) });
    expect(tooBig.status).toBe(413);
  });
});
