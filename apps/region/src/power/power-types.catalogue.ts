/**
 * The power drivers a region knows, with MAAS's parameter names, so that the region can validate
 * power parameters, show them in describe_power_types and know which are secret. The drivers
 * themselves run on racks.
 */
export type FieldType = 'string' | 'mac_address' | 'choice' | 'multiple_choice' | 'password';

export interface PowerField {
  name: string;
  label: string;
  field_type: FieldType;
  required: boolean;
  scope: 'bmc' | 'node';
  choices: [string, string][];
  default: string;
  secret: boolean;
}

export interface PowerTypeDef {
  name: string;
  description: string;
  chassis: boolean;
  can_probe: boolean;
  queryable: boolean;
  fields: PowerField[];
}

function f(
  name: string,
  label: string,
  opts: Partial<Omit<PowerField, 'name' | 'label'>> = {},
): PowerField {
  const secret = opts.secret ?? opts.field_type === 'password';
  return {
    name,
    label,
    field_type: opts.field_type ?? 'string',
    required: opts.required ?? false,
    scope: opts.scope ?? 'bmc',
    choices: opts.choices ?? [],
    default: opts.default ?? '',
    secret,
  };
}

export const POWER_TYPES: PowerTypeDef[] = [
  {
    name: 'ipmi',
    description: 'IPMI',
    chassis: false,
    can_probe: false,
    queryable: true,
    fields: [
      f('power_driver', 'Power driver', {
        field_type: 'choice',
        choices: [
          ['LAN', 'LAN [IPMI 1.5]'],
          ['LAN_2_0', 'LAN_2_0 [IPMI 2.0]'],
        ],
        default: 'LAN_2_0',
        required: true,
      }),
      f('power_boot_type', 'Power boot type', {
        field_type: 'choice',
        choices: [
          ['auto', 'Automatic'],
          ['legacy', 'Legacy boot'],
          ['efi', 'EFI boot'],
        ],
        default: 'auto',
      }),
      f('power_address', 'IP address', { required: true }),
      f('power_user', 'Power user'),
      f('power_pass', 'Power password', { field_type: 'password' }),
      f('k_g', 'K_g BMC key', { field_type: 'password' }),
      f('cipher_suite_id', 'Cipher Suite ID', {
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
      f('privilege_level', 'Privilege Level', {
        field_type: 'choice',
        choices: [
          ['USER', 'User'],
          ['OPERATOR', 'Operator'],
          ['ADMIN', 'Administrator'],
        ],
        default: 'OPERATOR',
      }),
      f('workaround_flags', 'Workaround Flags', {
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
      f('mac_address', 'Power MAC', { field_type: 'mac_address' }),
      f('power_off_mode', 'Power off mode', {
        field_type: 'choice',
        choices: [
          ['soft', 'Soft power off'],
          ['hard', 'Hard power off'],
        ],
        default: 'hard',
      }),
    ],
  },
  {
    name: 'redfish',
    description: 'Redfish',
    chassis: false,
    can_probe: false,
    queryable: true,
    fields: [
      f('power_address', 'Redfish address', { required: true }),
      f('power_user', 'Redfish user', { required: true }),
      f('power_pass', 'Redfish password', { field_type: 'password', required: true }),
      f('node_id', 'Node ID', { scope: 'node' }),
    ],
  },
  {
    name: 'virsh',
    description: 'Virsh (virtual systems)',
    chassis: true,
    can_probe: true,
    queryable: true,
    fields: [
      f('power_address', 'Address', { required: true }),
      f('power_pass', 'Password (optional)', { field_type: 'password' }),
      f('power_id', 'Virsh VM ID', { scope: 'node', required: true }),
    ],
  },
  {
    name: 'webhook',
    description: 'Webhook',
    chassis: false,
    can_probe: false,
    queryable: true,
    fields: [
      f('power_on_uri', "URI to power on the node", { required: true }),
      f('power_off_uri', 'URI to power off the node', { required: true }),
      f('power_query_uri', 'URI to query the nodes power status', { required: true }),
      f('power_on_regex', 'Regex to confirm the node is on', { default: 'status.*\\:.*running' }),
      f('power_off_regex', 'Regex to confirm the node is off', { default: 'status.*\\:.*stopped' }),
      f('power_user', 'Power user'),
      f('power_pass', 'Power password', { field_type: 'password' }),
      f('power_token', 'Power token, will be used in place of power_user and power_pass', { field_type: 'password' }),
      f('power_verify_ssl', 'Verify SSL connections with system CA certificates', {
        field_type: 'choice',
        choices: [
          ['n', 'No'],
          ['y', 'Yes'],
        ],
        default: 'n',
      }),
    ],
  },
  { name: 'manual', description: 'Manual', chassis: false, can_probe: false, queryable: false, fields: [] },
];

const BY_NAME = new Map(POWER_TYPES.map((p) => [p.name, p]));

export function powerType(name: string): PowerTypeDef | undefined {
  return BY_NAME.get(name);
}

export function isSecretField(powerTypeName: string, field: string): boolean {
  return !!BY_NAME.get(powerTypeName)?.fields.find((x) => x.name === field && x.secret);
}

/** The view describe_power_types gives clients. */
export function describePowerTypes() {
  return POWER_TYPES.map((p) => ({
    driver_type: 'power',
    name: p.name,
    description: p.description,
    chassis: p.chassis,
    can_probe: p.can_probe,
    queryable: p.queryable,
    fields: p.fields.map(({ secret: _s, ...rest }) => rest),
    missing_packages: [],
  }));
}

/**
 * Checks parameters against the driver's schema. Returns field errors MAAS-style
 * ({"power_parameters": [...]}) or the completed parameters (defaults filled in).
 */
export function validatePowerParameters(
  type: string,
  params: Record<string, string>,
  skipCheck: boolean,
): { ok: true; params: Record<string, string> } | { ok: false; errors: Record<string, string[]> } {
  if (type === '') return { ok: true, params: {} };
  const def = BY_NAME.get(type);
  if (!def) {
    return {
      ok: false,
      errors: {
        power_type: [
          `Select a valid choice. ${type} is not one of the available choices (${POWER_TYPES.map((p) => p.name).join(', ')}).`,
        ],
      },
    };
  }
  if (skipCheck) return { ok: true, params: { ...params } };
  const errors: string[] = [];
  const known = new Set(def.fields.map((x) => x.name));
  const unknown = Object.keys(params).filter((k) => !known.has(k));
  if (unknown.length) errors.push(`Unknown parameter(s) for power type '${type}': ${unknown.sort().join(', ')}.`);
  const out: Record<string, string> = {};
  for (const field of def.fields) {
    const v = params[field.name] ?? field.default;
    if (field.required && !v) errors.push(`${field.label} (${field.name}) is required.`);
    if (v && field.field_type === 'choice' && !field.choices.some(([c]) => c === v)) {
      errors.push(`${field.name}: "${v}" is not one of ${field.choices.map(([c]) => `"${c}"`).join(', ')}.`);
    }
    if (v && field.field_type === 'mac_address' && !/^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i.test(v)) {
      errors.push(`${field.name}: "${v}" is not a MAC address.`);
    }
    out[field.name] = v;
  }
  return errors.length ? { ok: false, errors: { power_parameters: errors } } : { ok: true, params: out };
}
