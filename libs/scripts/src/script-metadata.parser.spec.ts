import { defaultMetadata, parseScript, parseTimeout, validateScriptName } from './script-metadata.parser';

const script = (block: string, shebang = '#!/bin/bash -e') =>
  `${shebang}\n# --- Start MAAS 1.0 script metadata ---\n${block
    .trim()
    .split('\n')
    .map((l) => `# ${l}`)
    .join('\n')}\n# --- End MAAS 1.0 script metadata ---\necho hi\n`;

function ok(text: string) {
  const r = parseScript(text);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

function errors(text: string) {
  const r = parseScript(text);
  if (r.ok) throw new Error('expected errors');
  return r.errors;
}

describe('parseScript: the embedded metadata block', () => {
  it("reads MAAS's documented fio example with every kind of key", () => {
    const v = ok(
      script(`
name: fio
title: Storage benchmark
description: Run fio benchmarking against selected storage devices.
tags: storage
script_type: testing
hardware_type: storage
parallel: instance
timeout: 00:10:00
destructive: false
results:
  random_read:
    title: Random read
    description: Read speed when reading randomly from the disk.
  sequential_write:
    title: Sequential write
parameters:
  storage: {type: storage}
packages: {apt: fio}
`),
    );
    expect(v.hasMetadataBlock).toBe(true);
    expect(v.metadata).toEqual({
      ...defaultMetadata(),
      name: 'fio',
      title: 'Storage benchmark',
      description: 'Run fio benchmarking against selected storage devices.',
      tags: ['storage'],
      scriptType: 'testing',
      hardwareType: 'storage',
      parallel: 'instance',
      timeoutSeconds: 600,
      results: [
        { key: 'random_read', title: 'Random read', description: 'Read speed when reading randomly from the disk.' },
        { key: 'sequential_write', title: 'Sequential write' },
      ],
      parameters: { storage: { type: 'storage', required: true } },
      packages: { apt: ['fio'], snap: [], url: [] },
      definedKeys: ['description', 'destructive', 'hardware_type', 'name', 'packages', 'parallel', 'parameters', 'results', 'script_type', 'tags', 'timeout', 'title'],
    });
  });

  it('applies the defaults of §5.2 when there is no block', () => {
    const v = ok('#!/bin/sh\necho hello\n');
    expect(v).toEqual({ hasMetadataBlock: false, metadata: defaultMetadata() });
    expect(v.metadata).toMatchObject({ scriptType: 'testing', hardwareType: 'node', parallel: 'disabled', timeoutSeconds: 0, destructive: false, tags: [] });
  });

  it('accepts the aliases and numbers MAAS accepts', () => {
    expect(ok(script('script_type: commission\nhardware_type: disk\nparallel: enabled')).metadata).toMatchObject({ scriptType: 'commissioning', hardwareType: 'storage', parallel: 'any' });
    expect(ok(script('type: 4\nhardware_type: 5\nparallel: 1')).metadata).toMatchObject({ scriptType: 'deployment', hardwareType: 'gpu', parallel: 'instance' });
    expect(ok(script('script_type: test\nhardware_type: processor\nparallel: none')).metadata).toMatchObject({ scriptType: 'testing', hardwareType: 'cpu', parallel: 'disabled' });
    expect(ok(script('hardware_type: interface\nscript_type: release')).metadata).toMatchObject({ hardwareType: 'network', scriptType: 'release' });
  });

  it('reads tags as a comma string or a list, and for_hardware ids', () => {
    expect(ok(script('tags: a, b,c')).metadata.tags).toEqual(['a', 'b', 'c']);
    expect(ok(script('tags: [x, y]')).metadata.tags).toEqual(['x', 'y']);
    expect(ok(script('for_hardware: pci:8086:1528, modalias:pci:v000015B3*, system_vendor:HP')).metadata.forHardware).toEqual([
      'pci:8086:1528',
      'modalias:pci:v000015B3*',
      'system_vendor:HP',
    ]);
  });

  it('reads packages with snaps as names or mappings, and urls', () => {
    const md = ok(script('packages:\n  apt: [stress-ng, fio]\n  snap:\n    - core\n    - {name: lxd, channel: edge, mode: classic}\n  url: http://example.com/tool.deb')).metadata;
    expect(md.packages).toEqual({ apt: ['stress-ng', 'fio'], snap: [{ name: 'core' }, { name: 'lxd', channel: 'edge', mode: 'classic' }], url: ['http://example.com/tool.deb'] });
  });

  it('reads every parameter type with its MAAS defaults', () => {
    const md = ok(
      script(`
parameters:
  disk: {type: storage, argument_format: '--dev={path} --serial={serial}'}
  nic: {type: interface}
  runtime: {type: runtime, default: 600, min: 60, max: 3600}
  url: {type: url, allow_list: true, default: 'http://a,http://b'}
  mode: {type: choice, choices: [fast, [slow, Slow and careful]], default: fast}
  label: {type: string, min: 1, max: 8, default: abc, required: true}
  secret: {type: password}
  quick: {type: boolean, default: true}
`),
    ).metadata;
    expect(md.parameters).toEqual({
      disk: { type: 'storage', required: true, argument_format: '--dev={path} --serial={serial}' },
      nic: { type: 'interface', required: true },
      runtime: { type: 'runtime', required: true, default: 600, min: 60, max: 3600 },
      url: { type: 'url', required: false, allow_list: true, default: 'http://a,http://b' },
      mode: { type: 'choice', required: false, choices: [['fast', 'fast'], ['slow', 'Slow and careful']], default: 'fast' },
      label: { type: 'string', required: true, min: 1, max: 8, default: 'abc' },
      secret: { type: 'password', required: false },
      quick: { type: 'boolean', required: false, default: true },
    });
  });

  it('matches markers case-insensitively with any dashes and indentation, and ignores other versions', () => {
    const text = '#!/bin/sh\n  #-- start maas 1.0 SCRIPT METADATA ----\n# name: x\n#---END MAAS 1.0 script metadata -\n';
    expect(ok(text).metadata.name).toBe('x');
    const v2 = '#!/bin/sh\n# --- Start MAAS 2.0 script metadata ---\n# name: x\n# --- End MAAS 2.0 script metadata ---\n';
    expect(ok(v2).hasMetadataBlock).toBe(false);
  });

  it('keeps the indentation after "#" and tolerates blank lines', () => {
    const text = '#!/bin/sh\n# --- Start MAAS 1.0 script metadata ---\n# name: x\n\n# parameters:\n#   rt: {type: runtime}\n# --- End MAAS 1.0 script metadata ---\n';
    expect(ok(text).metadata.parameters).toEqual({ rt: { type: 'runtime', required: true } });
  });

  it('ignores a block that is not a mapping, and keys it does not know', () => {
    expect(ok(script('- a\n- b')).hasMetadataBlock).toBe(false);
    expect(ok(script('name: x\nflavour: vanilla')).metadata.definedKeys).toEqual(['name']);
  });
});

describe('parseScript: coded errors', () => {
  it('needs a shebang', () => {
    expect(errors('echo hi\n')).toEqual([{ code: 'MISSING_SHEBANG', line: 1, message: 'Must start with shebang.' }]);
  });

  it('needs "#" on every non-blank line of the block', () => {
    const text = '#!/bin/sh\n# --- Start MAAS 1.0 script metadata ---\n# name: x\ntitle: y\n# --- End MAAS 1.0 script metadata ---\n';
    expect(errors(text)).toEqual([{ code: 'MISSING_HASH', line: 4, message: 'Missing "#" on YAML line.' }]);
  });

  it('reports YAML that does not parse, and an unclosed block', () => {
    const [e] = errors(script('name: [x'));
    expect(e?.code).toBe('INVALID_YAML');
    expect(e?.message).toMatch(/^Invalid YAML: /);
    expect(errors(script('name: x\nname: y'))[0]?.code).toBe('INVALID_YAML');
    expect(errors('#!/bin/sh\n# --- Start MAAS 1.0 script metadata ---\n# name: x\n')).toEqual([
      { code: 'UNCLOSED_BLOCK', line: 2, message: 'The script metadata block has a start marker but no end marker.' },
    ]);
  });

  it.each([
    ['name: none', 'name'],
    ['name: "1234"', 'name'],
    ['name: "rm -rf"', 'name'],
    ['name: a;b', 'name'],
    ['name: [x]', 'name'],
    ['script_type: install', 'script_type'],
    ['script_type: 1', 'script_type'],
    ['hardware_type: toaster', 'hardware_type'],
    ['hardware_type: 6', 'hardware_type'],
    ['parallel: sometimes', 'parallel'],
    ['timeout: 5m', 'timeout'],
    ['timeout: "1:99:00"', 'timeout'],
    ['timeout: -3', 'timeout'],
    ['destructive: maybe', 'destructive'],
    ['may_reboot: [true]', 'may_reboot'],
    ['tags: {a: 1}', 'tags'],
    ['for_hardware: pci:xyz', 'for_hardware'],
    ['packages: [fio]', 'packages'],
    ['packages: {url: "file:///etc/passwd"}', 'packages.url'],
    ['packages: {snap: [{name: lxd, channel: nightly}]}', 'packages.snap.0'],
    ['results: 3', 'results'],
    ['results: {a: {unit: ms}}', 'results.a.unit'],
    ['parameters: [a]', 'parameters'],
    ['parameters: {p: {title: no type}}', 'parameters.p.type'],
    ['parameters: {p: {type: float}}', 'parameters.p.type'],
    ['parameters: {p: {type: storage, min: 1}}', 'parameters.p.min'],
    ['parameters: {p: {type: string, min: 5, max: 2}}', 'parameters.p.min'],
    ['parameters: {p: {type: choice}}', 'parameters.p.choices'],
    ['parameters: {p: {type: choice, choices: [a], default: b}}', 'parameters.p.default'],
    ['parameters: {p: {type: string, choices: [a]}}', 'parameters.p.choices'],
    ['parameters: {p: {type: string, allow_list: true}}', 'parameters.p.allow_list'],
    ['parameters: {p: {type: runtime, default: soon}}', 'parameters.p.default'],
    ['parameters: {p: {type: string, argument_format: "--p"}}', 'parameters.p.argument_format'],
    ['parameters: {p: {type: storage, argument_format: "--p={mac}"}}', 'parameters.p.argument_format'],
    ['parameters: {p: {type: string, colour: red}}', 'parameters.p.colour'],
    ['parameters: {p: {type: string, required: perhaps}}', 'parameters.p.required'],
  ])('%s is refused, naming %s', (block, key) => {
    const errs = errors(script(block));
    expect(errs.map((e) => e.key)).toContain(key);
    for (const e of errs) expect(['INVALID_VALUE', 'MISSING_VALUE', 'UNKNOWN_KEY']).toContain(e.code);
  });

  it('refuses type and script_type that disagree', () => {
    expect(errors(script('type: testing\nscript_type: commissioning'))).toContainEqual(expect.objectContaining({ code: 'CONFLICTING_KEYS', key: 'script_type' }));
    expect(ok(script('type: test\nscript_type: testing')).metadata.scriptType).toBe('testing');
  });

  it('collects every problem at once', () => {
    const errs = errors(script('name: none\ntimeout: never\nparallel: maybe'));
    expect(errs.map((e) => e.key).sort()).toEqual(['name', 'parallel', 'timeout']);
  });
});

describe('parseTimeout and validateScriptName', () => {
  it('reads seconds and H:MM:SS', () => {
    expect([parseTimeout(0), parseTimeout(90), parseTimeout('300'), parseTimeout('0:05:00'), parseTimeout('12:00:01')]).toEqual([0, 90, 300, 300, 43201]);
    // What PyYAML makes of unquoted colon numbers: base-60 integers.
    expect([parseTimeout('1:30'), parseTimeout('5:0:0')]).toEqual([90, 18000]);
    expect([parseTimeout(1.5), parseTimeout('1:60:00'), parseTimeout('1:2:3:4'), parseTimeout(':30')]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('accepts the built-in names', () => {
    for (const n of ['20-maas-01-install-lldpd', 'smartctl-validate', 'stress-ng-cpu-long', 'maas-support-info', '7z']) expect(validateScriptName(n)).toBeUndefined();
  });
});
