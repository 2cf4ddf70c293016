import { POWER_TYPES, describePowerTypes, isSecretField, powerType, redactPowerParameters, secretFields, validatePowerParameters } from './power-types.catalogue';

/** Parameter names by power type, from MAAS (reference/maas-api.md §2.15 and the drivers' settings). */
const MAAS_NAMES: Record<string, string[]> = {
  ipmi: [
    'power_driver',
    'power_boot_type',
    'power_address',
    'power_user',
    'power_pass',
    'k_g',
    'cipher_suite_id',
    'privilege_level',
    'workaround_flags',
    'mac_address',
    'power_off_mode',
  ],
  redfish: ['power_address', 'power_user', 'power_pass', 'node_id'],
  virsh: ['power_address', 'power_pass', 'power_id'],
  webhook: [
    'power_on_uri',
    'power_off_uri',
    'power_query_uri',
    'power_on_regex',
    'power_off_regex',
    'power_user',
    'power_pass',
    'power_token',
    'power_verify_ssl',
  ],
  manual: [],
};

describe('power-type catalogue', () => {
  it('uses MAAS’s power types and parameter names, in MAAS’s order', () => {
    expect(Object.fromEntries(POWER_TYPES.map((p) => [p.name, p.fields.map((f) => f.name)]))).toEqual(MAAS_NAMES);
  });

  it('has the describe_power_types shape, with MAAS’s flags', () => {
    const d = describePowerTypes();
    for (const p of d) {
      expect(Object.keys(p).sort()).toEqual(['can_probe', 'chassis', 'description', 'driver_type', 'fields', 'missing_packages', 'name', 'queryable']);
      for (const f of p.fields) {
        expect(Object.keys(f).sort()).toEqual(['choices', 'default', 'field_type', 'label', 'name', 'required', 'scope']);
      }
    }
    expect(d.map((p) => [p.name, p.chassis, p.can_probe, p.queryable])).toEqual([
      ['ipmi', false, false, true],
      ['redfish', true, false, true],
      ['virsh', true, true, true],
      ['webhook', false, false, true],
      ['manual', false, false, false],
    ]);
    const ipmi = powerType('ipmi')!;
    expect(ipmi.fields.find((f) => f.name === 'cipher_suite_id')).toMatchObject({ default: '3', field_type: 'choice' });
    expect(ipmi.fields.find((f) => f.name === 'privilege_level')).toMatchObject({ default: 'OPERATOR' });
    expect(ipmi.fields.find((f) => f.name === 'mac_address')).toMatchObject({ scope: 'node' });
    expect(powerType('virsh')!.fields.find((f) => f.name === 'power_id')).toMatchObject({ scope: 'node', required: true });
  });

  it('knows which fields are secret', () => {
    expect(secretFields('ipmi')).toEqual(['power_pass', 'k_g']);
    expect(secretFields('webhook')).toEqual(['power_pass', 'power_token']);
    expect(isSecretField('redfish', 'power_pass')).toBe(true);
    expect(isSecretField('redfish', 'power_user')).toBe(false);
    expect(redactPowerParameters('ipmi', { power_address: '10.0.0.1', power_pass: 'x', k_g: '' })).toEqual({ power_address: '10.0.0.1', power_pass: '********', k_g: '' });
  });

  it('validates parameters MAAS-style and fills defaults', () => {
    expect(validatePowerParameters('ipmi', { power_address: '10.0.0.1' }, false)).toEqual({
      ok: true,
      params: expect.objectContaining({ power_address: '10.0.0.1', power_driver: 'LAN_2_0', cipher_suite_id: '3', privilege_level: 'OPERATOR', power_off_mode: 'hard' }),
    });
    expect(validatePowerParameters('ipmi', { power_address: '10.0.0.1', privilege_level: 'ROOT', bogus: '1' }, false)).toEqual({
      ok: false,
      errors: { power_parameters: ["Unknown parameter(s) for power type 'ipmi': bogus.", 'privilege_level: "ROOT" is not one of "USER", "OPERATOR", "ADMIN".'] },
    });
    expect(validatePowerParameters('redfish', {}, false)).toMatchObject({ ok: false, errors: { power_parameters: expect.arrayContaining(['Redfish address (power_address) is required.']) } });
    expect(validatePowerParameters('amt', {}, false)).toMatchObject({ ok: false, errors: { power_type: [expect.stringMatching(/amt is not one of the available choices/)] } });
    expect(validatePowerParameters('', { x: '1' }, false)).toEqual({ ok: true, params: {} });
    expect(validatePowerParameters('ipmi', { x: '1' }, true)).toEqual({ ok: true, params: { x: '1' } });
    expect(validatePowerParameters('ipmi', { power_address: 'h', workaround_flags: 'opensesspriv,idzero' }, false)).toMatchObject({ ok: true });
    expect(validatePowerParameters('ipmi', { power_address: 'h', workaround_flags: 'magic' }, false)).toMatchObject({ ok: false });
    // What the driver itself would refuse at power time is refused when saved.
    expect(validatePowerParameters('ipmi', { power_address: '10.0.0.1,10.0.0.2' }, false)).toEqual({
      ok: false,
      errors: { power_parameters: ['invalid ipmi power parameters: power_address "10.0.0.1,10.0.0.2" is not a host or host:port.'] },
    });
    expect(validatePowerParameters('ipmi', { power_address: 'bmc:99999' }, false)).toMatchObject({ ok: false });
    expect(validatePowerParameters('redfish', { power_address: 'https://[nope', power_user: 'u', power_pass: 'p' }, false)).toMatchObject({ ok: false });
    expect(validatePowerParameters('ipmi', { power_address: '[fe80::1]:623' }, false)).toMatchObject({ ok: true });
  });
});
