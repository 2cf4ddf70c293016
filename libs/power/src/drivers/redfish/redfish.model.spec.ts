import { PowerError } from '../../power.errors';
import {
  allowedFromActionInfo,
  bootDeviceOf,
  chooseResetType,
  errorWords,
  httpError,
  members,
  pickSystem,
  powerStateOf,
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

  it('quotes the BMC’s error body and classifies the status', () => {
    const body = JSON.stringify({ error: { code: 'Base.1.8.GeneralError', message: 'A general error has occurred.', '@Message.ExtendedInfo': [{ MessageId: 'IDRAC.2.1.RAC0508', Message: 'Server is already powered ON.' }] } });
    expect(errorWords(body)).toBe('A general error has occurred. | IDRAC.2.1.RAC0508: Server is already powered ON.');
    expect(errorWords('<html><body>Bad Gateway</body></html>')).toBe('Bad Gateway');
    expect(httpError(401, '', 'GET /redfish/v1/Systems')).toMatchObject({ code: 'BMC_AUTH', fatal: true, bmcSays: 'HTTP 401' });
    expect(httpError(409, body, 'POST reset')).toMatchObject({ code: 'BMC_BUSY', fatal: false, bmcSays: expect.stringMatching(/^HTTP 409: A general error/) });
    expect(httpError(503, '', 'x').code).toBe('BMC_BUSY');
    expect(httpError(500, '', 'x').code).toBe('BMC_ERROR');
    expect(httpError(405, '', 'x').code).toBe('UNSUPPORTED');
  });

  it('reads the address as MAAS does (https:// added when missing)', () => {
    expect(parseRedfishSettings({ power_address: '10.0.0.9', power_user: 'u', power_pass: 'p' })).toEqual({ baseUrl: 'https://10.0.0.9', user: 'u', password: 'p', nodeId: '' });
    expect(parseRedfishSettings({ power_address: 'http://bmc:8000/redfish/v1/', power_user: 'u', power_pass: 'p', node_id: ' 1 ' })).toMatchObject({ baseUrl: 'http://bmc:8000', nodeId: '1' });
    expect(() => parseRedfishSettings({ power_address: 'x' })).toThrow(/Redfish user \(power_user\) is required/);
  });
});
