import { PowerError } from '../../power.errors';
import {
  allowedFromActionInfo,
  bootDeviceOf,
  chooseResetType,
  httpError,
  members,
  pickSystem,
  powerStateOf,
  printable,
  redfishErrorWords,
  resetActionOf,
  sessionsPath,
  systemsPath,
} from './redfish.model';
import { parseRedfishSettings } from './redfish.settings';

describe('redfish model', () => {
  it('finds Systems and Sessions from the service root', () => {
    const root = { Systems: { '@odata.id': '/redfish/v1/Systems' }, Links: { Sessions: { '@odata.id': '/redfish/v1/SessionService/Sessions' } } };
    expect(systemsPath(root)).toBe('/redfish/v1/Systems');
    expect(sessionsPath(root)).toBe('/redfish/v1/SessionService/Sessions');
    expect(sessionsPath({ SessionService: { '@odata.id': '/redfish/v1/SessionService/' } })).toBe('/redfish/v1/SessionService/Sessions');
    expect(() => systemsPath({})).toThrow(PowerError);
  });

  it('picks the first system (MAAS) or the one node_id names', () => {
    const list = members({ Members: [{ '@odata.id': '/redfish/v1/Systems/System.Embedded.1/' }, { '@odata.id': '/redfish/v1/Systems/2' }] });
    expect(pickSystem(list, '')).toBe('/redfish/v1/Systems/System.Embedded.1/');
    expect(pickSystem(list, '2')).toBe('/redfish/v1/Systems/2');
    expect(pickSystem(list, 'System.Embedded.1')).toBe('/redfish/v1/Systems/System.Embedded.1/');
    expect(() => pickSystem(list, '3')).toThrow(/node_id "3" is not among this BMC's systems \(System.Embedded.1, 2\)/);
    expect(() => pickSystem([], '')).toThrow(/empty/);
  });

  it('maps PowerState, transitions counting as the state they leave', () => {
    expect(['On', 'Off', 'PoweringOn', 'PoweringOff', 'Paused', undefined].map((p) => powerStateOf({ PowerState: p }))).toEqual(['on', 'off', 'off', 'on', 'on', 'unknown']);
  });

  it('chooses a ResetType the system allows', () => {
    expect(chooseResetType('on', undefined)).toBe('On');
    expect(chooseResetType('on', ['ForceOn', 'ForceOff'])).toBe('ForceOn');
    expect(chooseResetType('restart', ['On', 'ForceOff', 'ForceRestart', 'GracefulRestart'])).toBe('ForceRestart');
    expect(chooseResetType('off-soft', ['GracefulShutdown'])).toBe('GracefulShutdown');
    expect(() => chooseResetType('off-soft', ['On', 'ForceOff'])).toThrow(expect.objectContaining({ code: 'UNSUPPORTED', bmcSays: 'allowed: On, ForceOff' }));
  });

  it('reads the reset action, inline or from ActionInfo', () => {
    const sys = { Actions: { '#ComputerSystem.Reset': { target: '/x/Reset', 'ResetType@Redfish.AllowableValues': ['On'] } } };
    expect(resetActionOf(sys, '/redfish/v1/Systems/1')).toEqual({ target: '/x/Reset', allowed: ['On'], actionInfo: undefined });
    expect(resetActionOf({}, '/redfish/v1/Systems/1/')).toEqual({ target: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', allowed: undefined, actionInfo: undefined });
    expect(allowedFromActionInfo({ Parameters: [{ Name: 'ResetType', AllowableValues: ['On', 'ForceOff'] }] })).toEqual(['On', 'ForceOff']);
  });

  it('reads the boot override', () => {
    expect(bootDeviceOf({ Boot: { BootSourceOverrideEnabled: 'Once', BootSourceOverrideTarget: 'Pxe' } })).toBe('pxe');
    expect(bootDeviceOf({ Boot: { BootSourceOverrideEnabled: 'Continuous', BootSourceOverrideTarget: 'Hdd' } })).toBe('disk');
    expect(bootDeviceOf({ Boot: { BootSourceOverrideEnabled: 'Disabled', BootSourceOverrideTarget: 'Pxe' } })).toBe('none');
    expect(bootDeviceOf({ Boot: { BootSourceOverrideEnabled: 'Once', BootSourceOverrideTarget: 'Cd' } })).toBe('other');
  });

  it('quotes a Redfish error object by its MessageIds and Messages, and classifies the status', () => {
    const body = JSON.stringify({ error: { code: 'Base.1.8.GeneralError', message: 'A general error has occurred.', '@Message.ExtendedInfo': [{ MessageId: 'IDRAC.2.1.RAC0508', Message: 'Server is already powered ON.' }] } });
    expect(redfishErrorWords(body)).toBe('Base.1.8.GeneralError: A general error has occurred. | IDRAC.2.1.RAC0508: Server is already powered ON.');
    expect(redfishErrorWords(JSON.stringify({ error: { code: 'Base.v1_4_0.GeneralError', message: 'Failed.' } }))).toBe('Base.v1_4_0.GeneralError: Failed.');
    expect(httpError(401, '', 'GET /redfish/v1/Systems')).toMatchObject({ code: 'BMC_AUTH', fatal: true, bmcSays: 'HTTP 401' });
    expect(httpError(409, body, 'POST reset')).toMatchObject({ code: 'BMC_BUSY', fatal: false, bmcSays: expect.stringMatching(/^HTTP 409: Base\.1\.8\.GeneralError: A general error/) });
    expect(httpError(503, '', 'x').code).toBe('BMC_BUSY');
    expect(httpError(500, '', 'x').code).toBe('BMC_ERROR');
    expect(httpError(405, '', 'x').code).toBe('UNSUPPORTED');
  });

  it('never quotes a body that is not a Redfish error object', () => {
    const marker = 'kiln-marker-7f3a9c';
    for (const body of [
      `<html><body>Bad Gateway ${marker}</body></html>`,
      marker,
      JSON.stringify({ error: marker }),
      JSON.stringify({ error: { code: 500, message: marker } }),
      JSON.stringify({ error: { code: 'invalid_token', message: marker } }),
      JSON.stringify({ error: { code: `${marker}.1.0.x y`, message: marker } }),
      JSON.stringify({ error: { '@Message.ExtendedInfo': [{ MessageId: marker, Message: marker }, { Message: marker }] } }),
      JSON.stringify([{ error: { code: 'Base.1.8.GeneralError', message: marker } }]),
    ]) {
      expect(redfishErrorWords(body)).toBeUndefined();
      expect(httpError(502, body, 'GET /redfish/v1/').bmcSays).toBe('HTTP 502, not a Redfish answer');
    }
  });

  it('keeps only printable characters of a Redfish message, at most 200 of them', () => {
    expect(printable('a\u0000b\u0007 c\r\n\td\u202ee\u200bf\u00a0g')).toBe('a b c d e f g');
    expect(printable('Grüße 日本語 ✓')).toBe('Grüße 日本語 ✓');
    const long = printable('y'.repeat(5000));
    expect([...long]).toHaveLength(200);
    expect(long.endsWith('…')).toBe(true);
    const words = redfishErrorWords(
      JSON.stringify({
        error: {
          code: 'Base.1.8.GeneralError',
          message: 'z'.repeat(5000),
          '@Message.ExtendedInfo': Array.from({ length: 50 }, (_, i) => ({ MessageId: `Base.1.8.M${i}`, Message: 'w'.repeat(5000) })),
        },
      }),
    );
    expect(words!.length).toBeLessThan(5 * 320);
    expect(words!.split(' | ')).toHaveLength(5);
  });

  it('makes what it lists from a BMC’s resources printable too', () => {
    expect(() => pickSystem(['/redfish/v1/Systems/a%0Ab\u001b[2J', '/redfish/v1/Systems/%E0%A4%A'], 'x')).toThrow(/not among this BMC's systems \(a b \[2J, %E0%A4%A\)/);
    let refused: unknown;
    try {
      chooseResetType('on', ['Nmi\u0007\nForceOff']);
    } catch (e) {
      refused = e;
    }
    expect(refused).toBeInstanceOf(PowerError);
    expect(refused).toMatchObject({ code: 'UNSUPPORTED', bmcSays: 'allowed: Nmi ForceOff' });
  });

  it('reads the address as MAAS does (https:// added when missing)', () => {
    expect(parseRedfishSettings({ power_address: '10.0.0.9', power_user: 'u', power_pass: 'p' })).toEqual({ baseUrl: 'https://10.0.0.9', user: 'u', password: 'p', nodeId: '' });
    expect(parseRedfishSettings({ power_address: 'http://bmc:8000/redfish/v1/', power_user: 'u', power_pass: 'p', node_id: ' 1 ' })).toMatchObject({ baseUrl: 'http://bmc:8000', nodeId: '1' });
    expect(() => parseRedfishSettings({ power_address: 'x' })).toThrow(/Redfish user \(power_user\) is required/);
  });
});
