import * as fc from 'fast-check';
import { normalizeMac } from './mac';

describe('normalizeMac', () => {
  it.each([
    ['aa:bb:cc:dd:ee:ff', 'aa:bb:cc:dd:ee:ff'],
    ['AA:BB:CC:DD:EE:FF', 'aa:bb:cc:dd:ee:ff'],
    ['aa-bb-cc-dd-ee-ff', 'aa:bb:cc:dd:ee:ff'],
    ['AA-bb-CC-dd-EE-ff', 'aa:bb:cc:dd:ee:ff'],
    ['aabb.ccdd.eeff', 'aa:bb:cc:dd:ee:ff'],
    ['AABB.CCDD.EEFF', 'aa:bb:cc:dd:ee:ff'],
    ['AABBCCDDEEFF', 'aa:bb:cc:dd:ee:ff'],
    ['001122334455', '00:11:22:33:44:55'],
    ['0:1:2:3:4:5', '00:01:02:03:04:05'],
    ['  52:54:00:12:34:56\n', '52:54:00:12:34:56'],
  ])('%p -> %p', (input, expected) => {
    expect(normalizeMac(input)).toBe(expected);
  });

  it.each([
    '',
    'aa:bb:cc:dd:ee',
    'aa:bb:cc:dd:ee:ff:00',
    'aa:bb-cc:dd:ee:ff',
    'aa:bb:cc:dd:ee:fg',
    'aabbccddeeff0',
    'aabb.ccdd.eef',
    'aab:bcc:dde:eff',
    'aa bb cc dd ee ff',
    'not a mac',
  ])('%p is rejected', (input) => {
    expect(normalizeMac(input)).toBeNull();
  });

  it('rejects non-strings', () => {
    expect(normalizeMac(undefined)).toBeNull();
    expect(normalizeMac(null)).toBeNull();
    expect(normalizeMac(0xaabbccddeeff)).toBeNull();
    expect(normalizeMac(['aa:bb:cc:dd:ee:ff'])).toBeNull();
  });

  it('normalises every spelling of a random MAC to the same value', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), fc.boolean(), (bytes, upper) => {
        const hex = Buffer.from(bytes).toString('hex');
        const canonical = hex.match(/../g)!.join(':');
        const c = (s: string) => (upper ? s.toUpperCase() : s);
        for (const spelling of [canonical, canonical.replace(/:/g, '-'), hex, `${hex.slice(0, 4)}.${hex.slice(4, 8)}.${hex.slice(8)}`]) {
          expect(normalizeMac(c(spelling))).toBe(canonical);
        }
      }),
    );
  });
});
