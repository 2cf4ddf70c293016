import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { forHardwareMatches, globToRegExp, modaliasPatterns } from './for-hardware.matcher';

const X710 = 'pci:v00008086d00001572sv00008086sd00000006bc02sc00i00';
const facts = {
  modaliases: [X710, 'usb:v0781p5581d0100dc00dsc00dp00ic08isc06ip50in00', 'dmi:bvnDellInc.:bvr2.8.1:svnDellInc.:pnPowerEdgeR640:'],
  hardwareInfo: { system_vendor: 'Dell Inc.', system_product: 'PowerEdge R640', mainboard_product: '0W23H8', cpu_model: 'Intel(R) Xeon(R)' },
};

describe('for_hardware matching', () => {
  it('matches hardware_info pairs exactly, and only system, mainboard, firmware and chassis keys', () => {
    expect(forHardwareMatches(['system_vendor:Dell Inc.'], facts)).toBe(true);
    expect(forHardwareMatches(['mainboard_product:0W23H8'], facts)).toBe(true);
    expect(forHardwareMatches(['system_vendor:Dell'], facts)).toBe(false);
    expect(forHardwareMatches(['cpu_model:Intel(R) Xeon(R)'], facts)).toBe(false);
  });

  it('matches pci: and usb: ids in either case, and modalias: globs', () => {
    expect(forHardwareMatches(['pci:8086:1572'], facts)).toBe(true);
    expect(forHardwareMatches(['pci:8086:157b'], facts)).toBe(false);
    expect(forHardwareMatches(['usb:0781:5581'], facts)).toBe(true);
    expect(forHardwareMatches(['modalias:pci:v00008086d*'], facts)).toBe(true);
    expect(forHardwareMatches(['modalias:dmi:*svnDellInc.:*'], facts)).toBe(true);
    expect(forHardwareMatches(['modalias:pci:v000014E4*'], facts)).toBe(false);
    expect(forHardwareMatches([], facts)).toBe(false);
  });

  it('ignores malformed pci: and usb: entries, as MAAS does', () => {
    expect(modaliasPatterns(['pci:8086', 'usb:1:2:3', 'pci:8086:1572'])).toEqual(['pci:v00008086d00001572sv*sd*bc*sc*i*']);
  });

  it('reads globs as fnmatch does', () => {
    expect(globToRegExp('a?c*').test('abcdef')).toBe(true);
    expect(globToRegExp('a.c').test('abc')).toBe(false);
    expect(globToRegExp('[!x]b').test('ab')).toBe(true);
    expect(globToRegExp('[!x]b').test('xb')).toBe(false);
    expect(globToRegExp('v[0-9]').test('v7')).toBe(true);
    expect(globToRegExp('(x)+').test('(x)+')).toBe(true);
  });

  it("matches this host's own modaliases", () => {
    const modaliases = readFileSync(join(__dirname, 'fixtures', 'debian-container-host.modaliases.txt'), 'utf8').split('\n').filter(Boolean);
    expect(forHardwareMatches(['modalias:acpi:PNP0303:'], { modaliases, hardwareInfo: {} })).toBe(true);
  });
});
