import { PowerError } from '../../power.errors';
import {
  chassisConfigBootDevice,
  chassisConfigCheck,
  ipmipowerResult,
  ipmipowerState,
  ipmipowerStates,
  ipmitoolBootDevice,
  ipmitoolCheck,
  ipmitoolState,
} from './ipmi.output';

// Outputs captured from freeipmi 1.6.10 and ipmitool 1.8.19 against OpenIPMI ipmi_sim 2.0.33.
const out = (stdout: string, stderr = '', code: number | null = 0, timedOut = false) => ({ stdout, stderr, code, timedOut });

function err(fn: () => unknown): PowerError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PowerError) return e;
    throw e;
  }
  throw new Error('expected a PowerError');
}

describe('ipmipower output', () => {
  it('reads states and acknowledgements', () => {
    expect(ipmipowerState(out('127.91.0.10: on\n'))).toBe('on');
    expect(ipmipowerState(out('10.0.0.5: off\n'))).toBe('off');
    expect(ipmipowerResult(out('10.0.0.5: ok\n'))).toBe('ok');
  });

  it.each([
    ['127.91.0.10: password invalid\n', '', 'BMC_AUTH', true],
    ['127.91.0.10: username invalid\n', '', 'BMC_AUTH', true],
    ['127.91.0.10: k_g invalid\n', '', 'BMC_AUTH', true],
    ['127.91.0.10: password verification timeout\n', '', 'BMC_AUTH', true],
    ['127.91.0.10: privilege level cannot be obtained for this user\n', '', 'BMC_AUTH', true],
    ['', "'on' requires atleast operator privilege\n", 'BAD_SETTINGS', true],
    ['10.0.0.5: cipher suite id unavailable\n', '', 'BAD_SETTINGS', true],
    ['10.0.0.5: ipmi 2.0 unavailable\n', '', 'BAD_SETTINGS', true],
    ['no-such-bmc.invalid: invalid hostname\n', '', 'BAD_SETTINGS', true],
    ['127.91.0.10: connection timeout\n', '', 'BMC_TIMEOUT', false],
    ['127.91.0.12: session timeout\n', '', 'BMC_TIMEOUT', false],
    ['10.0.0.5: BMC busy\n', '', 'BMC_BUSY', false],
    ['10.0.0.5: internal IPMI error\n', '', 'BMC_ERROR', false],
  ])('classifies %j %j as %s', (stdout, stderr, code, fatal) => {
    const e = err(() => ipmipowerResult(out(stdout, stderr, 1)));
    expect(e).toMatchObject({ code, fatal });
    expect(e.bmcSays).toBe((stdout || stderr).trim());
  });

  it('treats "BMC error" as a failure even with exit code 0 (cipher suite 17 on freeipmi 1.6)', () => {
    expect(err(() => ipmipowerState(out('127.91.0.10: BMC error\n', '', 0)))).toMatchObject({ code: 'BMC_ERROR', bmcSays: '127.91.0.10: BMC error' });
  });

  it('reports a tool killed at its deadline as a timeout', () => {
    expect(err(() => ipmipowerState(out('', '', null, true)))).toMatchObject({ code: 'BMC_TIMEOUT' });
  });
});

describe('many-host ipmipower --stat output', () => {
  // freeipmi 1.6.10: hosts in its own order, without their ports, exit 1 when any host failed.
  const stdout = [
    '127.111.149.45: off',
    '127.127.163.57: on',
    '127.199.234.163: password invalid',
    'bmc-7.rack1: username invalid',
    '127.9.9.9: connection timeout',
    '10.0.0.8: privilege level insufficient',
    '10.0.0.9: BMC busy',
    '10.0.0.10: ok',
    '',
  ].join('\n');

  it('answers each host from its own line, with the one-host rules and words', () => {
    const names = ['127.127.163.57', '127.111.149.45', '127.199.234.163', 'BMC-7.rack1', '127.9.9.9', '10.0.0.8', '10.0.0.9', '10.0.0.10'];
    const a = ipmipowerStates(out(stdout, '', 1), names);
    expect(a.slice(0, 2)).toEqual([
      { kind: 'state', state: 'on' },
      { kind: 'state', state: 'off' },
    ]);
    const failures = a.slice(2).map((x) => (x.kind === 'failed' ? [x.error.code, x.error.fatal, x.error.bmcSays] : x));
    expect(failures).toEqual([
      ['BMC_AUTH', true, '127.199.234.163: password invalid'],
      ['BMC_AUTH', true, 'bmc-7.rack1: username invalid'],
      ['BMC_TIMEOUT', false, '127.9.9.9: connection timeout'],
      ['BMC_AUTH', true, '10.0.0.8: privilege level insufficient'],
      ['BMC_BUSY', false, '10.0.0.9: BMC busy'],
      ['BMC_ERROR', false, '10.0.0.10: ok'],
    ]);
    // The same words as when the host is asked alone.
    const alone = err(() => ipmipowerState(out('127.199.234.163: password invalid\n', '', 1)));
    expect(a[2]).toEqual({ kind: 'failed', error: expect.objectContaining({ code: alone.code, message: alone.message, bmcSays: alone.bmcSays }) });
  });

  it('leaves unasked the hosts a run never got to (one unresolvable name stops it)', () => {
    const a = ipmipowerStates(out('no-such-host.invalid: invalid hostname\n', '', 1), ['10.0.0.5', 'no-such-host.invalid']);
    expect(a[0]).toEqual({ kind: 'unasked', why: 'ipmipower printed no answer for 10.0.0.5' });
    expect(a[1]).toMatchObject({ kind: 'failed', error: { bmcSays: 'no-such-host.invalid: invalid hostname' } });
  });

  it('fails every host alike when the run failed before any host', () => {
    const a = ipmipowerStates(out('', 'Config File Error: configuration file does not exist', 1), ['10.0.0.5', '10.0.0.6']);
    expect(a).toEqual([
      { kind: 'failed', error: expect.objectContaining({ code: 'BAD_SETTINGS', fatal: true, bmcSays: 'Config File Error: configuration file does not exist' }) },
      { kind: 'failed', error: expect.objectContaining({ code: 'BAD_SETTINGS' }) },
    ]);
  });

  it('keeps what a run killed at its deadline printed, and times out the rest', () => {
    const a = ipmipowerStates(out('10.0.0.5: on\n', '', null, true), ['10.0.0.5', '10.0.0.6']);
    expect(a[0]).toEqual({ kind: 'state', state: 'on' });
    expect(a[1]).toMatchObject({ kind: 'failed', error: { code: 'BMC_TIMEOUT', fatal: false, message: 'ipmipower did not finish in time' } });
  });
});

