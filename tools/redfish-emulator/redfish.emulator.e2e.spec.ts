/**
 * The emulator speaks Redfish as DSP0266 describes it, checked with curl (a client that is not
 * ours) and, once, as a separate process started from main.ts. Needs: openssl, curl.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { RedfishEmulator } from './redfish.emulator';

jest.setTimeout(30_000);

interface CurlResult {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** curl -k (the certificate is self-signed), returning status, headers and JSON body. */
function curl(url: string, args: string[] = []): Promise<CurlResult> {
  return new Promise((resolve, reject) =>
    execFile('curl', ['-sk', '-D', '-', ...args, url], { timeout: 10_000 }, (err, stdout) => {
      if (err) return reject(err);
      const [head, ...rest] = stdout.split(/\r\n\r\n/);
      const lines = head.split('\r\n');
      const status = Number(lines[0].split(' ')[1]);
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      const text = rest.join('\r\n\r\n');
      resolve({ status, headers, body: text ? JSON.parse(text) : {} });
    }),
  );
}

const AUTH = ['-u', 'admin:password'];
const JSON_BODY = (body: unknown) => ['-H', 'Content-Type: application/json', '--data', JSON.stringify(body)];

describe('Redfish emulator conformance', () => {
  const emu = new RedfishEmulator({ systems: ['1', 'blade-2'] });
  let base: string;

  beforeAll(async () => {
    base = await emu.start();
  });
  afterAll(async () => {
    await emu.stop();
  });

  it('serves the service root without credentials, and nothing else', async () => {
    const version = await curl(`${base}/redfish`);
    expect(version.body).toEqual({ v1: '/redfish/v1/' });
    const root = await curl(`${base}/redfish/v1/`);
    expect(root.status).toBe(200);
    expect(root.headers['odata-version']).toBe('4.0');
    expect(root.body).toMatchObject({
      '@odata.type': expect.stringMatching(/^#ServiceRoot\.v1_\d+_\d+\.ServiceRoot$/),
      Systems: { '@odata.id': '/redfish/v1/Systems' },
      Links: { Sessions: { '@odata.id': '/redfish/v1/SessionService/Sessions' } },
    });
    const denied = await curl(`${base}/redfish/v1/Systems`);
    expect(denied.status).toBe(401);
    expect(denied.headers['www-authenticate']).toMatch(/^Basic/);
    expect(denied.body).toMatchObject({ error: { code: 'Base.1.8.NoValidSession', '@Message.ExtendedInfo': [expect.objectContaining({ MessageId: 'Base.1.8.NoValidSession' })] } });
    expect((await curl(`${base}/redfish/v1/Systems`, ['-u', 'admin:nope'])).status).toBe(401);
  });

  it('lists systems and describes each ComputerSystem with its actions and boot override', async () => {
    const list = await curl(`${base}/redfish/v1/Systems`, AUTH);
    expect(list.body).toMatchObject({
      'Members@odata.count': 2,
      Members: [{ '@odata.id': '/redfish/v1/Systems/1' }, { '@odata.id': '/redfish/v1/Systems/blade-2' }],
    });
    const sys = await curl(`${base}/redfish/v1/Systems/1`, AUTH);
    expect(sys.headers.etag).toBe(sys.body['@odata.etag']);
    expect(sys.body).toMatchObject({
      '@odata.type': expect.stringMatching(/^#ComputerSystem\.v1_/),
      Id: '1',
      PowerState: 'Off',
      Boot: { BootSourceOverrideEnabled: 'Disabled', BootSourceOverrideTarget: 'None', 'BootSourceOverrideTarget@Redfish.AllowableValues': expect.arrayContaining(['Pxe', 'Hdd']) },
      Actions: {
        '#ComputerSystem.Reset': {
          target: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset',
          'ResetType@Redfish.AllowableValues': expect.arrayContaining(['On', 'ForceOff', 'GracefulShutdown', 'ForceRestart']),
        },
      },
    });
    expect((await curl(`${base}/redfish/v1/Systems/9`, AUTH)).status).toBe(404);
  });

  it('performs ComputerSystem.Reset with an allowed ResetType and refuses others', async () => {
    const target = `${base}/redfish/v1/Systems/1/Actions/ComputerSystem.Reset`;
    expect((await curl(target, [...AUTH, ...JSON_BODY({ ResetType: 'On' })])).status).toBe(204);
    expect((await curl(`${base}/redfish/v1/Systems/1`, AUTH)).body.PowerState).toBe('On');
    const bad = await curl(target, [...AUTH, ...JSON_BODY({ ResetType: 'Explode' })]);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'Base.1.8.ActionParameterValueNotInList' } });
    const none = await curl(target, [...AUTH, ...JSON_BODY({})]);
    expect(none.body).toMatchObject({ error: { code: 'Base.1.8.ActionParameterMissing' } });
    expect((await curl(target, [...AUTH, ...JSON_BODY({ ResetType: 'ForceOff' })])).status).toBe(204);
    expect(emu.system('1').powerState).toBe('Off');
    const get = await curl(target, AUTH);
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
  });

  it('PATCHes the boot override, honouring If-Match, and refuses read-only properties', async () => {
    const url = `${base}/redfish/v1/Systems/blade-2`;
    const before = await curl(url, AUTH);
    const stale = await curl(url, [...AUTH, '-X', 'PATCH', '-H', 'If-Match: W/"999"', ...JSON_BODY({ Boot: { BootSourceOverrideTarget: 'Pxe' } })]);
    expect(stale.status).toBe(412);
    const ok = await curl(url, [
      ...AUTH,
      '-X',
      'PATCH',
      '-H',
      `If-Match: ${before.headers.etag}`,
      ...JSON_BODY({ Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' } }),
    ]);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' } });
    expect(ok.headers.etag).not.toBe(before.headers.etag);
    const ro = await curl(url, [...AUTH, '-X', 'PATCH', ...JSON_BODY({ PowerState: 'On' })]);
    expect(ro.body).toMatchObject({ error: { code: 'Base.1.8.PropertyNotWritable' } });
    const badTarget = await curl(url, [...AUTH, '-X', 'PATCH', ...JSON_BODY({ Boot: { BootSourceOverrideTarget: 'Tape' } })]);
    expect(badTarget.body).toMatchObject({ error: { code: 'Base.1.8.PropertyValueNotInList' } });
  });

  it('opens sessions (201, X-Auth-Token, Location), accepts the token, and deletes them', async () => {
    const login = await curl(`${base}/redfish/v1/SessionService/Sessions`, JSON_BODY({ UserName: 'admin', Password: 'password' }));
    expect(login.status).toBe(201);
    const token = login.headers['x-auth-token'];
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    expect(login.headers.location).toMatch(/^\/redfish\/v1\/SessionService\/Sessions\/[0-9a-f]+$/);
    expect(login.body).not.toHaveProperty('Password');
    const withToken = await curl(`${base}/redfish/v1/Systems`, ['-H', `X-Auth-Token: ${token}`]);
    expect(withToken.status).toBe(200);
    const bad = await curl(`${base}/redfish/v1/SessionService/Sessions`, JSON_BODY({ UserName: 'admin', Password: 'x' }));
    expect(bad.status).toBe(401);
    const del = await curl(`${base}${login.headers.location}`, ['-X', 'DELETE', '-H', `X-Auth-Token: ${token}`]);
    expect(del.status).toBe(204);
    expect((await curl(`${base}/redfish/v1/Systems`, ['-H', `X-Auth-Token: ${token}`])).status).toBe(401);
  });
});

describe('Redfish emulator as a process (main.ts)', () => {
  let child: ChildProcess | null = null;
  afterEach(() => {
    child?.kill('SIGKILL');
    child = null;
  });

  it('starts, prints its URL, serves, and stops on SIGTERM', async () => {
    const root = join(__dirname, '..', '..');
    child = spawn(process.execPath, ['-r', join(root, 'tools', 'register.js'), join(__dirname, 'main.ts'), '--user', 'ops', '--password', 's3cret'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child!.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /https:\/\/\S+/.exec(out);
        if (m) resolve(m[0]);
      });
      child!.once('exit', (code) => reject(new Error(`emulator exited ${code}`)));
    });
    const sys = await curl(`${url}/redfish/v1/Systems/1`, ['-u', 'ops:s3cret']);
    expect(sys.body).toMatchObject({ PowerState: 'Off' });
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
