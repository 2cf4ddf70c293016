import { firstFreeAddress } from './free-address';

describe('firstFreeAddress', () => {
  const usable = { first: 1n, last: 10n };

  it('gives the first usable address when nothing is taken', () => {
    expect(firstFreeAddress(usable, [])).toBe(1n);
  });

  it('skips overlapping and unordered taken intervals', () => {
    expect(firstFreeAddress(usable, [[4n, 6n], [1n, 2n], [2n, 3n], [9n, 9n]])).toBe(7n);
    expect(firstFreeAddress(usable, [[3n, 5n]])).toBe(1n);
  });

  it('ignores intervals outside the usable range', () => {
    expect(firstFreeAddress(usable, [[0n, 0n], [20n, 30n], [1n, 1n]])).toBe(2n);
  });

  it('says null when every usable address is taken', () => {
    expect(firstFreeAddress(usable, [[1n, 5n], [6n, 10n]])).toBeNull();
    expect(firstFreeAddress(usable, [[0n, 100n]])).toBeNull();
  });
});
