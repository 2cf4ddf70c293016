import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinScript } from './builtin.catalogue';
import { buildScriptsIndex, buildScriptsTarball, renderScriptsIndex, tarballEntry, type TarballScript } from './maas-scripts.tarball';
import { writeTar } from './tar.writer';

const smartctl = '#!/bin/sh\nsmartctl -a "$1"\n';
const scripts: TarballScript[] = [
  {
    scriptType: 'testing',
    name: 'smartctl-validate',
    content: smartctl,
    scriptResultId: 12,
    scriptVersionId: 3,
    timeoutSeconds: 300,
    parallel: 'instance',
    hardwareType: 'storage',
    parameters: { storage: { type: 'storage', required: true, value: { id: 5, name: 'sdb', id_path: '/dev/disk/by-id/wwn-0x2', model: 'QEMU HARDDISK', serial: 'QM2' } } },
    default: true,
    tags: ['commissioning', 'storage'],
  },
  {
    scriptType: 'testing',
    name: 'smartctl-validate',
    content: smartctl,
    scriptResultId: 11,
    scriptVersionId: 3,
    timeoutSeconds: 300,
    parallel: 'instance',
    hardwareType: 'storage',
    parameters: { storage: { type: 'storage', required: true, value: { id: 4, name: 'sda', id_path: '/dev/disk/by-id/wwn-0x1', model: 'QEMU HARDDISK', serial: 'QM1' } } },
    default: true,
    tags: ['commissioning', 'storage'],
  },
  {
    scriptType: 'commissioning',
    name: '50-maas-01-commissioning',
    content: '#!/usr/bin/env python3\nprint("{}")\n',
    scriptResultId: 10,
    scriptVersionId: 2,
    timeoutSeconds: 0,
    parallel: 'disabled',
    hardwareType: 'node',
    default: true,
    hasStarted: true,
    previousOutput: { combined: Buffer.from('partial\n'), stdout: Buffer.from('partial\n') },
  },
  {
    scriptType: 'testing',
    name: 'fio',
    content: '#!/bin/sh\nfio "$@"\n',
    scriptResultId: 13,
    scriptVersionId: 9,
    timeoutSeconds: 4800,
    parallel: 'disabled',
    hardwareType: 'storage',
    packages: { apt: ['fio'], snap: [], url: [] },
    forHardware: [],
  },
];

