/**
 * The Redfish driver against the Redfish BMC emulator (tools/redfish-emulator) over real HTTPS
 * with a self-signed certificate made by openssl. Needs: openssl.
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
// The emulator is a standalone tool (tools/redfish-emulator), not a project: tests use it directly.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { RedfishEmulator } from '../../../../../tools/redfish-emulator/redfish.emulator';
import { PowerError } from '../../power.errors';
import { PowerPolicy } from '../../power.policy';
import { PowerRunner } from '../../power.runner';
import { PowerAction } from '../../power.types';
import { RedfishDriver, RedfishDriverOptions } from './redfish.driver';

jest.setTimeout(30_000);

const FAST: Partial<PowerPolicy> = { attempts: 2, backoffMs: 50, jitter: 0, verifyDelaysMs: [50, 100, 200, 300, 400], callTimeoutMs: 2000 };

function runner(opts: RedfishDriverOptions = {}, policy: Partial<PowerPolicy> = {}) {
  const driver = new RedfishDriver(opts);
  return { driver, r: new PowerRunner(new Map([['redfish', driver]]), { ...FAST, ...policy }) };
}

function params(emu: RedfishEmulator, extra: Record<string, string> = {}) {
  return { power_address: emu.url.replace('https://', ''), power_user: 'admin', power_pass: 'password', ...extra };
}

async function failure(p: Promise<unknown>): Promise<PowerError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof PowerError) return e;
    throw e;
  }
  throw new Error('expected a PowerError');
}

describe.each<'basic' | 'session'>(['basic', 'session'])('redfish driver (%s auth) against the emulator', (auth) => {
  const emu = new RedfishEmulator({ systems: ['1', '2'] });
  let r: PowerRunner;
  let driver: RedfishDriver;
  const act = (action: PowerAction, extra: Record<string, string> = {}) => r.execute({ powerType: 'redfish', params: params(emu, extra), action });

  beforeAll(async () => {
    await emu.start();
    ({ r, driver } = runner({ auth }));
  });
  afterAll(async () => {
    await driver.close();
    await emu.stop();
  });

  it('discovers the first system, sets PXE once, powers on, cycles, soft-offs and hard-offs it', async () => {
    const s = emu.system('1');
    expect(await act({ kind: 'query' })).toMatchObject({ state: 'off', verified: true });

    expect(await act({ kind: 'set_boot_device', device: 'pxe' })).toMatchObject({ bootDevice: 'pxe', verified: true });
    expect(s).toMatchObject({ bootTarget: 'Pxe', bootEnabled: 'Once' });

    expect(await act({ kind: 'on' })).toMatchObject({ state: 'on', verified: true });
    expect(s.powerState).toBe('On');
    // The one-time override was used by that boot and is gone (DSP2046 "Once").
    expect(s.boots).toEqual(['Pxe']);
    expect(await act({ kind: 'query' })).toMatchObject({ state: 'on' });

    expect(await act({ kind: 'cycle' })).toMatchObject({ state: 'on', verified: true });
    expect(s.boots).toEqual(['Pxe', 'Hdd']);

    expect(await act({ kind: 'off', mode: 'soft' })).toMatchObject({ state: 'off', verified: true });
    expect(emu.requests.filter((q) => q.path.endsWith('ComputerSystem.Reset')).length).toBe(3);

    expect(await act({ kind: 'cycle' })).toMatchObject({ state: 'on' }); // off: cycle powers on
    expect(await act({ kind: 'off' })).toMatchObject({ state: 'off' });
    expect(await act({ kind: 'set_boot_device', device: 'disk' })).toMatchObject({ bootDevice: 'disk' });
    expect(emu.system('2').powerState).toBe('Off');
    expect(emu.system('2').boots).toEqual([]);
  });

  it('drives the system node_id names, and refuses one that does not exist', async () => {
    expect(await act({ kind: 'on' }, { node_id: '2' })).toMatchObject({ state: 'on' });
    expect(emu.system('2').powerState).toBe('On');
    expect(emu.system('1').powerState).toBe('Off');
    await act({ kind: 'off' }, { node_id: '2' });
    const err = await failure(act({ kind: 'query' }, { node_id: '7' }));
    expect(err).toMatchObject({ code: 'BAD_SETTINGS', fatal: true });
    expect(err.message).toMatch(/node_id "7" is not among this BMC's systems \(1, 2\)/);
  });

  it('authenticates the way it was told', () => {
    const authed = emu.requests.filter((q) => q.auth !== 'none').map((q) => q.auth);
    expect(new Set(authed)).toEqual(new Set([auth]));
    if (auth === 'session') expect(emu.sessionCount()).toBe(1);
  });

  it('a wrong password is fatal at once, quoting the BMC, without the password', async () => {
    const { r: bad } = runner({ auth });
    const err = await failure(bad.execute({ powerType: 'redfish', params: params(emu, { power_pass: 'wrong-secret' }), action: { kind: 'query' } }));
    expect(err).toMatchObject({ code: 'BMC_AUTH', fatal: true });
    expect(err.bmcSays).toBe('HTTP 401: Base.1.8.NoValidSession: There is no valid session established with the implementation.');
    expect(err.describe()).not.toContain('wrong-secret');
  });

  it('catches a BMC that accepts changes and makes none', async () => {
    emu.faults.lie = true;
    try {
      const on = await failure(act({ kind: 'on' }));
      expect(on).toMatchObject({ code: 'NOT_VERIFIED', fatal: false });
      expect(on.message).toMatch(/still reports power off/);
      const boot = await failure(act({ kind: 'set_boot_device', device: 'pxe' }));
      expect(boot.message).toMatch(/still reports boot device (disk|none)/);
    } finally {
      emu.faults.lie = false;
    }
  });
});

describe('redfish driver: faults and options', () => {
  let emu: RedfishEmulator;
  beforeEach(async () => {
    emu = new RedfishEmulator();
    await emu.start();
  });
  afterEach(async () => {
    await emu.stop();
  });
  const exec = (r: PowerRunner, action: PowerAction, extra: Record<string, string> = {}) =>
    r.execute({ powerType: 'redfish', params: params(emu, extra), action });

  it('waits through PoweringOn/PoweringOff transitions', async () => {
    await emu.stop();
    emu = new RedfishEmulator({ transitionMs: 250 });
    await emu.start();
    const { r } = runner();
    const on = await exec(r, { kind: 'on' });
    expect(on).toMatchObject({ state: 'on', verified: true });
    expect(on.calls).toBeGreaterThanOrEqual(3); // the change and at least two queries
  });

  it('a BMC that accepts connections and never answers: retried, then a timeout', async () => {
    const { r } = runner({}, { callTimeoutMs: 300 });
    emu.faults.hang = true;
    const err = await failure(exec(r, { kind: 'query' }));
    expect(err).toMatchObject({ code: 'BMC_TIMEOUT', fatal: false });
    expect(err.message).toMatch(/failed after 2 attempts: no answer from 127\.0\.0\.1:\d+ within 300 ms/);
  });

  it('a BMC that is down: unreachable, in the system’s words', async () => {
    const { r } = runner();
    const address = params(emu);
    await emu.stop();
    const err = await failure(r.execute({ powerType: 'redfish', params: address, action: { kind: 'query' } }));
    expect(err).toMatchObject({ code: 'BMC_UNREACHABLE', fatal: false });
    expect(err.bmcSays).toMatch(/ECONNREFUSED/);
  });

  it('a busy BMC (503) is retried', async () => {
    const { r } = runner();
    emu.faults.failNext = 1;
    expect(await exec(r, { kind: 'query' })).toMatchObject({ state: 'off', calls: 2 });
  });

  it('an OS that ignores GracefulShutdown is caught', async () => {
    const { r } = runner();
    await exec(r, { kind: 'on' });
    emu.faults.ignoreGraceful = true;
    const err = await failure(exec(r, { kind: 'off', mode: 'soft' }));
    expect(err).toMatchObject({ code: 'NOT_VERIFIED' });
    expect(emu.system().powerState).toBe('On');
  });

  it('only sends ResetTypes the system allows', async () => {
    await emu.stop();
    emu = new RedfishEmulator({ resetTypes: ['On', 'ForceOff'] });
    await emu.start();
    const { r } = runner();
    await exec(r, { kind: 'on' });
    const soft = await failure(exec(r, { kind: 'off', mode: 'soft' }));
    expect(soft).toMatchObject({ code: 'UNSUPPORTED', fatal: true });
    expect(soft.bmcSays).toBe('allowed: On, ForceOff');
    expect(await exec(r, { kind: 'off' })).toMatchObject({ state: 'off' });
  });

  it('sends If-Match with the ETag when it changes the boot override', async () => {
    await emu.stop();
    emu = new RedfishEmulator({ requireIfMatch: true });
    await emu.start();
    const { r } = runner();
    expect(await exec(r, { kind: 'set_boot_device', device: 'pxe' })).toMatchObject({ bootDevice: 'pxe' });
  });

  it('verifies TLS when told to: the self-signed certificate fails (fatal) unless its CA is trusted', async () => {
    const strict = runner({ verifyTls: true }).r;
    const err = await failure(exec(strict, { kind: 'query' }));
    expect(err).toMatchObject({ code: 'BAD_SETTINGS', fatal: true });
    expect(err.bmcSays).toMatch(/self[- ]signed/i);
    const trusting = runner({ verifyTls: true, ca: emu.cert }).r;
    expect(await exec(trusting, { kind: 'query' })).toMatchObject({ state: 'off' });
  });

  it('never echoes what an address that is not a Redfish service answered, only the HTTP status', async () => {
    const marker = 'db_password=kiln-marker-7f3a9c';
    const answers = [
      { status: 500, contentType: 'text/html', body: `<html><h1>admin console</h1><p>${marker}</p></html>` },
      { status: 404, contentType: 'text/plain', body: marker },
      { status: 401, contentType: 'application/json', body: JSON.stringify({ error: 'bad token', detail: marker }) },
      // A JSON API's error object is not a Redfish error: its code is no MessageId.
      { status: 403, contentType: 'application/json', body: JSON.stringify({ error: { code: 403, message: marker } }) },
      { status: 400, contentType: 'application/json', body: JSON.stringify({ error: { code: 'invalid_request', message: marker } }) },
      // A 200 that is not JSON, or JSON that is not a Redfish service root.
      { status: 200, contentType: 'text/plain', body: `metadata: ${marker}` },
      { status: 200, contentType: 'application/json', body: JSON.stringify({ token: marker }) },
    ];
    for (const auth of ['basic', 'session'] as const) {
      for (const answer of answers) {
        emu.faults.foreign = answer;
        const { r } = runner({ auth });
        const err = await failure(exec(r, { kind: 'on' }));
        expect(err.describe()).not.toContain('kiln-marker');
        expect(err.describe()).not.toContain('admin console');
        if (answer.status !== 200 || answer.contentType === 'text/plain') expect(err.bmcSays).toBe(`HTTP ${answer.status}, not a Redfish answer`);
      }
    }
    expect(emu.system().powerState).toBe('Off');
  });

  it('quotes a Redfish error object only by its MessageIds and Messages, in printable words of bounded length', async () => {
    const marker = 'kiln-marker-7f3a9c';
    emu.faults.foreign = {
      status: 400,
      contentType: 'application/json',
      body: JSON.stringify({
        error: {
          code: 'Base.1.8.GeneralError',
          message: 'A general error has occurred.',
          '@Message.ExtendedInfo': [
            { MessageId: 'IDRAC.2.1.RAC0508', Message: `Server is\u0007 already\u001b[31m powered\r\nON.\u202e ${'x'.repeat(1000)}`, Resolution: marker, MessageArgs: [marker] },
            { MessageId: marker, Message: marker },
          ],
          Oem: { Vendor: { Detail: marker } },
        },
        Extra: marker,
      }),
    };
    const { r } = runner();
    const err = await failure(exec(r, { kind: 'query' }));
    expect(err).toMatchObject({ code: 'BAD_SETTINGS', fatal: true });
    expect(err.bmcSays).toMatch(/^HTTP 400: Base\.1\.8\.GeneralError: A general error has occurred\. \| IDRAC\.2\.1\.RAC0508: Server is already \[31m powered ON\. x+…$/);
    expect(err.bmcSays).not.toContain(marker);
    expect(err.bmcSays).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(err.bmcSays.length).toBeLessThanOrEqual(300);
  });

  it('follows the BMC’s links only on its power address, whatever origin they name', async () => {
    const elsewhere: string[] = [];
    const decoy = http.createServer((req, res) => {
      elsewhere.push(`${req.method} ${req.url}`);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => decoy.listen(0, '127.0.0.1', () => resolve()));
    try {
      await emu.stop();
      emu = new RedfishEmulator({ linkOrigin: `http://127.0.0.1:${(decoy.address() as AddressInfo).port}` });
      await emu.start();
      for (const auth of ['basic', 'session'] as const) {
        const { r, driver } = runner({ auth });
        expect(await exec(r, { kind: 'cycle' })).toMatchObject({ state: 'on' });
        expect(await exec(r, { kind: 'off' })).toMatchObject({ state: 'off' });
        await driver.close();
      }
      expect(emu.sessionCount()).toBe(0);
      expect(elsewhere).toEqual([]);
    } finally {
      await new Promise((resolve) => decoy.close(resolve));
    }
  });

  it('logs in again when its session expires, and logs out on close', async () => {
    const { r, driver } = runner({ auth: 'session' });
    await exec(r, { kind: 'query' });
    expect(emu.sessionCount()).toBe(1);
    // The BMC forgets every session (reboot, timeout).
    (emu as unknown as { sessions: Map<string, unknown> }).sessions.clear();
    expect(await exec(r, { kind: 'query' })).toMatchObject({ state: 'off' });
    expect(emu.sessionCount()).toBe(1);
    await driver.close();
    expect(emu.sessionCount()).toBe(0);
  });
});
