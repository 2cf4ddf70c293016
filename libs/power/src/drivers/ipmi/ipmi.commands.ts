import { BootDevice } from '../../power.types';
import { IpmiSettings } from './ipmi.settings';

/**
 * Pure construction of the IPMI tool invocations. Two tool families, as MAAS allows:
 *
 * - freeipmi (MAAS's choice): `ipmipower` for power, `ipmi-chassis-config` for the boot device.
 *   Credentials go in a `--config-file` (freeipmi.conf(5) format), never on the command line.
 * - ipmitool: password in a file (`-f`), K_g in the environment (`-K` reads IPMI_KGKEY).
 *
 * freeipmi 1.6 has no cipher suite 17, and its config file cannot hold whitespace, quotes or
 * backslashes; such BMCs are driven with ipmitool (`pickTool`).
 */
export type IpmiTool = 'freeipmi' | 'ipmitool';

export type IpmiOp =
  | { op: 'stat' }
  | { op: 'on' }
  | { op: 'off' }
  | { op: 'soft' }
  | { op: 'cycle' }
  | { op: 'set-boot'; device: BootDevice }
  | { op: 'get-boot' };

export interface Invocation {
  command: string;
  args: string[];
  /** Extra environment (secrets that a tool only reads from there). */
  env: Record<string, string>;
}

/** Names of the files an invocation needs, with their contents (written 0600, deleted after). */
export type SecretFiles = Record<string, string>;

