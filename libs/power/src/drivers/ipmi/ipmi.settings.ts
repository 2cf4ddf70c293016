import { PowerError } from '../../power.errors';
import { field, requireParameters, splitHostPort, splitList } from '../../power.settings';
import { PowerTypeDef } from '../../power.types';

/** MAAS's ipmi power type, field for field (src/provisioningserver/drivers/power/ipmi.py). */
export const IPMI_TYPE: PowerTypeDef = {
  name: 'ipmi',
  description: 'IPMI',
  chassis: false,
  can_probe: false,
  queryable: true,
  fields: [
    field('power_driver', 'Power driver', {
      field_type: 'choice',
      choices: [
        ['LAN', 'LAN [IPMI 1.5]'],
        ['LAN_2_0', 'LAN_2_0 [IPMI 2.0]'],
      ],
      default: 'LAN_2_0',
      required: true,
    }),
    field('power_boot_type', 'Power boot type', {
      field_type: 'choice',
      choices: [
        ['auto', 'Automatic'],
        ['legacy', 'Legacy boot'],
        ['efi', 'EFI boot'],
      ],
      default: 'auto',
    }),
    field('power_address', 'IP address', { required: true }),
    field('power_user', 'Power user'),
    field('power_pass', 'Power password', { field_type: 'password', secret: true }),
    field('k_g', 'K_g BMC key', { field_type: 'password', secret: true }),
    field('cipher_suite_id', 'Cipher Suite ID', {
      field_type: 'choice',
      choices: [
        ['17', '17 - HMAC-SHA256::HMAC_SHA256_128::AES-CBC-128'],
        ['3', '3 - HMAC-SHA1::HMAC-SHA1-96::AES-CBC-128'],
        ['', 'freeipmi-tools default'],
        ['8', '8 - HMAC-MD5::HMAC-MD5-128::AES-CBC-128'],
        ['12', '12 - HMAC-MD5::MD5-128::AES-CBC-128'],
      ],
      default: '3',
    }),
    field('privilege_level', 'Privilege Level', {
      field_type: 'choice',
      choices: [
        ['USER', 'User'],
        ['OPERATOR', 'Operator'],
        ['ADMIN', 'Administrator'],
      ],
      default: 'OPERATOR',
    }),
    field('workaround_flags', 'Workaround Flags', {
      field_type: 'multiple_choice',
      choices: [
        ['opensesspriv', 'Opensesspriv'],
        ['authcap', 'Authcap'],
        ['idzero', 'Idzero'],
        ['unexpectedauth', 'Unexpectedauth'],
        ['forcepermsg', 'Forcepermsg'],
        ['endianseq', 'Endianseq'],
        ['intel20', 'Intel20'],
        ['supermicro20', 'Supermicro20'],
        ['sun20', 'Sun20'],
        ['nochecksumcheck', 'Nochecksumcheck'],
        ['integritycheckvalue', 'Integritycheckvalue'],
        ['ipmiping', 'Ipmiping'],
        ['', 'None'],
      ],
      default: 'opensesspriv',
    }),
    field('mac_address', 'Power MAC', { scope: 'node' }),
    field('power_off_mode', 'Power off mode', {
      field_type: 'choice',
      choices: [
        ['soft', 'Soft power off'],
        ['hard', 'Power off'],
      ],
      default: 'hard',
    }),
  ],
};

export type IpmiProtocol = 'LAN' | 'LAN_2_0';
export type IpmiPrivilege = 'USER' | 'OPERATOR' | 'ADMIN';

export interface IpmiSettings {
  host: string;
  port?: number;
  user: string;
  password: string;
  kg: string;
  /** LAN: IPMI 1.5; LAN_2_0: IPMI 2.0 / RMCP+ ("lanplus"). */
  protocol: IpmiProtocol;
  /** '' means the tool's default (3 for both freeipmi and our ipmitool calls). */
  cipherSuite: string;
  privilege: IpmiPrivilege;
  workarounds: string[];
  bootType: 'auto' | 'legacy' | 'efi';
  offMode: 'hard' | 'soft';
}

export function parseIpmiSettings(params: Readonly<Record<string, string>>): IpmiSettings {
  // MAAS documents power_driver "" as "auto": older records carry it. Auto means LAN_2_0 first.
  const given = { ...params };
  if (given.power_driver === '') delete given.power_driver;
  const v = requireParameters(IPMI_TYPE, given);
  const { host, port } = splitHostPort(v.power_address);
  // ipmipower reads -h as a host list ("a,b", "node[1-4]"): one power_address must name one BMC.
  if (!host || /[\s,[\]]/.test(host) || (port !== undefined && (port < 1 || port > 65535))) {
    throw new PowerError('BAD_SETTINGS', `invalid ipmi power parameters: power_address "${v.power_address}" is not a host or host:port.`);
  }
  if (/[\r\n\0]/.test(v.power_user) || /[\r\n\0]/.test(v.power_pass) || /[\r\n\0]/.test(v.k_g)) {
    throw new PowerError('BAD_SETTINGS', 'invalid ipmi power parameters: user, password and K_g cannot contain line breaks.');
  }
  return {
    host,
    port,
    user: v.power_user,
    password: v.power_pass,
    kg: v.k_g,
    protocol: v.power_driver as IpmiProtocol,
    cipherSuite: v.cipher_suite_id,
    privilege: v.privilege_level as IpmiPrivilege,
    workarounds: splitList(v.workaround_flags),
    bootType: v.power_boot_type as IpmiSettings['bootType'],
    offMode: v.power_off_mode as IpmiSettings['offMode'],
  };
}
