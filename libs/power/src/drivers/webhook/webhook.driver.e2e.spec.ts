/**
 * The webhook driver against a small power service on loopback HTTP (a stand-in for whatever
 * system the webhook URLs belong to: it answers {"status": "running"|"stopped"}).
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { PowerError } from '../../power.errors';
import { PowerRunner } from '../../power.runner';
import { WebhookDriver } from './webhook.driver';

jest.setTimeout(20_000);

describe('webhook driver against an HTTP power service', () => {
  let server: http.Server;
  let base = '';
  let running = false;
  let lie = false;
  const seen: { method: string; url: string; auth?: string; systemId?: string }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, systemId: req.headers['system_id'] as string | undefined });
      const auth = req.headers.authorization;
      if (auth !== 'Bearer t0ken' && auth !== `Basic ${Buffer.from('ops:pw').toString('base64')}`) {
        res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"error":"bad token"}');
        return;
      }
      if (req.url === '/internal') {
        res.writeHead(500, { 'Content-Type': 'text/html' }).end('<h1>admin console</h1> db_password=hunter2');
        return;
      }
      if (req.method === 'POST' && req.url === '/on') running = lie ? running : true;
      else if (req.method === 'POST' && req.url === '/off') running = lie ? running : false;
      else if (!(req.method === 'GET' && req.url === '/state')) {
        res.writeHead(404).end('not here');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: running ? 'running' : 'stopped' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  const r = new PowerRunner(new Map([['webhook', new WebhookDriver({ cyclePollMs: 20 })]]), {
    attempts: 2,
    backoffMs: 20,
    jitter: 0,
    verifyDelaysMs: [20, 50, 100],
    callTimeoutMs: 2000,
  });
  const params = (extra: Record<string, string> = {}) => ({
    power_on_uri: `${base}/on`,
    power_off_uri: `${base}/off`,
    power_query_uri: `${base}/state`,
    power_token: 't0ken',
    ...extra,
  });
  const act = (kind: 'on' | 'off' | 'cycle' | 'query', extra: Record<string, string> = {}) =>
    r.execute({ powerType: 'webhook', params: params(extra), action: { kind }, systemId: 'abc123' });

  it('powers on and off, verified with the default MAAS regexes, sending System_Id', async () => {
    expect(await act('query')).toMatchObject({ state: 'off' });
    expect(await act('on')).toMatchObject({ state: 'on', verified: true });
    expect(await act('cycle')).toMatchObject({ state: 'on', verified: true });
    expect(await act('off')).toMatchObject({ state: 'off', verified: true });
    expect(seen.filter((s) => s.method === 'POST').map((s) => s.url)).toEqual(['/on', '/off', '/on', '/off']);
    expect(seen.every((s) => s.systemId === 'abc123' && s.auth === 'Bearer t0ken')).toBe(true);
  });

  it('uses basic auth without a token, and reports refused credentials as fatal', async () => {
    expect(await act('query', { power_token: '', power_user: 'ops', power_pass: 'pw' })).toMatchObject({ state: 'off' });
    const e = await act('query', { power_token: 'wrong' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PowerError);
    expect(e).toMatchObject({ code: 'BMC_AUTH', fatal: true, bmcSays: 'HTTP 401' });
    expect((e as PowerError).describe()).not.toContain('wrong');
  });

  it('never echoes what a webhook URL answered into its errors, only the status code', async () => {
    for (const extra of [{ power_query_uri: `${base}/internal` }, { power_query_uri: `${base}/missing` }]) {
      const e = await act('query', extra).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(PowerError);
      const said = (e as PowerError).describe();
      expect(said).toMatch(/HTTP (500|404)/);
      expect(said).not.toMatch(/admin console|hunter2|not here/);
    }
  });

  it('answers unknown when neither regex matches, and catches a service that lies', async () => {
    expect(await act('query', { power_on_regex: 'nothing', power_off_regex: 'nomatch' })).toMatchObject({ state: 'unknown' });
    lie = true;
    try {
      await expect(act('on')).rejects.toMatchObject({ code: 'NOT_VERIFIED' });
    } finally {
      lie = false;
    }
  });

  it('refuses bad settings and cannot set a boot device', async () => {
    await expect(act('query', { power_on_regex: '(' })).rejects.toMatchObject({ code: 'BAD_SETTINGS' });
    await expect(act('query', { power_query_uri: 'ftp://x' })).rejects.toMatchObject({ code: 'BAD_SETTINGS' });
    await expect(r.execute({ powerType: 'webhook', params: params(), action: { kind: 'set_boot_device', device: 'pxe' } })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      fatal: true,
    });
  });
});
