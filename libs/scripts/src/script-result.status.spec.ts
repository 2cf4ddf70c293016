import { parseResultYaml } from './result-yaml.parser';
import { SCRIPT_STATUS_CODES, classifyUploadedFile, nextScriptStatus, redactParameters } from './script-result.status';

describe('classifyUploadedFile', () => {
  it.each([
    ['hello', { script: 'hello', kind: 'combined' }],
    ['hello.out', { script: 'hello', kind: 'stdout' }],
    ['hello.err', { script: 'hello', kind: 'stderr' }],
    ['hello.yaml', { script: 'hello', kind: 'result' }],
    ['50-maas-01-commissioning.out', { script: '50-maas-01-commissioning', kind: 'stdout' }],
    ['.out', { script: '.out', kind: 'combined' }],
  ])('%s', (part, expected) => {
    expect(classifyUploadedFile(part)).toEqual(expected);
  });
});

describe('nextScriptStatus', () => {
  const yaml = (text: string) => {
    const r = parseResultYaml(text);
    if (!r.ok) throw new Error('bad yaml');
    return r.value;
  };

  it('follows the runner through a script', () => {
    expect(nextScriptStatus({ signal: 'WORKING', current: 'pending' })).toBe('running');
    expect(nextScriptStatus({ signal: 'INSTALLING', current: 'running' })).toBe('installing');
    expect(nextScriptStatus({ signal: 'WORKING', exitStatus: 0, current: 'running' })).toBe('passed');
    expect(nextScriptStatus({ signal: 'WORKING', exitStatus: 3, current: 'running' })).toBe('failed');
    expect(nextScriptStatus({ signal: 'TIMEDOUT', exitStatus: 124, current: 'running' })).toBe('timedout');
  });

  it('fails the phase a script was in', () => {
    expect(nextScriptStatus({ signal: 'WORKING', exitStatus: 100, current: 'installing' })).toBe('failed_installing');
    expect(nextScriptStatus({ signal: 'WORKING', exitStatus: 1, current: 'applying_netconf' })).toBe('failed_applying_netconf');
  });

  it("lets the result YAML's status have the last word", () => {
    expect(nextScriptStatus({ signal: 'WORKING', exitStatus: 0, current: 'running', resultYaml: yaml('status: degraded\n') })).toBe('degraded');
    expect(nextScriptStatus({ signal: 'WORKING', exitStatus: 1, current: 'running', resultYaml: yaml('status: skipped\n') })).toBe('skipped');
    expect(nextScriptStatus({ signal: 'WORKING', exitStatus: 1, current: 'running', resultYaml: yaml('results: {a: 1}\n') })).toBe('failed');
    expect(nextScriptStatus({ signal: 'WORKING', exitStatus: 0, current: 'running', resultYaml: null })).toBe('passed');
  });

  it('uses the wire numbers of §1.2', () => {
    expect(SCRIPT_STATUS_CODES).toMatchObject({ pending: 0, running: 1, passed: 2, failed: 3, timedout: 4, aborted: 5, degraded: 6, skipped: 9 });
  });
});

describe('redactParameters', () => {
  it('hides password values only', () => {
    expect(
      redactParameters({
        user: { type: 'string', value: 'maas' },
        pw: { type: 'password', value: 's3cret' },
        unset: { type: 'password' },
      }),
    ).toEqual({ user: { type: 'string', value: 'maas' }, pw: { type: 'password', value: 'REDACTED' }, unset: { type: 'password' } });
  });
});
