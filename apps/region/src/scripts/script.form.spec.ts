import { applyScriptForm, defaultScriptFields } from './script.form';
import { formatDuration } from './script.names';

const yamlScript = (lines: string[]) => ['#!/bin/sh', '# --- Start MAAS 1.0 script metadata ---', ...lines.map((l) => `# ${l}`), '# --- End MAAS 1.0 script metadata ---', 'true', ''].join('\n');

describe('applyScriptForm (MAAS ScriptForm)', () => {
  it('fills a new script from its YAML, the request winning only where the YAML is silent or agrees', () => {
    const r = applyScriptForm(null, {
      fields: { description: 'from the request', tags: 'mine', timeout: '10', type: 'testing' },
      script: yamlScript(['name: smart', 'script_type: test', 'hardware_type: disk', 'tags: [a, b]', 'timeout: 600', 'parallel: instance']),
    });
    expect(r).toEqual({
      ok: true,
      comment: '',
      text: expect.any(String),
      fields: {
        ...defaultScriptFields(),
        name: 'smart',
        description: 'from the request',
        // A new script's tags and timeout: the request's, when it sends them.
        tags: ['mine'],
        timeoutSeconds: 10,
        scriptType: 2,
        hardwareType: 3,
        parallel: 1,
      },
    });
  });

  it('never lets an update take tags or timeout from the YAML, but takes its other keys', () => {
    const existing = { ...defaultScriptFields(), name: 'smart', tags: ['operator'], timeoutSeconds: 42, title: 'Old' };
    const r = applyScriptForm(existing, { fields: { comment: 'v2' }, script: yamlScript(['title: New', 'tags: [upstream]', 'timeout: 600']) });
    expect(r).toMatchObject({ ok: true, comment: 'v2', fields: { name: 'smart', title: 'New', tags: ['operator'], timeoutSeconds: 42 } });
  });

  it('reports each contradiction and each bad value on its own field', () => {
    const r = applyScriptForm(null, {
      fields: { name: 'other', type: 'commissioning', parallel: 'sometimes', may_reboot: 'perhaps' },
      script: yamlScript(['name: smart', 'script_type: testing']),
    });
    expect(r).toEqual({
      ok: false,
      errors: {
        name: ['May not override values defined in embedded YAML.'],
        script_type: ['May not override values defined in embedded YAML.'],
        parallel: ['Script parallel must be disabled, instance, or any.'],
        may_reboot: ['Must be a boolean (true or false).'],
      },
    });
  });

  it('lets a built-in script change its tags and timeout only', () => {
    const builtin = { ...defaultScriptFields(), name: 'memtester', isDefault: true };
    expect(applyScriptForm(builtin, { fields: { tags: 'x', timeout: '1:00:00' } })).toMatchObject({ ok: true, fields: { tags: ['x'], timeoutSeconds: 3600 } });
    expect(applyScriptForm(builtin, { fields: { tags: 'x', destructive: 'true' } })).toEqual({
      ok: false,
      errors: { destructive: ['Not allowed to change on default scripts.'] },
    });
  });

  it('formats durations as Python prints a timedelta', () => {
    expect([0, 59, 300, 3600, 86399, 86400, 2 * 86400 + 61].map(formatDuration)).toEqual([
      '0:00:00',
      '0:00:59',
      '0:05:00',
      '1:00:00',
      '23:59:59',
      '1 day, 0:00:00',
      '2 days, 0:01:01',
    ]);
  });
});
