import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_DIR, builtinScript, builtinScripts } from './builtin.catalogue';

// The names of reference maas-api.md §5.5, by script type.
const COMMISSIONING = [
  '20-maas-01-install-lldpd',
  '20-maas-02-dhcp-unconfigured-ifaces',
  '20-maas-03-machine-resources',
  '30-maas-01-bmc-config',
  '40-maas-01-machine-config-hints',
  '50-maas-01-commissioning',
  'maas-capture-lldpd',
  'maas-get-fruid-api-data',
  'maas-kernel-cmdline',
  'maas-list-modaliases',
  'maas-lshw',
  'maas-serial-ports',
  'maas-support-info',
];
const TESTING = [
  '7z',
  'badblocks',
  'badblocks-destructive',
  'base-connectivity',
  'fio',
  'gateway-connectivity',
  'internet-connectivity',
  'memtester',
  'ntp',
  'rack-controller-connectivity',
  'smartctl-conveyance',
  'smartctl-long',
  'smartctl-short',
  'smartctl-validate',
  'stress-ng-cpu-long',
  'stress-ng-cpu-short',
  'stress-ng-memory-long',
  'stress-ng-memory-short',
];

describe('builtinScripts()', () => {
  const all = builtinScripts();
  const byName = new Map(all.map((s) => [s.name, s]));

  it("holds exactly MAAS's built-in script names, each with the right script type", () => {
    const names = (type: string) => all.filter((s) => s.metadata.scriptType === type).map((s) => s.name).sort();
    expect(names('commissioning')).toEqual(COMMISSIONING);
    expect(names('testing')).toEqual(TESTING);
    expect(names('deployment')).toEqual(['50-curtin-install']);
    expect(names('release')).toEqual(['wipe-disks']);
    expect(all.map((s) => s.name)).toEqual([...all.map((s) => s.name)].sort());
  });

  it('gives each script a title, a description and an executable file', () => {
    for (const s of all) {
      expect(s.metadata.title).toBeTruthy();
      expect(s.metadata.description).toBeTruthy();
      expect(statSync(join(BUILTIN_DIR, s.name)).mode & 0o111).toBe(0o111);
    }
  });

  it('is syntactically valid sh or python3', () => {
    for (const s of all) {
      const shebang = s.text.split('\n')[0] ?? '';
      const file = join(BUILTIN_DIR, s.name);
      const r = shebang.includes('python3')
        ? spawnSync('python3', ['-c', 'import ast,sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])', file], { encoding: 'utf8' })
        : spawnSync('sh', ['-n', file], { encoding: 'utf8' });
      expect({ name: s.name, shebang: /^#!\/(usr\/bin\/env python3|bin\/sh)$/.test(shebang), status: r.status, stderr: r.stderr }).toEqual({
        name: s.name,
        shebang: true,
        status: 0,
        stderr: '',
      });
    }
  });

  it('carries the metadata MAAS gives its built-ins where selection depends on it', () => {
    expect(byName.get('30-maas-01-bmc-config')?.metadata).toMatchObject({ tags: ['bmc-config'], parallel: 'disabled' });
    expect(Object.keys(byName.get('30-maas-01-bmc-config')?.metadata.parameters ?? {}).sort()).toEqual([
      'maas_auto_ipmi_cipher_suite_id',
      'maas_auto_ipmi_k_g_bmc_key',
      'maas_auto_ipmi_user',
      'maas_auto_ipmi_user_password',
      'maas_auto_ipmi_user_privilege_level',
    ]);
    expect(byName.get('smartctl-validate')?.metadata).toMatchObject({ tags: ['commissioning', 'storage'], hardwareType: 'storage', parallel: 'instance' });
    expect(byName.get('smartctl-validate')?.metadata.parameters['storage']).toMatchObject({ type: 'storage', required: true });
    expect(byName.get('wipe-disks')?.metadata).toMatchObject({ scriptType: 'release', destructive: true });
    expect(Object.keys(byName.get('wipe-disks')?.metadata.parameters ?? {}).sort()).toEqual(['quick_erase', 'secure_erase']);
    for (const n of ['stress-ng-cpu-short', 'stress-ng-cpu-long', 'stress-ng-memory-short', 'stress-ng-memory-long']) {
      expect(byName.get(n)?.metadata.parameters['runtime']).toMatchObject({ type: 'runtime' });
    }
    for (const n of ['internet-connectivity', 'gateway-connectivity', 'rack-controller-connectivity', 'base-connectivity']) {
      expect(byName.get(n)?.metadata).toMatchObject({ hardwareType: 'network' });
      expect(byName.get(n)?.metadata.parameters['interface']).toMatchObject({ type: 'interface' });
    }
    for (const n of ['badblocks-destructive', 'fio']) expect(byName.get(n)?.metadata.destructive).toBe(true);
    expect(builtinScript('maas-lshw')?.text).toMatch(/lshw -xml/);
    expect(builtinScript('nope')).toBeUndefined();
  });
});

describe('the small commissioning built-ins on this host', () => {
  const run = (name: string) => spawnSync(join(BUILTIN_DIR, name), [], { encoding: 'utf8', timeout: 60_000 });

  it('maas-kernel-cmdline prints /proc/cmdline', () => {
    const r = run('maas-kernel-cmdline');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(spawnSync('cat', ['/proc/cmdline'], { encoding: 'utf8' }).stdout);
  });

  it('maas-list-modaliases prints sorted, unique modaliases', () => {
    const r = run('maas-list-modaliases');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines).toEqual([...new Set(lines)].sort());
    for (const l of lines) expect(l).toMatch(/^[a-z0-9_]+:/i);
  });

  it('maas-serial-ports, 40-maas-01-machine-config-hints and 20-maas-03-machine-resources print JSON', () => {
    const ports = JSON.parse(run('maas-serial-ports').stdout) as { name: string; path: string }[];
    for (const p of ports) expect(p.path).toBe(`/dev/${p.name}`);
    const hints = JSON.parse(run('40-maas-01-machine-config-hints').stdout) as Record<string, unknown>;
    expect(Object.keys(hints).sort()).toEqual(['hugepages_sizes_kb', 'iommu_groups', 'kvm_available', 'sriov_total_vfs', 'uefi', 'virtualization_extensions']);
    const raw = JSON.parse(run('20-maas-03-machine-resources').stdout) as { meminfo: string; lsblk: { blockdevices: unknown[] } };
    expect(raw.meminfo).toMatch(/^MemTotal:/);
    expect(Array.isArray(raw.lsblk.blockdevices)).toBe(true);
  });
});
