import {
  chassisBootConfig,
  freeipmiConfSafe,
  freeipmiFiles,
  freeipmiInvocation,
  freeipmiHost,
  freeipmiQueryGroup,
  freeipmiStatMany,
  ipmitoolFiles,
  ipmitoolInvocation,
  pickTool,
} from './ipmi.commands';
import { parseIpmiSettings } from './ipmi.settings';

const base = { power_address: '10.0.0.5', power_user: 'maas', power_pass: 's3cr#t', privilege_level: 'OPERATOR' };
const paths = { 'freeipmi.conf': '/tmp/x/freeipmi.conf', 'boot.conf': '/tmp/x/boot.conf', password: '/tmp/x/password' };

describe('ipmi settings', () => {
  it('fills MAAS defaults and reads host:port', () => {
    expect(parseIpmiSettings({ power_address: '10.0.0.5:6230' })).toEqual({
      host: '10.0.0.5',
      port: 6230,
      user: '',
      password: '',
      kg: '',
      protocol: 'LAN_2_0',
      cipherSuite: '3',
      privilege: 'OPERATOR',
      workarounds: ['opensesspriv'],
      bootType: 'auto',
      offMode: 'hard',
    });
    expect(parseIpmiSettings({ power_address: 'bmc', power_driver: '', workaround_flags: '' })).toMatchObject({ protocol: 'LAN_2_0', workarounds: [] });
  });

  it('refuses what it cannot use, naming every problem (fatal)', () => {
    expect(() => parseIpmiSettings({})).toThrow(/IP address \(power_address\) is required/);
    expect(() => parseIpmiSettings({ power_address: 'h', power_driver: 'SERIAL' })).toThrow(/power_driver: "SERIAL" is not one of/);
    expect(() => parseIpmiSettings({ power_address: 'h', power_pass: 'a\nb' })).toThrow(/line breaks/);
    // ipmipower would read these as several hosts.
    for (const a of ['10.0.0.5,10.0.0.6', 'node[1-4]', 'bmc 2']) {
      expect(() => parseIpmiSettings({ power_address: a })).toThrow(/is not a host or host:port/);
    }
    try {
      parseIpmiSettings({});
    } catch (e) {
      expect(e).toMatchObject({ code: 'BAD_SETTINGS', fatal: true });
    }
  });
});