describe('the maas-scripts tarball', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-tar-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is read back by the system tar with MAAS layout, modes and index.json', () => {
    const tar = buildScriptsTarball(scripts);
    writeFileSync(join(dir, 'maas-scripts.tar'), tar);
    const listing = execFileSync('tar', ['-tvf', join(dir, 'maas-scripts.tar')], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => {
        const f = l.split(/\s+/);
        return `${f[0]} ${f[1]} ${f[f.length - 1]}`;
      });
    expect(listing).toEqual([
      '-rw-r--r-- root/root index.json',
      '-rwxr-xr-x root/root commissioning/50-maas-01-commissioning',
      '-rw-r--r-- root/root out/50-maas-01-commissioning.10',
      '-rw-r--r-- root/root out/50-maas-01-commissioning.10.out',
      '-rwxr-xr-x root/root testing/fio',
      '-rwxr-xr-x root/root testing/smartctl-validate',
    ]);
    execFileSync('tar', ['-xf', join(dir, 'maas-scripts.tar'), '-C', dir]);
    expect(readFileSync(join(dir, 'testing/smartctl-validate'), 'utf8')).toBe(smartctl);
    expect(statSync(join(dir, 'testing/smartctl-validate')).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(dir, 'out/50-maas-01-commissioning.10'), 'utf8')).toBe('partial\n');

    const indexText = readFileSync(join(dir, 'index.json'), 'utf8');
    expect(indexText).toContain('"timeout_seconds":300.0');
    expect(indexText).toContain('"timeout_seconds":0.0');
    const index = JSON.parse(indexText);
    expect(Object.keys(index)).toEqual(['1.0']);
    expect(Object.keys(index['1.0'])).toEqual(['commissioning_scripts', 'testing_scripts']);
    expect(index['1.0'].commissioning_scripts).toEqual([
      {
        name: '50-maas-01-commissioning',
        path: 'commissioning/50-maas-01-commissioning',
        script_result_id: 10,
        script_version_id: 2,
        timeout_seconds: 0,
        parallel: 0,
        hardware_type: 0,
        parameters: {},
        packages: {},
        for_hardware: [],
        apply_configured_networking: false,
        has_started: true,
        has_finished: false,
        default: true,
        tags: [],
      },
    ]);
    // Sorted by name, then result id; one entry per storage device, one file per script.
    const testing = index['1.0'].testing_scripts as { name: string; script_result_id: number; parameters: Record<string, { value: { name: string } }> }[];
    expect(testing.map((t) => [t.name, t.script_result_id])).toEqual([
      ['fio', 13],
      ['smartctl-validate', 11],
      ['smartctl-validate', 12],
    ]);
    expect(testing[1]).toMatchObject({ path: 'testing/smartctl-validate', parallel: 1, hardware_type: 3, timeout_seconds: 300, tags: ['commissioning', 'storage'] });
    expect(testing[1]?.parameters['storage']).toEqual({ type: 'storage', required: true, value: { id: 4, name: 'sda', id_path: '/dev/disk/by-id/wwn-0x1', model: 'QEMU HARDDISK', serial: 'QM1' } });
    expect(testing[0]).toMatchObject({ packages: { apt: ['fio'] }, timeout_seconds: 4800 });
  });

  it('is deterministic: same input, same bytes, whatever the input order', () => {
    const a = buildScriptsTarball(scripts);
    const b = buildScriptsTarball([...scripts].reverse());
    expect(Buffer.compare(a, b)).toBe(0);
    expect(a.length % 512).toBe(0);
  });

  it('leaves out ids in anonymous enlistment tars and empty sets in index.json', () => {
    const index = buildScriptsIndex([{ scriptType: 'commissioning', name: '30-maas-01-bmc-config', content: '#!/bin/sh\n', timeoutSeconds: 300, parallel: 'disabled', hardwareType: 'node' }]);
    expect(index['1.0']).toEqual({
      commissioning_scripts: [expect.not.objectContaining({ script_result_id: expect.anything() })],
    });
    expect(renderScriptsIndex(index)).toMatch(/^\{"1\.0":\{"commissioning_scripts":\[\{"name":"30-maas-01-bmc-config","path":"commissioning\/30-maas-01-bmc-config","timeout_seconds":300\.0,/);
  });

  it('refuses two texts for one script file', () => {
    const [first] = scripts;
    expect(() => buildScriptsTarball([first as TarballScript, { ...(first as TarballScript), scriptResultId: 99, content: '#!/bin/sh\n' }])).toThrow(/two different texts/);
  });

  it('writes long paths that GNU tar reads back (ustar prefix and PAX)', () => {
    const long = `testing/${'x'.repeat(120)}`;
    const veryLong = `${'d'.repeat(170)}/${'y'.repeat(120)}`;
    writeFileSync(join(dir, 't.tar'), writeTar([
      { path: long, data: Buffer.from('a'), mode: 0o644 },
      { path: veryLong, data: Buffer.from('b'), mode: 0o644 },
    ]));
    expect(execFileSync('tar', ['-tf', join(dir, 't.tar')], { encoding: 'utf8' }).trim().split('\n')).toEqual([long, veryLong]);
  });

  it('makes entries from stored scripts, with chosen parameter values or the defaults', () => {
    const smart = builtinScript('smartctl-validate');
    const bmc = builtinScript('30-maas-01-bmc-config');
    if (!smart || !bmc) throw new Error('missing built-ins');
    const disk = { id: 4, name: 'sda', id_path: '/dev/disk/by-id/wwn-0x1', model: 'M', serial: 'S' };
    const index = buildScriptsIndex([
      tarballEntry(smart, { scriptResultId: 7, scriptVersionId: 2, parameterValues: { storage: disk }, default: true }),
      tarballEntry(bmc, { scriptResultId: 8, scriptVersionId: 3, default: true, parameterValues: { maas_auto_ipmi_user: 'kiln' } }),
    ]);
    expect(index['1.0'].testing_scripts?.[0]).toMatchObject({
      name: 'smartctl-validate',
      script_result_id: 7,
      timeout_seconds: 300,
      parallel: 1,
      hardware_type: 3,
      default: true,
      tags: ['commissioning', 'storage'],
      parameters: { storage: { type: 'storage', required: true, argument_format: '--storage={path}', value: disk } },
    });
    const params = index['1.0'].commissioning_scripts?.[0]?.parameters ?? {};
    expect(params['maas_auto_ipmi_user']?.value).toBe('kiln');
    expect(params['maas_auto_ipmi_user_privilege_level']?.value).toBe('ADMIN');
    expect(params['maas_auto_ipmi_user_password']?.value).toBe('');
  });
});
