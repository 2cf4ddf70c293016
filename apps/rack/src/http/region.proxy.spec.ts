import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { RegionProxy } from './region.proxy';

/** A request through `front` by a client of its own (a new connection each time), its status and body. */
function call(port: number, method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

const listen = (server: http.Server) => new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
const close = (server: http.Server) => new Promise<void>((r) => server.close(() => r()));

describe('RegionProxy', () => {
  it('sends a request again, body and all, when the region resets the kept-alive connection it was sent on', async () => {
    // The region: answers, and echoes bodies; on its first connection, the second request is met
    // with a reset, as when the region closes an idle keep-alive connection just as it is reused.
    const perSocket = new Map<Socket, number>();
    const seen: string[] = [];
    const region = http.createServer((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        seen.push(`${perSocket.size}:${n} ${req.method} ${req.url} ${body}`);
        if (perSocket.size === 1 && n === 2) {
          req.socket.resetAndDestroy();
          return;
        }
        res.end(`echo:${req.method} ${body}`);
      });
    });
    const regionPort = await listen(region);
    const proxy = new RegionProxy({ regionUrl: `http://127.0.0.1:${regionPort}` });
    const front = http.createServer((req, res) => void proxy.forward(req, res));
    const frontPort = await listen(front);
    try {
      expect(await call(frontPort, 'GET', '/MAAS/metadata/a')).toEqual({ status: 200, body: 'echo:GET ' });
      // The reused connection is reset: the proxy sends the POST again on a new one.
      expect(await call(frontPort, 'POST', '/MAAS/metadata/status/abc', 'event=1')).toEqual({ status: 200, body: 'echo:POST event=1' });
      expect(seen).toEqual(['1:1 GET /MAAS/metadata/a ', '1:2 POST /MAAS/metadata/status/abc event=1', '2:1 POST /MAAS/metadata/status/abc event=1']);
    } finally {
      proxy.close();
      await close(front);
      region.closeAllConnections();
      await close(region);
    }
  });

  it('answers 502 naming the region when it cannot be reached at all', async () => {
    const region = http.createServer();
    const regionPort = await listen(region);
    await close(region);
    const proxy = new RegionProxy({ regionUrl: `http://127.0.0.1:${regionPort}` });
    const front = http.createServer((req, res) => void proxy.forward(req, res));
    const frontPort = await listen(front);
    try {
      const r = await call(frontPort, 'GET', '/MAAS/metadata/');
      expect(r.status).toBe(502);
      expect(r.body).toBe(`Kiln rack: the region at http://127.0.0.1:${regionPort} is unreachable (ECONNREFUSED)\n`);
    } finally {
      proxy.close();
      await close(front);
    }
  });
});
