import { toYaml } from './yaml.writer';

describe('toYaml', () => {
  it('writes block style with sorted keys, lists at their key, and one-line empty collections', () => {
    expect(
      toYaml({
        storage: { version: 1, config: [{ type: 'disk', id: 'sda', devices: ['a', 'b'] }, { id: 'x' }] },
        empty: [],
        none: {},
        skipped: undefined,
        nested: [[1, 2], []],
      }),
    ).toBe(
      [
        'empty: []',
        'nested:',
        '-',
        '  - 1',
        '  - 2',
        '- []',
        'none: {}',
        'storage:',
        '  config:',
        '  - devices:',
        '    - a',
        '    - b',
        '    id: sda',
        '    type: disk',
        '  - id: x',
        '  version: 1',
        '',
      ].join('\n'),
    );
  });

  it('quotes every string a YAML 1.1 reader could take for something else', () => {
    const doc = toYaml({
      mac: '52:54:00:12:34:56',
      size: '536870912B',
      yes: 'yes',
      off: 'Off',
      nul: 'null',
      empty: '',
      colon: 'a: b',
      path: '/boot/efi',
      plain: 'linux-generic',
      t: true,
      n: null,
      num: 1500,
    });
    expect(doc).toBe(
      [
        'colon: "a: b"',
        'empty: ""',
        'mac: "52:54:00:12:34:56"',
        '"n": null',
        'nul: "null"',
        'num: 1500',
        '"off": "Off"',
        'path: /boot/efi',
        'plain: linux-generic',
        'size: "536870912B"',
        't: true',
        '"yes": "yes"',
        '',
      ].join('\n'),
    );
  });
});