describe('ipmi-chassis-config output', () => {
  const checkout = ['#', '# Section Chassis_Boot_Flags Comments', 'Section Chassis_Boot_Flags', '\tBoot_Flags_Persistent                         No', '\tBIOS_Boot_Type                                PC-COMPATIBLE', '\tBoot_Device                                   PXE', 'EndSection', ''].join('\n');

  it('reads the boot device', () => {
    expect(chassisConfigBootDevice(out(checkout))).toBe('pxe');
    expect(chassisConfigBootDevice(out(checkout.replace('PXE', 'HARD-DRIVE')))).toBe('disk');
    expect(chassisConfigBootDevice(out(checkout.replace('PXE', 'NO-OVERRIDE')))).toBe('none');
    expect(chassisConfigBootDevice(out(checkout.replace('PXE', 'CD-DVD')))).toBe('other');
  });

  it('classifies its errors', () => {
    expect(err(() => chassisConfigCheck(out('', '/usr/sbin/ipmi-config: password invalid\n', 1)))).toMatchObject({ code: 'BMC_AUTH', bmcSays: '/usr/sbin/ipmi-config: password invalid' });
    expect(err(() => chassisConfigCheck(out('', '/usr/sbin/ipmi-config: connection timeout\n', 1)))).toMatchObject({ code: 'BMC_TIMEOUT' });
    expect(err(() => chassisConfigCheck(out('', "ERROR: Failed to commit `Chassis_Boot_Flags:Boot_Device'\n", 1)))).toMatchObject({ code: 'BMC_ERROR' });
    expect(() => chassisConfigCheck(out(''))).not.toThrow();
  });
});

describe('ipmitool output', () => {
  it('reads states and boot devices', () => {
    expect(ipmitoolState(out('Chassis Power is on\n', 'Running Get VSO Capabilities my_addr 0x20, transit 0, target 0x20\n'))).toBe('on');
    expect(ipmitoolState(out('Chassis Power is off\n'))).toBe('off');
    const bp = (sel: string) => out(`Boot parameter version: 1\nBoot parameter 5 is valid/unlocked\nBoot parameter data: 0004000000\n Boot Flags :\n   - Boot Device Selector : ${sel}\n`);
    expect(ipmitoolBootDevice(bp('Force PXE'))).toBe('pxe');
    expect(ipmitoolBootDevice(bp('Force Boot from default Hard-Drive'))).toBe('disk');
    expect(ipmitoolBootDevice(bp('No override'))).toBe('none');
    expect(ipmitoolBootDevice(bp('Force Boot from CD/DVD'))).toBe('other');
  });

  it.each([
    ['Loading IANA PEN Registry...\n> RAKP 2 HMAC is invalid\nError: Unable to establish IPMI v2 / RMCP+ session\n', 'BMC_AUTH'],
    ['RAKP 2 message indicates an error : unauthorized name\nError: Unable to establish IPMI v2 / RMCP+ session\n', 'BMC_AUTH'],
    ['> RAKP 4 message has invalid integrity check value\nError: Unable to establish IPMI v2 / RMCP+ session\n', 'BMC_AUTH'],
    ['Activate Session command failed\nError: Unable to establish LAN session\nError: Unable to establish IPMI v1.5 / RMCP session\n', 'BMC_AUTH'],
    ['Set Chassis Power Control to Up/On failed: Insufficient privilege level\n', 'BMC_AUTH'],
    ['Error in open session response message : invalid authentication algorithm\n\nError: Unable to establish IPMI v2 / RMCP+ session\n', 'BAD_SETTINGS'],
    ['Error in open session response message : insufficient resources for session\n', 'BMC_BUSY'],
    ['Error: Unable to establish IPMI v2 / RMCP+ session\n', 'BMC_TIMEOUT'],
    ['something new\n', 'BMC_ERROR'],
  ])('classifies %j as %s, keeping the words without noise', (stderr, code) => {
    const e = err(() => ipmitoolCheck(out('', stderr, 1)));
    expect(e.code).toBe(code);
    expect(e.bmcSays).not.toMatch(/IANA/);
    expect(e.bmcSays.length).toBeGreaterThan(0);
  });
});
