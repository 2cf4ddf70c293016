import { chassisBootConfig, freeipmiConfSafe, freeipmiFiles, freeipmiInvocation, ipmitoolFiles, ipmitoolInvocation, pickTool } from './ipmi.commands';
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
    try {
      parseIpmiSettings({});
    } catch (e) {
      expect(e).toMatchObject({ code: 'BAD_SETTINGS', fatal: true });
    }
  });
});

describe('freeipmi invocations', () => {
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
