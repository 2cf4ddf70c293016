import { DomainError } from '../common/domain.error';
import { architectureFrom, boolField, powerParamsFrom, refuseRemovedOptions, setsPower } from './machine.fields';

function refusal(fn: () => unknown): { code: string; detail: unknown } | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e instanceof DomainError) return { code: e.code, detail: e.detail };
    throw e;
  }
}

describe('machine fields', () => {
  it('completes an architecture as MAAS stores it and refuses kernels in its place', () => {
    expect(architectureFrom('amd64', undefined)).toBe('amd64/generic');
    expect(architectureFrom('arm64', 'xgene')).toBe('arm64/xgene');
    expect(architectureFrom('amd64/generic', 'ignored')).toBe('amd64/generic');
    expect(architectureFrom(undefined, 'generic')).toBeNull();
    expect(architectureFrom('', undefined)).toBeNull();
    expect(refusal(() => architectureFrom('amd64', 'hwe-22.04'))).toEqual({
      code: 'INVALID',
      detail: { architecture: ['Subarchitecture cannot be a HWE or GA kernel; use min_hwe_kernel.'] },
    });
    expect(refusal(() => architectureFrom('AMD 64', undefined))).toEqual({ code: 'INVALID', detail: { architecture: ["'AMD 64/generic' is not a valid architecture."] } });
  });

  it('reads MAAS booleans, defaulting when absent or empty', () => {
    expect(boolField('deployed', undefined, true)).toBe(true);
    expect(boolField('deployed', '', false)).toBe(false);
    expect(boolField('deployed', 'True', false)).toBe(true);
    expect(boolField('deployed', 'off', true)).toBe(false);
    expect(refusal(() => boolField('deployed', 'maybe', false))).toEqual({ code: 'INVALID', detail: { deployed: ["'maybe' is not a boolean."] } });
  });

  it('merges power parameters from JSON and named fields, the fields winning', () => {
    expect(powerParamsFrom({ fields: [] })).toBeNull();
    expect(powerParamsFrom({ json: '{"power_address":"10.0.0.1","power_user":"a"}', fields: [['power_user', 'b']] })).toEqual({
      power_address: '10.0.0.1',
      power_user: 'b',
    });
    expect(powerParamsFrom({ json: '{"port": 623}', fields: [] })).toEqual({ port: '623' });
    for (const json of ['', '[1]', 'null', '{']) {
      expect(refusal(() => powerParamsFrom({ json, fields: [] }))).toEqual({ code: 'INVALID', detail: { power_parameters: ['Must be a JSON object.'] } });
    }
  });

  it('says whether a request sets power at all', () => {
    expect(setsPower({ fields: [] })).toBe(false);
    expect(setsPower({ type: '', fields: [] })).toBe(false);
    expect(setsPower({ type: 'ipmi', fields: [] })).toBe(true);
    expect(setsPower({ json: '{}', fields: [] })).toBe(true);
    expect(setsPower({ fields: [['power_address', '']] })).toBe(true);
  });

  it("refuses the options MAAS removed, with MAAS's words", () => {
    expect(refusal(() => refuseRemovedOptions({ installKvm: 'false', installRackd: undefined }))).toBeNull();
    expect(refusal(() => refuseRemovedOptions({ registerVmhost: 'true' }))).toEqual({
      code: 'INVALID',
      detail: 'Support for register_vmhost allocation parameter has been removed.',
    });
  });
});
