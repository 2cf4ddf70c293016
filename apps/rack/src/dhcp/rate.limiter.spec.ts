import { KeyedRateLimiter } from './rate.limiter';

describe('KeyedRateLimiter', () => {
  it('allows a burst, then the refill rate, per key', () => {
    const l = new KeyedRateLimiter(3, 2);
    const t = 1000;
    expect([1, 2, 3, 4].map(() => l.take('a', t))).toEqual([true, true, true, false]);
    expect(l.take('b', t)).toBe(true);
    expect(l.take('a', t + 499)).toBe(false);
    expect(l.take('a', t + 501)).toBe(true);
    expect(l.refused).toBe(2);
  });

  it('keeps memory bounded under a flood of new keys, and remembers keys that stay active', () => {
    const l = new KeyedRateLimiter(2, 0.001, 1000);
    l.take('busy', 0);
    l.take('busy', 0);
    for (let i = 0; i < 100_000; i++) {
      l.take(`flood-${i}`, 0);
      if (i % 100 === 0) l.take('busy', 0); // refused, but keeps 'busy' in the young generation
      expect(l.size).toBeLessThanOrEqual(1000);
    }
    expect(l.take('busy', 0)).toBe(false);
  });
});
