import { capturedLogger } from './testing/captured.logger';
import { BadInputLog, TokenBucket } from './bad-input.limiter';

describe('BadInputLog', () => {
  it('counts every occurrence and logs each kind once per interval, with the number suppressed', () => {
    let now = 1_000;
    const { log, lines } = capturedLogger();
    const bad = new BadInputLog(log, { intervalMs: 60_000, now: () => now });
    for (let i = 0; i < 100; i++) bad.note('malformed:truncated', { client: '10.0.0.1:1000' });
    bad.note('oversized', { bytes: 9000 });
    expect(bad.snapshot()).toEqual({ 'malformed:truncated': 100, oversized: 1 });
    expect(lines.map((l) => [l.kind, l.count, l.suppressed])).toEqual([
      ['malformed:truncated', 1, 0],
      ['oversized', 1, 0],
    ]);
    now += 60_000;
    bad.note('malformed:truncated', {});
    expect(lines.at(-1)).toMatchObject({ kind: 'malformed:truncated', count: 101, suppressed: 99, level: 40 });
    expect(bad.count('malformed:truncated')).toBe(101);
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then the rate', () => {
    let now = 0;
    const b = new TokenBucket(10, 5, () => now);
    const burst = Array.from({ length: 8 }, () => b.take());
    expect(burst.filter(Boolean).length).toBe(5);
    now += 100; // one token per 100 ms
    expect(b.take()).toBe(true);
    expect(b.take()).toBe(false);
  });
});