describe('freeipmi invocations', () => {
  it('writes a non-default port after the host, bracketing IPv6 addresses', () => {
    expect(freeipmiHost(parseIpmiSettings({ power_address: '10.0.0.5:6230' }))).toBe('10.0.0.5:6230');
    expect(freeipmiHost(parseIpmiSettings({ power_address: '[fe80::1]:6230' }))).toBe('[fe80::1]:6230');
    expect(freeipmiHost(parseIpmiSettings({ power_address: '[fe80::1]' }))).toBe('fe80::1');
    expect(freeipmiHost(parseIpmiSettings({ power_address: 'bmc.example:623' }))).toBe('bmc.example');
  });

  it('put credentials in the config file, never on the command line (as MAAS does with -p)', () => {
    const s = parseIpmiSettings({ ...base, k_g: 'kg#key' });
    const files = freeipmiFiles(s, { op: 'stat' });
    expect(files['freeipmi.conf']).toBe('username maas\npassword s3cr\\#t\nk_g kg\\#key\n');
    const inv = freeipmiInvocation(s, { op: 'stat' }, paths, 20_000);
    expect(inv).toEqual({
      command: 'ipmipower',
      args: [
        '--config-file', paths['freeipmi.conf'], '--driver-type', 'LAN_2_0', '-h', '10.0.0.5', '-l', 'OPERATOR', '-I', '3',
        '-W', 'opensesspriv', '--session-timeout', '19000', '--retransmission-timeout', '1000', '--stat',
      ],
      env: {},
    });
    expect(inv.args.join(' ')).not.toMatch(/s3cr|kg#key/);
  });

  it('maps every action to ipmipower or ipmi-chassis-config', () => {
    const s = parseIpmiSettings({ ...base, power_driver: 'LAN', power_address: 'bmc:7000' });
    const tail = (op: Parameters<typeof freeipmiInvocation>[1]) => {
      const inv = freeipmiInvocation(s, op, paths, 5000);
      return [inv.command, ...inv.args.slice(inv.args.indexOf('--retransmission-timeout') + 2)];
    };
    expect(tail({ op: 'on' })).toEqual(['ipmipower', '--on']);
    expect(tail({ op: 'off' })).toEqual(['ipmipower', '--off']);
    expect(tail({ op: 'soft' })).toEqual(['ipmipower', '--soft']);
    expect(tail({ op: 'cycle' })).toEqual(['ipmipower', '--cycle', '--on-if-off']);
    expect(tail({ op: 'set-boot', device: 'pxe' })).toEqual(['ipmi-chassis-config', '--commit', '--filename', paths['boot.conf']]);
    expect(tail({ op: 'get-boot' })).toEqual(['ipmi-chassis-config', '--checkout', '--section', 'Chassis_Boot_Flags']);
    const args = freeipmiInvocation(s, { op: 'stat' }, paths, 5000).args;
    expect(args).toEqual(expect.arrayContaining(['--driver-type', 'LAN', '-h', 'bmc:7000']));
    expect(args).not.toContain('-I'); // cipher suites are IPMI 2.0
  });

  it('writes the boot flags section MAAS writes, with the BIOS boot type when set', () => {
    expect(chassisBootConfig(parseIpmiSettings(base), 'pxe')).toBe(
      'Section Chassis_Boot_Flags\n        Boot_Flags_Persistent                         No\n        Boot_Device                                   PXE\nEndSection\n',
    );
    expect(chassisBootConfig(parseIpmiSettings({ ...base, power_boot_type: 'efi' }), 'disk')).toMatch(/BIOS_Boot_Type\s+EFI\n\s+Boot_Device\s+HARD-DRIVE/);
  });
});

describe('batched ipmipower --stat', () => {
  const group = (params: Record<string, string>) => freeipmiQueryGroup(parseIpmiSettings({ ...base, ...params }), 'freeipmi');

  it('groups BMCs whose settings differ only in host and port', () => {
    const a = group({ power_address: '10.0.0.5' });
    expect(a).toEqual({ key: expect.stringMatching(/^[0-9a-f]{32}$/), name: '10.0.0.5' });
    expect(group({ power_address: 'bmc-7.rack1:6230' })).toEqual({ key: a?.key, name: 'bmc-7.rack1' });
    // What only changes and boot devices use does not split a group.
    expect(group({ power_address: '10.0.0.6', power_boot_type: 'efi', power_off_mode: 'soft', mac_address: '52:54:00:00:00:01' })?.key).toBe(a?.key);
  });

  it.each<[string, Record<string, string>]>([
    ['user', { power_user: 'other' }],
    ['password', { power_pass: 'other' }],
    ['K_g', { k_g: 'key' }],
    ['driver type', { power_driver: 'LAN' }],
    ['cipher suite', { cipher_suite_id: '8' }],
    ['privilege', { privilege_level: 'ADMIN' }],
    ['workarounds', { workaround_flags: 'opensesspriv,intel20' }],
  ])('puts BMCs with another %s in another group', (_what, params) => {
    expect(group({ power_address: '10.0.0.6', ...params })?.key).not.toBe(group({})?.key);
  });

  it('keeps no secret in the key', () => {
    const key = group({ power_pass: 'hunter22', k_g: 'kgkey' })?.key ?? '';
    expect(key).not.toMatch(/hunter22|kgkey|maas/);
  });

  it('asks alone what a -h list cannot hold, and what ipmitool drives', () => {
    expect(group({ power_address: 'fe80::1' })).toBeNull();
    expect(group({ power_address: '[fe80::1]:623' })).toBeNull();
    expect(group({ cipher_suite_id: '17' })).toBeNull();
    expect(freeipmiQueryGroup(parseIpmiSettings(base), 'ipmitool')).toBeNull();
  });

  it('lists every host, with its port off 623, in one ipmipower run, credentials in the config file', () => {
    const ss = ['10.0.0.5', '10.0.0.6:6230', 'bmc-7:623'].map((a) => parseIpmiSettings({ ...base, power_address: a }));
    const inv = freeipmiStatMany(ss, paths, 20_000);
    expect(inv).toEqual({
      command: 'ipmipower',
      args: [
        '--config-file', paths['freeipmi.conf'], '--driver-type', 'LAN_2_0', '-h', '10.0.0.5,10.0.0.6:6230,bmc-7', '-l', 'OPERATOR', '-I', '3',
        '-W', 'opensesspriv', '--session-timeout', '19000', '--retransmission-timeout', '1000', '--stat',
      ],
      env: {},
    });
    expect(inv.args.join(' ')).not.toMatch(/s3cr/);
    expect(() => freeipmiStatMany([], paths, 20_000)).toThrow(/at least one/);
  });
});

describe('ipmitool invocations', () => {
  it('read the password from a file and K_g from the environment', () => {
    const s = parseIpmiSettings({ ...base, k_g: 'kgkey', privilege_level: 'ADMIN', cipher_suite_id: '' });
    expect(ipmitoolFiles(s)).toEqual({ password: 's3cr#t\n' });
    const inv = ipmitoolInvocation(s, { op: 'stat' }, paths, 20_000);
    expect(inv.command).toBe('ipmitool');
    expect(inv.args).toEqual([
      '-v', '-I', 'lanplus', '-H', '10.0.0.5', '-U', 'maas', '-f', paths.password, '-L', 'ADMINISTRATOR', '-C', '3', '-K', '-N', '1', '-R', '3',
      'chassis', 'power', 'status',
    ]);
    expect(inv.env).toEqual({ IPMI_KGKEY: 'kgkey' });
    expect(inv.args.join(' ')).not.toMatch(/s3cr|kgkey/);
  });

  it('speak IPMI 1.5 without a cipher suite, and set boot devices', () => {
    const s = parseIpmiSettings({ ...base, power_driver: 'LAN', power_address: 'bmc:7000', power_boot_type: 'efi' });
    const inv = ipmitoolInvocation(s, { op: 'set-boot', device: 'pxe' }, paths, 3000);
    expect(inv.args.slice(0, 6)).toEqual(['-v', '-I', 'lan', '-H', 'bmc', '-p']);
    expect(inv.args).not.toContain('-C');
    expect(inv.args.slice(-4)).toEqual(['chassis', 'bootdev', 'pxe', 'options=efiboot']);
    expect(ipmitoolInvocation(s, { op: 'get-boot' }, paths, 3000).args.slice(-4)).toEqual(['chassis', 'bootparam', 'get', '5']);
  });
});

describe('tool choice', () => {
  it('prefers freeipmi, but needs ipmitool for suite 17 and for credentials freeipmi.conf cannot hold', () => {
    expect(pickTool(parseIpmiSettings(base), 'freeipmi')).toBe('freeipmi');
    expect(pickTool(parseIpmiSettings(base), 'ipmitool')).toBe('ipmitool');
    expect(pickTool(parseIpmiSettings({ ...base, cipher_suite_id: '17' }), 'freeipmi')).toBe('ipmitool');
    expect(pickTool(parseIpmiSettings({ ...base, power_pass: 'two words' }), 'freeipmi')).toBe('ipmitool');
    expect(pickTool(parseIpmiSettings({ ...base, power_pass: 'back\\slash' }), 'freeipmi')).toBe('ipmitool');
    expect(freeipmiConfSafe('p#ss!')).toBe(true);
    expect(freeipmiConfSafe('"quoted"')).toBe(false);
  });
});
