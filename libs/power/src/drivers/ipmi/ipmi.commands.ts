import { createHmac, randomBytes } from 'node:crypto';
import { BootDevice, QueryGroup } from '../../power.types';
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

/** The host as freeipmi's -h takes it: `host`, or `host:port` off the standard port. */
export function freeipmiHost(s: IpmiSettings): string {
  if (!s.port || s.port === 623) return s.host;
  return s.host.includes(':') ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`;
}

function freeipmiCommon(s: IpmiSettings, conf: string, timeoutMs: number, hosts = freeipmiHost(s)): string[] {
  const args = ['--config-file', conf, '--driver-type', s.protocol, '-h', hosts, '-l', s.privilege];
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

// ---------- freeipmi: many BMCs in one ipmipower ----------

/**
 * Hosts a -h list holds as they are: names and IPv4 addresses. Left out, and asked alone:
 * anything freeipmi would read as a range (`node[1-4]`) or a list (`,`), and IPv6 addresses.
 */
const LISTABLE_HOST = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

/**
 * Keys the digest of query groups: a key that reached a log by mistake can be neither tested
 * against guessed passwords nor compared with another process's keys.
 */
const GROUP_KEY_SECRET = randomBytes(32);

/**
 * Where a BMC fits in a batched `ipmipower --stat` (see `freeipmiStatMany`), or null when it is
 * asked alone: BMCs driven with ipmitool (`pickTool`), hosts a -h list cannot hold.
 *
 * The key is a keyed digest of everything ipmipower is given besides the host: the config file
 * (user, password, K_g) and the options (driver type, privilege, cipher suite, workarounds), so
 * that BMCs with equal keys can share one invocation and no secret shows in the key (keys are
 * stable within one process only). The name is the host as ipmipower prints it: without the port.
 */
export function freeipmiQueryGroup(s: IpmiSettings, preferred: IpmiTool): QueryGroup | null {
  if (pickTool(s, preferred) !== 'freeipmi' || !LISTABLE_HOST.test(s.host)) return null;
  const conf = freeipmiFiles(s, { op: 'stat' })['freeipmi.conf'];
  const options = freeipmiCommon(s, '', 0, '');
  const key = createHmac('sha256', GROUP_KEY_SECRET).update(conf).update('\0').update(options.join('\0')).digest('hex').slice(0, 32);
  return { key, name: s.host };
}

/**
 * One `ipmipower -h a,b:6230,c --stat` for BMCs of one query group (their settings differ only
 * in host and port), with the credentials of `freeipmiFiles(settings[0], { op: 'stat' })`.
 */
export function freeipmiStatMany(settings: readonly IpmiSettings[], paths: Record<string, string>, timeoutMs: number): Invocation {
  if (settings.length === 0) throw new Error('freeipmiStatMany needs at least one BMC');
  const hosts = settings.map(freeipmiHost).join(',');
  return { command: 'ipmipower', args: [...freeipmiCommon(settings[0], paths['freeipmi.conf'], timeoutMs, hosts), '--stat'], env: {} };
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