/** A value freeipmi.conf can hold: no whitespace, quotes or backslashes ('#' is escaped). */
export function freeipmiConfSafe(v: string): boolean {
  return !/[\s"'\\]/.test(v);
}

export function pickTool(s: IpmiSettings, preferred: IpmiTool): IpmiTool {
  if (preferred === 'ipmitool') return 'ipmitool';
  if (s.protocol === 'LAN_2_0' && s.cipherSuite === '17') return 'ipmitool';
  if (![s.user, s.password, s.kg].every(freeipmiConfSafe)) return 'ipmitool';
  return 'freeipmi';
}

// ---------- freeipmi ----------

const escapeConf = (v: string) => v.replace(/#/g, '\\#');

export function freeipmiFiles(s: IpmiSettings, op: IpmiOp): SecretFiles {
  const conf = [
    s.user ? `username ${escapeConf(s.user)}` : '',
    s.password ? `password ${escapeConf(s.password)}` : '',
    s.kg ? `k_g ${escapeConf(s.kg)}` : '',
  ]
    .filter(Boolean)
    .join('\n');
  const files: SecretFiles = { 'freeipmi.conf': `${conf}\n` };
  if (op.op === 'set-boot') files['boot.conf'] = chassisBootConfig(s, op.device);
  return files;
}

/** The Chassis_Boot_Flags section ipmi-chassis-config commits (as MAAS's IPMI_CONFIG, plus disk). */
export function chassisBootConfig(s: IpmiSettings, device: BootDevice): string {
  const lines = ['Section Chassis_Boot_Flags', '        Boot_Flags_Persistent                         No'];
  if (s.bootType === 'efi') lines.push('        BIOS_Boot_Type                                EFI');
  if (s.bootType === 'legacy') lines.push('        BIOS_Boot_Type                                PC-COMPATIBLE');
  lines.push(`        Boot_Device                                   ${device === 'pxe' ? 'PXE' : 'HARD-DRIVE'}`);
  lines.push('EndSection', '');
  return lines.join('\n');
}

function freeipmiCommon(s: IpmiSettings, conf: string, timeoutMs: number): string[] {
  const host = s.port && s.port !== 623 ? `${s.host}:${s.port}` : s.host;
  const args = ['--config-file', conf, '--driver-type', s.protocol, '-h', host, '-l', s.privilege];
  if (s.protocol === 'LAN_2_0' && s.cipherSuite) args.push('-I', s.cipherSuite);
  if (s.workarounds.length) args.push('-W', s.workarounds.join(','));
  // The tool gives up a little before we would kill it, so its own words reach the operator.
  const session = Math.max(1000, timeoutMs - 1000);
  args.push('--session-timeout', String(session), '--retransmission-timeout', String(Math.min(1000, Math.floor(session / 4))));
  return args;
}

export function freeipmiInvocation(s: IpmiSettings, op: IpmiOp, paths: Record<string, string>, timeoutMs: number): Invocation {
  const common = freeipmiCommon(s, paths['freeipmi.conf'], timeoutMs);
  switch (op.op) {
    case 'stat':
      return { command: 'ipmipower', args: [...common, '--stat'], env: {} };
    case 'on':
      return { command: 'ipmipower', args: [...common, '--on'], env: {} };
    case 'off':
      return { command: 'ipmipower', args: [...common, '--off'], env: {} };
    case 'soft':
      return { command: 'ipmipower', args: [...common, '--soft'], env: {} };
    case 'cycle':
      // MAAS's power on: a machine that is on reboots, one that is off starts.
      return { command: 'ipmipower', args: [...common, '--cycle', '--on-if-off'], env: {} };
    case 'set-boot':
      return { command: 'ipmi-chassis-config', args: [...common, '--commit', '--filename', paths['boot.conf']], env: {} };
    case 'get-boot':
      return { command: 'ipmi-chassis-config', args: [...common, '--checkout', '--section', 'Chassis_Boot_Flags'], env: {} };
  }
}

// ---------- ipmitool ----------

export function ipmitoolFiles(s: IpmiSettings): SecretFiles {
  return { password: `${s.password}\n` };
}

const IPMITOOL_PRIVILEGE: Record<IpmiSettings['privilege'], string> = {
  USER: 'USER',
  OPERATOR: 'OPERATOR',
  ADMIN: 'ADMINISTRATOR',
};

export function ipmitoolInvocation(s: IpmiSettings, op: IpmiOp, paths: Record<string, string>, timeoutMs: number): Invocation {
  const lanplus = s.protocol === 'LAN_2_0';
  // -v makes ipmitool say why a session failed ("RAKP 2 HMAC is invalid"); results stay on stdout.
  const args = ['-v', '-I', lanplus ? 'lanplus' : 'lan', '-H', s.host];
  if (s.port) args.push('-p', String(s.port));
  if (s.user) args.push('-U', s.user);
  args.push('-f', paths.password, '-L', IPMITOOL_PRIVILEGE[s.privilege]);
  // ipmitool 1.8.19 defaults to suite 17 after a cipher-suite discovery many BMCs do not answer.
  if (lanplus) args.push('-C', s.cipherSuite || '3');
  const env: Record<string, string> = {};
  if (s.kg) {
    args.push('-K');
    env.IPMI_KGKEY = s.kg;
  }
  // ipmitool's own retries, so that it gives up (and says why) before we kill it: against a
  // silent BMC, lanplus with -N 1 takes about 2 s with -R 1, 6 s with -R 2, 14 s with -R 3.
  args.push('-N', '1', '-R', timeoutMs >= 16_000 ? '3' : timeoutMs >= 7_000 ? '2' : '1');
  switch (op.op) {
    case 'stat':
      args.push('chassis', 'power', 'status');
      break;
    case 'on':
      args.push('chassis', 'power', 'on');
      break;
    case 'off':
      args.push('chassis', 'power', 'off');
      break;
    case 'soft':
      args.push('chassis', 'power', 'soft');
      break;
    case 'cycle':
      args.push('chassis', 'power', 'cycle');
      break;
    case 'set-boot':
      args.push('chassis', 'bootdev', op.device === 'pxe' ? 'pxe' : 'disk');
      if (s.bootType === 'efi') args.push('options=efiboot');
      break;
    case 'get-boot':
      args.push('chassis', 'bootparam', 'get', '5');
      break;
  }
  return { command: 'ipmitool', args, env };
}
